'use strict'
// Privacy and verification (issue 10, second pass): the integrity report, the right to be
// forgotten, listUsers, pending migrations, bulk creation, masked reads and the access log of
// reads; on every backend (SQLite temp files and PostgreSQL).
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { describe, test, after } = require('node:test')
const lib = require('interaction-store')
const { InteractionStore, maskInteraction, maskUser } = lib
const { backends, newInteraction, rejects, uniqueName, PASSWORD } = require('./helpers')

const items = (n, overrides = {}) =>
  Array.from({ length: n }, (_, i) => newInteraction({ title: `Bulk ${i}`, lead: 'Ana María López', ...overrides }))

test('maskInteraction and maskUser apply the core rule to plain values', async () => {
  const i = {
    id: 1, siteId: 2, title: 'T', interactionType: 'meeting', lead: '  Ana   María López ',
    startDatetime: new Date('2026-01-01T09:00:00Z'), endDatetime: new Date('2026-01-01T10:00:00Z'),
    timezone: 'UTC', location: 'Room 1', description: 'secret', notes: 'private', createdBy: 3,
    createdAt: new Date('2025-12-01T00:00:00Z'), updatedBy: null, updatedAt: null, deletedAt: null,
    deletedBy: null, version: 4, archivedAt: null,
  }
  const m = maskInteraction(i)
  // Built by hand without the `...Iso` strings: the Dates are read, and the result has both.
  const isos = {
    startDatetimeIso: '2026-01-01T09:00:00.000000Z', endDatetimeIso: '2026-01-01T10:00:00.000000Z',
    createdAtIso: '2025-12-01T00:00:00.000000Z', updatedAtIso: null, deletedAtIso: null, archivedAtIso: null,
  }
  assert.deepEqual(m, { ...i, ...isos, lead: 'A. M.', description: null, notes: null })
  assert.equal(i.notes, 'private') // the argument is not changed
  assert.equal(maskInteraction({ ...i, lead: '李 小龍' }).lead, '李. 小.')
  const u = { id: 7, username: 'ana_lopez', email: 'ana@example.com', isActive: true, lastLogin: null }
  assert.deepEqual(maskUser(u), { ...u, lastLoginIso: null, username: 'a***', email: 'a***@example.com' })
  // Not an Interaction / User: VALIDATION naming the field, as every other input.
  await rejects(() => maskInteraction({ ...i, title: 5 }), 'VALIDATION', 'title')
  await rejects(() => maskInteraction('x'), 'VALIDATION', 'interaction')
  await rejects(() => maskUser(), 'VALIDATION', 'user')
  const { title, ...noTitle } = i
  await rejects(() => maskInteraction(noTitle), 'VALIDATION', 'title')
})

