'use strict'
// Data lifecycle (issue 10): a manual clock, archival (dry run, real, the Finder over
// archived rows, read-only archived interactions, unarchive), retention purges, counts, and
// bad inputs; on every backend (SQLite temp files and PostgreSQL).
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { describe, test, after } = require('node:test')
const lib = require('interaction-store')
const { Clock, InteractionStore, InteractionStoreError, ErrorCode } = lib
const { backends, newInteraction, rejects, uniqueName, PASSWORD } = require('./helpers')

const START = new Date('2020-01-01T09:00:00Z')
const DAY = 24 * 3600 * 1000
const YEAR = 365 * DAY
const POLICIES = [
  'deleted_interactions',
  'archived_interactions',
  'access_attempts',
  'user_activity',
  'authentication_logs',
  'data_modifications',
  'admin_actions',
  'schema_changes',
]

const PKG_DIR = path.dirname(require.resolve('interaction-store'))

const rows = (report) => Object.fromEntries(report.outcomes.map((o) => [o.policy, o.rows]))
const titles = (page) => page.items.map((i) => i.title).sort()

test('Clock: manual and system', () => {
  const clock = Clock.manual(START)
  assert.equal(clock.isManual, true)
  assert.deepEqual(clock.now(), START)
  clock.advance(DAY + 1)
  assert.deepEqual(clock.now(), new Date(START.getTime() + DAY + 1))
  clock.set('2020-01-01T10:00:00+01:00') // any offset: the instant is what counts
  assert.deepEqual(clock.now(), START)
  assert.deepEqual(Clock.manual('2020-01-01T09:00:00Z').now(), START)
  const system = Clock.system()
  assert.equal(system.isManual, false)
  assert.ok(Math.abs(system.now().getTime() - Date.now()) < 60000)
  assert.ok(clock instanceof Clock)
  assert.throws(() => new Clock())
})

test('Clock: bad inputs are VALIDATION errors of field clock', async () => {
  const clock = Clock.manual(START)
  for (const call of [
    () => Clock.system().advance(1),
    () => Clock.system().set(START),
    () => Clock.manual('2020-01-01T09:00:00'), // no offset
    () => Clock.manual(new Date(NaN)),
    () => Clock.manual(1577869200000),
    () => Clock.manual(),
    () => clock.set('yesterday'),
    () => clock.advance(-1),
    () => clock.advance(1.5),
    () => clock.advance('1d'),
    () => clock.advance(),
    () => clock.advance(1e15 * 1000),
  ]) {
    const e = await rejects(call, 'VALIDATION', 'clock')
    assert.ok(e instanceof InteractionStoreError)
  }
  assert.deepEqual(clock.now(), START)
})