for (const backend of backends) {
  describe(`privacy and verification on ${backend.name}`, () => {
    const urls = []
    const newDatabase = () => {
      const url = backend.newDatabase()
      urls.push(url)
      return url
    }
    after(() => {
      for (const url of urls) backend.dropDatabase(url)
    })

    async function world(options = {}) {
      const store = await InteractionStore.connect(newDatabase(), {
        migrate: true, minConnections: 0, maxConnections: 5, ...options,
      })
      const site = await store.createSite(uniqueName('site'))
      const admin = await store.createUser(uniqueName('admin'), `${uniqueName('a')}@example.com`, PASSWORD)
      const editor = await store.createUser(uniqueName('editor'), `${uniqueName('e')}@example.com`, PASSWORD)
      const viewer = await store.createUser(uniqueName('viewer'), `${uniqueName('v')}@example.com`, PASSWORD)
      await store.grantRole(admin.id, site.id, 'admin')
      await store.grantRole(editor.id, site.id, 'editor')
      await store.grantRole(viewer.id, site.id, 'viewer')
      const editorS = await store.sessionForUser(editor.id, site.id)
      const viewerS = await store.sessionForUser(viewer.id, site.id)
      return { store, site, admin, editor, viewer, editorS, viewerS }
    }

    test('verify: ok on a fresh store, a plain object computed by the core', async () => {
      const store = await InteractionStore.connect(newDatabase(), { migrate: true, minConnections: 0, maxConnections: 2 })
      try {
        const report = await store.verify()
        assert.equal(report.ok, true)
        assert.deepEqual(report.problems, [])
        assert.deepEqual(report.missingTables, [])
        assert.equal(report.schemaVersion, '1.3.0')
        assert.deepEqual(report.requiredVersion, { major: 1, minor: 3, patch: 0 })
        assert.deepEqual(report.migrations.map((m) => [m.id, m.state]), [[1, 'applied'], [2, 'applied'], [3, 'applied'], [4, 'applied']])
        assert.equal(report.migrations[3].name, 'lifecycle')
        assert.equal(report.migrations[3].version, '1.3.0')
        assert.deepEqual(report.counts, await store.counts())
        assert.ok(report.checks.length > 0)
        for (const c of report.checks) assert.equal(c.failing, 0, c.name)
        assert.ok(report.checks.some((c) => c.name === 'interactions_without_site' && c.description))
        const users = report.tables.find((t) => t.table === 'users')
        assert.equal(users.rows, 0)
        assert.match(users.digest, /^[0-9a-f]{64}$/)
        assert.deepEqual(await store.verify(), report) // unchanged database, equal report
        await store.createUser(uniqueName('u'), `${uniqueName('u')}@example.com`, PASSWORD)
        const later = await store.verify()
        assert.equal(later.ok, true)
        assert.notEqual(later.tables.find((t) => t.table === 'users').digest, users.digest)
      } finally {
        await store.close()
      }
    })

    test('verify and pendingMigrations on an empty database (checkSchema: false)', async () => {
      const url = newDatabase()
      const store = await InteractionStore.connect(url, { checkSchema: false, minConnections: 0, maxConnections: 2 })
      try {
        const pending = await store.pendingMigrations()
        assert.deepEqual(pending.map((m) => m.id), [1, 2, 3, 4])
        assert.equal(pending[3].name, 'lifecycle')
        assert.deepEqual(pending[3].version, { major: 1, minor: 3, patch: 0 })
        for (const m of pending) assert.ok(m.sql.length > 0)
        assert.match(pending[3].sql, /interactions_archive/)
        const report = await store.verify()
        assert.equal(report.ok, false)
        assert.ok(report.problems.length > 0)
        assert.equal(report.schemaVersion, null)
        assert.ok(report.missingTables.includes('users'))
        assert.ok(report.migrations.every((m) => m.state === 'pending'))
        assert.ok(report.checks.every((c) => c.failing === null))
        assert.deepEqual(await store.migrate(), pending.map((m) => m.version))
        assert.deepEqual(await store.pendingMigrations(), [])
        assert.equal((await store.verify()).ok, true)
      } finally {
        await store.close()
      }
    })

    test('anonymizeUser: the old username cannot log in, listUsers shows the tombstone', async () => {
      const { store, site, viewer, editorS, viewerS } = await world()
      try {
        const before = await store.listUsers()
        assert.deepEqual(before.map((u) => u.id), [...before.map((u) => u.id)].sort((a, b) => a - b))
        assert.ok(before.some((u) => u.id === viewer.id && u.username === viewer.username))
        await store.login(viewer.username, PASSWORD)
        await editorS.createInteraction(newInteraction({ title: `Call with ${viewer.username}`, notes: `mail ${viewer.email}` }))

        const gone = await store.anonymizeUser(viewer.id)
        assert.equal(gone.id, viewer.id)
        assert.equal(gone.isActive, false)
        assert.notEqual(gone.username, viewer.username)
        assert.notEqual(gone.email, viewer.email)
        await rejects(store.login(viewer.username, PASSWORD), 'AUTHENTICATION_FAILED')
        await rejects(store.getUserByUsername(viewer.username), 'NOT_FOUND')
        await rejects(viewerS.finder().fetch(), 'PERMISSION_DENIED') // the open session fails at its next call
        const users = await store.listUsers()
        assert.equal(users.length, before.length)
        assert.deepEqual(users.find((u) => u.id === viewer.id), gone)
        for (const i of (await editorS.finder().fetch()).items) {
          assert.ok(!`${i.title} ${i.notes}`.includes(viewer.username))
          assert.ok(!`${i.title} ${i.notes}`.includes(viewer.email))
        }
        assert.equal((await store.verify()).ok, true)
        assert.equal(site.id > 0, true)

        await rejects(store.anonymizeUser(999999), 'NOT_FOUND')
        await rejects(store.anonymizeUser(0), 'VALIDATION', 'user_id')
        await rejects(store.anonymizeUser(1.5), 'VALIDATION', 'user_id')
        await rejects(store.anonymizeUser('1'), 'VALIDATION', 'user_id')
      } finally {
        await store.close()
      }
    })

    test('createInteractions: in order, one transaction; a bad item names its index', async () => {
      const { store, editorS, viewerS } = await world()
      try {
        const created = await editorS.createInteractions(items(3))
        assert.deepEqual(created.map((i) => i.title), ['Bulk 0', 'Bulk 1', 'Bulk 2'])
        assert.equal(new Set(created.map((i) => i.id)).size, 3)
        assert.equal(new Set(created.map((i) => i.createdAt.getTime())).size, 1)
        assert.equal(await editorS.finder().count(), 3)
        assert.deepEqual(await editorS.createInteractions([]), [])
        const full = { ...items(1)[0], location: 'Room 1', description: 'd', notes: 'n', idempotencyKey: 'bulk-key' }
        const [one] = await editorS.createInteractions([full])
        assert.deepEqual([one.location, one.description, one.notes], ['Room 1', 'd', 'n'])
        assert.deepEqual(await editorS.createInteractions([full]), [one]) // the idempotency key, as for one create
        const local = await editorS.createInteractions([
          newInteraction({ start: { local: '2026-03-02T09:00:00' }, end: { local: '2026-03-02T10:00' }, timezone: 'Europe/Berlin' }),
        ])
        assert.deepEqual(local[0].startDatetime, new Date('2026-03-02T08:00:00Z'))
        const count = await editorS.finder().count()

        // The core's validation: a bad row at index 2, nothing written.
        const bad = items(4)
        bad[2].title = ''
        const e = await rejects(editorS.createInteractions(bad), 'VALIDATION', 'interactions[2].title')
        assert.equal(e.retryable, false)
        const late = items(3)
        late[1].end = '2020-01-01T00:00:00Z'
        const l = await rejects(editorS.createInteractions(late), 'VALIDATION')
        assert.match(l.field, /^interactions\[1\]\./)
        // Conversion in the binding names the index the same way.
        await rejects(editorS.createInteractions([...items(2), { ...items(1)[0], title: 5 }]), 'VALIDATION', 'interactions[2].title')
        await rejects(editorS.createInteractions([...items(2), { ...items(1)[0], interactionType: false }]), 'VALIDATION', 'interactions[2].type')
        const { lead, ...noLead } = items(1)[0]
        await rejects(editorS.createInteractions([items(1)[0], noLead]), 'VALIDATION', 'interactions[1].lead')
        await rejects(editorS.createInteractions([{ ...items(1)[0], start: '2026-03-02T09:00:00' }]), 'VALIDATION', 'interactions[0].start_datetime')
        await rejects(editorS.createInteractions([items(1)[0], { ...items(1)[0], end: new Date(NaN) }]), 'VALIDATION', 'interactions[1].end_datetime')
        await rejects(editorS.createInteractions([items(1)[0], { ...items(1)[0], start: { local: 'soon' } }]), 'VALIDATION', 'interactions[1].start_datetime')
        await rejects(editorS.createInteractions([{ ...items(1)[0], locaton: 'x' }]), 'VALIDATION', 'interactions[0].locaton')
        await rejects(editorS.createInteractions([items(1)[0], { ...items(1)[0], notes: 'a\uD800b' }]), 'VALIDATION', 'interactions[1].notes')
        await rejects(editorS.createInteractions([items(1)[0], 'row']), 'VALIDATION', 'interactions[1]')
        await rejects(editorS.createInteractions([items(1)[0], null]), 'VALIDATION', 'interactions[1]')
        await rejects(editorS.createInteractions(items(1)[0]), 'VALIDATION', 'interactions')
        await rejects(editorS.createInteractions(), 'VALIDATION', 'interactions')
        assert.equal(await editorS.finder().count(), count)

        await rejects(viewerS.createInteractions(items(1)), 'PERMISSION_DENIED')
        await rejects(editorS.createInteractions(items(1001)), 'VALIDATION', 'interactions')
        assert.equal(await editorS.finder().count(), count)
      } finally {
        await store.close()
      }
    })

    test('masked Finder pages hide notes and description and give initials', async () => {
      const { store, editorS } = await world()
      try {
        const i = await editorS.createInteraction(newInteraction({
          lead: 'Ana María López', description: 'secret plan', notes: 'private notes', location: 'Room 1',
        }))
        await editorS.createInteraction(newInteraction({ title: 'Other', lead: '  ana  ' }))
        const page = await editorS.finder().masked().fetch()
        assert.equal(page.items.length, 2)
        for (const item of page.items) {
          assert.equal(item.notes, null)
          assert.equal(item.description, null)
        }
        assert.deepEqual(page.items.map((x) => x.lead).sort(), ['A. M.', 'a.'])
        const masked = page.items.find((x) => x.id === i.id)
        assert.deepEqual(masked, maskInteraction(i))
        assert.deepEqual([masked.title, masked.location, masked.version], [i.title, 'Room 1', i.version])
        assert.deepEqual(editorS.finder().masked().options, { masked: true })
        const plain = await editorS.finder().masked().masked(false).fetch()
        assert.deepEqual(plain.items.find((x) => x.id === i.id), i)
        const all = []
        for await (const x of editorS.finder().masked().limit(1)) all.push(x.lead)
        assert.deepEqual(all.sort(), ['A. M.', 'a.'])
        assert.equal((await editorS.getInteraction(i.id)).notes, 'private notes')
        await rejects(editorS.finder().masked('yes').fetch(), 'VALIDATION', 'masked')
      } finally {
        await store.close()
      }
    })

    test("the README's privacy and verification example, as written, runs", async () => {
      const readme = fs.readFileSync(path.join(path.dirname(require.resolve('interaction-store')), 'README.md'), 'utf8')
      const code = /^### Privacy and verification\n\n```js[^\n]*\n([\s\S]*?)^```/m.exec(readme)[1].replace(/^import .*$/gm, '')
      assert.match(code, /'sqlite:\/\/privacy.db'/)
      const runnable = code.replaceAll("'sqlite://privacy.db'", JSON.stringify(newDatabase()))
      const logged = []
      const AsyncFunction = (async () => {}).constructor
      await new AsyncFunction('InteractionStore', 'maskUser', 'console', runnable)(InteractionStore, maskUser, {
        log: (...a) => logged.push(a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ')),
      })
      assert.deepEqual(logged, ['true', '[]', 'true', 'A. M. null', 'a***@example.com', 'false true'])
    })

    test('accessLogging: a get writes a read row with resource interaction:<id>', async () => {
      const { store, site, editor, editorS } = await world({ accessLogging: true })
      try {
        const i = await editorS.createInteraction(newInteraction())
        assert.deepEqual(await editorS.getInteraction(i.id), i)
        const [entry] = await store.accessLog(1)
        assert.equal(entry.action, 'read')
        assert.equal(entry.success, true)
        assert.equal(entry.resource, `interaction:${i.id}`)
        assert.equal(entry.siteId, site.id)
        assert.equal(entry.userId, editor.id)
        assert.equal(entry.username, editor.username)
        assert.equal(entry.detail, 'ok')
        assert.ok(entry.occurredAt instanceof Date)
        await rejects(editorS.getInteraction(i.id + 1000), 'NOT_FOUND')
        const [refused] = await store.accessLog(1)
        assert.equal(refused.success, false)
        assert.equal(refused.resource, `interaction:${i.id + 1000}`)
        assert.notEqual(refused.detail, 'ok')
        await editorS.finder().fetch()
        assert.equal((await store.accessLog(1))[0].resource, 'finder')
        await store.login(editor.username, PASSWORD)
        const [login] = await store.accessLog(1)
        assert.equal(login.action, 'login')
        assert.equal(login.resource, null)
        assert.equal(login.siteId, null)
      } finally {
        await store.close()
      }
    })
  })
}