for (const backend of backends) {
  describe(`data lifecycle on ${backend.name}`, () => {
    const urls = []
    const newDatabase = () => {
      const url = backend.newDatabase()
      urls.push(url)
      return url
    }
    after(() => {
      for (const url of urls) backend.dropDatabase(url)
    })

    // A store on the manual clock, with an admin and an editor at one site.
    async function world(options = {}) {
      const clock = Clock.manual(START)
      const store = await InteractionStore.connect(newDatabase(), {
        migrate: true,
        minConnections: 0,
        maxConnections: 5,
        clock,
        ...options,
      })
      const site = await store.createSite(uniqueName('site'))
      const admin = await store.createUser(uniqueName('admin'), `${uniqueName('a')}@example.com`, PASSWORD)
      const editor = await store.createUser(uniqueName('editor'), `${uniqueName('e')}@example.com`, PASSWORD)
      await store.grantRole(admin.id, site.id, 'admin')
      await store.grantRole(editor.id, site.id, 'editor')
      const adminS = await store.sessionForUser(admin.id, site.id)
      const editorS = await store.sessionForUser(editor.id, site.id)
      return { clock, store, site, adminS, editorS }
    }

    test('archive: dry run, the default threshold, olderThanMs', async () => {
      const { clock, store, site, adminS, editorS } = await world()
      try {
        assert.deepEqual(store.clock.now(), START)
        assert.equal(store.clock.isManual, true)
        const old = await editorS.createInteraction(newInteraction({ title: 'Old budget review' }))
        await editorS.createInteraction(newInteraction({ title: 'Old kickoff' }))
        assert.deepEqual(old.createdAt, START)
        assert.equal(old.archivedAt, null)
        // The store's clock is the caller's: three years pass at once.
        clock.advance(3 * YEAR)
        const fresh = await editorS.createInteraction(newInteraction({ title: 'Fresh' }))
        assert.deepEqual(fresh.createdAt, clock.now())

        const dry = await store.archive({ dryRun: true })
        assert.equal(dry.dryRun, true)
        assert.equal(dry.moved, 2)
        assert.deepEqual(dry.sites, { [site.id]: 2 })
        assert.deepEqual(dry.cutoff, new Date(clock.now().getTime() - 2 * YEAR)) // the core's default
        assert.equal(dry.batches, 1)
        assert.equal(dry.skipped, 0)
        assert.equal(dry.checksum, '')
        assert.equal((await store.counts()).archived, 0)
        assert.equal((await store.archive({ olderThanMs: 4 * YEAR, dryRun: true })).moved, 0)
        assert.equal((await store.archive({ olderThanMs: null, dryRun: null })).dryRun, false)
      } finally {
        await store.close()
      }
    })

    test('archived interactions: Finder, read-only (ARCHIVED), unarchive; purge and counts', async () => {
      const { clock, store, site, adminS, editorS } = await world()
      try {
        const old = await editorS.createInteraction(newInteraction({ title: 'Old budget review' }))
        await editorS.createInteraction(newInteraction({ title: 'Old kickoff' }))
        clock.advance(3 * YEAR)
        const fresh = await editorS.createInteraction(newInteraction({ title: 'Fresh' }))

        const report = await store.archive()
        assert.equal(report.dryRun, false)
        assert.equal(report.moved, 2)
        assert.deepEqual(report.sites, { [site.id]: 2 })
        assert.equal(report.batches, 1)
        assert.match(report.checksum, /^[0-9a-f]{64}$/)
        assert.equal((await store.archive({ dryRun: true })).moved, 0)

        // The Finder: live rows by default, archived ones when asked.
        assert.deepEqual(titles(await editorS.finder().fetch()), ['Fresh'])
        assert.deepEqual(titles(await editorS.finder().includeArchived().fetch()), ['Fresh', 'Old budget review', 'Old kickoff'])
        const archived = await editorS.finder().archivedOnly().fetch()
        assert.deepEqual(titles(archived), ['Old budget review', 'Old kickoff'])
        for (const i of archived.items) assert.deepEqual(i.archivedAt, clock.now())
        assert.equal(await editorS.finder().archivedOnly().text('budget').count(), 1)
        assert.deepEqual(titles(await editorS.finder().archivedOnly().archivedOnly(false).fetch()), ['Fresh'])
        assert.deepEqual(editorS.finder().includeArchived().options, { includeArchived: true })
        const all = []
        for await (const i of editorS.finder().includeArchived().limit(1)) all.push(i.title)
        assert.equal(all.length, 3)
        assert.deepEqual((await editorS.getInteraction(old.id)).archivedAt, clock.now())

        // Archived interactions are read-only.
        const e = await rejects(editorS.updateInteraction(old.id, { title: 'Edited' }), 'ARCHIVED', null)
        assert.equal(e.code, ErrorCode.ARCHIVED)
        assert.equal(e.retryable, false)
        await rejects(editorS.deleteInteraction(old.id), 'ARCHIVED')
        await rejects(editorS.unarchiveInteraction(old.id), 'PERMISSION_DENIED')
        await rejects(adminS.unarchiveInteraction(1.5), 'VALIDATION', 'id')
        const back = await adminS.unarchiveInteraction(old.id)
        assert.equal(back.archivedAt, null)
        assert.equal(back.version, old.version + 1)
        assert.deepEqual(back.updatedAt, clock.now())
        assert.equal((await editorS.updateInteraction(old.id, { title: 'Back again' })).version, old.version + 2)
        await rejects(adminS.unarchiveInteraction(old.id), 'NOT_FOUND')
        assert.deepEqual(await store.counts(), { users: 2, sites: 1, live: 2, deleted: 0, archived: 1 })

        // Retention: a soft-deleted interaction is purged 30 days after its deletion.
        await editorS.deleteInteraction(fresh.id)
        assert.equal(rows(await store.purge({ dryRun: true })).deleted_interactions, 0)
        clock.advance(31 * DAY)
        const dry = await store.purge({ dryRun: true })
        assert.equal(dry.dryRun, true)
        assert.deepEqual(dry.now, clock.now())
        assert.equal(rows(dry).deleted_interactions, 1)
        for (const p of POLICIES) assert.ok(p in rows(dry), p)
        assert.equal(dry.total, dry.outcomes.reduce((n, o) => n + o.rows, 0))
        const outcome = dry.outcomes.find((o) => o.policy === 'deleted_interactions')
        assert.equal(outcome.table, 'interactions')
        assert.equal(outcome.action, 'delete')
        assert.deepEqual(outcome.cutoff, new Date(clock.now().getTime() - 30 * DAY))
        assert.equal((await store.counts()).deleted, 1)

        const purged = await store.purge()
        assert.equal(purged.dryRun, false)
        assert.deepEqual(rows(purged), rows(dry))
        assert.equal(purged.total, dry.total)
        assert.deepEqual(await store.counts(), { users: 2, sites: 1, live: 1, deleted: 0, archived: 1 })
        await rejects(adminS.restoreInteraction(fresh.id), 'NOT_FOUND')
        assert.equal(rows(await store.purge({ dryRun: true })).deleted_interactions, 0)
      } finally {
        await store.close()
      }
    })

    test('configured retention and access logging', async () => {
      const { clock, store, editorS } = await world({
        retention: { deletedInteractionsMs: 7 * DAY },
        accessLogging: true,
      })
      try {
        const i = await editorS.createInteraction(newInteraction())
        await editorS.deleteInteraction(i.id)
        clock.advance(8 * DAY)
        assert.equal(rows(await store.purge()).deleted_interactions, 1)
        assert.equal((await store.counts()).deleted, 0)
      } finally {
        await store.close()
      }
    })

    test('bad inputs are VALIDATION errors naming the field', async () => {
      const url = newDatabase()
      const store = await InteractionStore.connect(url, { migrate: true, minConnections: 0, maxConnections: 2 })
      try {
        for (const olderThanMs of [0, 59 * 60 * 1000, 101 * YEAR, -1, 1.5, Number.NaN, '2y', true]) {
          await rejects(store.archive({ olderThanMs, dryRun: true }), 'VALIDATION', 'older_than')
        }
        await rejects(store.archive({ olderThan: YEAR }), 'VALIDATION', 'olderThan') // unknown key, as given
        await rejects(store.archive({ dryRun: 'yes' }), 'VALIDATION', 'dry_run')
        await rejects(store.archive(YEAR), 'VALIDATION', 'options')
        await rejects(store.purge({ dryRun: 1 }), 'VALIDATION', 'dry_run')
        await rejects(store.purge({ dry_run: true }), 'VALIDATION', 'dry_run')
        await rejects(store.purge(true), 'VALIDATION', 'options')
      } finally {
        await store.close()
      }
      const camel = (p) => p.replace(/_(\w)/g, (_, c) => c.toUpperCase()) + 'Ms'
      for (const p of POLICIES) {
        for (const bad of [60 * 1000, -1, 101 * YEAR, '30d', 2.5]) {
          await rejects(InteractionStore.connect(url, { retention: { [camel(p)]: bad } }), 'VALIDATION', `retention.${p}`)
        }
      }
      await rejects(InteractionStore.connect(url, { retention: { deletedInteractions: DAY } }), 'VALIDATION', 'deletedInteractions')
      await rejects(InteractionStore.connect(url, { retention: 30 * DAY }), 'VALIDATION', 'retention')
      await rejects(InteractionStore.connect(url, { clock: START }), 'VALIDATION', 'clock')
      await rejects(InteractionStore.connect(url, { clock: { now: () => START } }), 'VALIDATION', 'clock')
      await rejects(InteractionStore.connect(url, { accessLogging: 'yes' }), 'VALIDATION', 'access_logging')
    })

    test("the README's data-lifecycle example, as written, runs", async () => {
      // The README ships in the package: its block, on the test's database.
      const readme = fs.readFileSync(path.join(PKG_DIR, 'README.md'), 'utf8')
      const code = /^## Data lifecycle\n\n```js[^\n]*\n([\s\S]*?)^```/m.exec(readme)[1].replace(/^import .*$/gm, '')
      assert.match(code, /'sqlite:\/\/lifecycle.db'/)
      const runnable = code.replaceAll("'sqlite://lifecycle.db'", JSON.stringify(newDatabase()))
      const logged = []
      const AsyncFunction = (async () => {}).constructor
      await new AsyncFunction('InteractionStore', 'Clock', 'console', runnable)(InteractionStore, Clock, {
        log: (...a) => logged.push(a.map((x) => (typeof x === 'string' ? x : JSON.stringify(x))).join(' ')),
      })
      assert.deepEqual(logged, ['1', 'ARCHIVED', '1', JSON.stringify({ users: 1, sites: 1, live: 0, deleted: 0, archived: 0 })])
    })
  })
}
