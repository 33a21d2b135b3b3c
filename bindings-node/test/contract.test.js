'use strict'
// The API contract, run against every backend (SQLite temp files and PostgreSQL).
const assert = require('node:assert/strict')
const { describe, test, before, after } = require('node:test')
const lib = require('interaction-store')
const { InteractionStore, SiteSession, Finder, InteractionStoreError, ErrorCode } = lib
const { backends, execSql, fixture, newInteraction, rejects, uniqueName, PASSWORD } = require('./helpers')

test('exports', () => {
  assert.equal(typeof InteractionStore.connect, 'function')
  assert.equal(typeof SiteSession, 'function')
  assert.equal(typeof Finder, 'function')
  assert.equal(ErrorCode.NOT_FOUND, 'NOT_FOUND')
  assert.deepEqual(Object.keys(ErrorCode).sort(), [
    'ARCHIVED', 'AUTHENTICATION_FAILED', 'CONFIGURATION', 'CONFLICT', 'INTERNAL', 'NOT_FOUND', 'PERMISSION_DENIED',
    'SCHEMA_VERSION', 'TIMEOUT', 'UNAVAILABLE', 'VALIDATION',
  ])
  const e = new InteractionStoreError('CONFLICT', 'x')
  assert.ok(e instanceof Error)
  assert.equal(e.field, null)
  assert.equal(e.retryable, false)
  assert.equal(e.cause, undefined)
})

// Every native method (the addon's own classes) is wrapped by index.js, so that every
// rejection carries a stable code: a method added in Rust but not in index.js fails here.
test('every native method is wrapped', () => {
  const native = require(require('node:path').join(require('node:path').dirname(require.resolve('interaction-store')), 'native.js'))
  const own = (proto) =>
    Object.getOwnPropertyNames(proto).filter((n) => {
      const d = Object.getOwnPropertyDescriptor(proto, n)
      return n !== 'constructor' && typeof d.value === 'function'
    })
  const wrapped = (fn) => fn.toString().includes('mapError')
  for (const [cls, proto] of [
    ['InteractionStore', native.InteractionStore.prototype],
    ['SiteSession', native.SiteSession.prototype],
    ['Clock', native.Clock.prototype],
  ]) {
    for (const name of own(proto)) {
      if (cls === 'SiteSession' && name === 'finder') continue // JS-only (the chainable Finder)
      assert.ok(wrapped(proto[name]), `${cls}.prototype.${name} is not wrapped in index.js`)
    }
  }
  assert.ok(wrapped(native.InteractionStore.connect), 'InteractionStore.connect is not wrapped')
  for (const name of ['system', 'manual']) assert.ok(wrapped(native.Clock[name]), `Clock.${name} is not wrapped`)
  // Module-level native functions: exported wrapped.
  const fns = Object.keys(native).filter((n) => typeof native[n] === 'function' && !/^[A-Z]/.test(n) && n !== 'inputShapes')
  assert.deepEqual(fns.sort(), ['maskInteraction', 'maskUser'])
  for (const name of fns) assert.ok(wrapped(lib[name]), `${name} is not wrapped in index.js`)
})

for (const backend of backends) {
  describe(`contract on ${backend.name}`, () => {
    let f
    before(async () => {
      f = await fixture(backend, lib)
    })
    after(async () => {
      if (f) await f.close()
    })

    test('schema: migrate, schemaVersion, checkSchema, backend', async () => {
      assert.equal(f.store.backend, backend.name)
      assert.equal(f.store.isClosed, false)
      assert.deepEqual(await f.store.migrate(), [])
      const v = await f.store.schemaVersion()
      assert.deepEqual(v, { major: 1, minor: 3, patch: 0 })
      assert.equal(await f.store.checkSchema(), undefined)
    })

    test('SCHEMA_VERSION: an empty database without migrate', async () => {
      const url = backend.newDatabase()
      try {
        await rejects(InteractionStore.connect(url), 'SCHEMA_VERSION', null)
        const s = await InteractionStore.connect(url, { migrate: true, maxConnections: 2, minConnections: 0 })
        assert.deepEqual(await s.schemaVersion(), { major: 1, minor: 3, patch: 0 })
        await s.close()
        const again = await InteractionStore.connect(url, {
          minConnections: 0,
          maxConnections: 2,
          acquireTimeoutMs: 5000,
          idleTimeoutMs: null,
          maxLifetimeMs: 60000,
          loginConcurrency: 1,
        })
        await again.checkSchema()
        await again.close()
      } finally {
        backend.dropDatabase(url)
      }
    })

    test('users', async () => {
      const name = uniqueName('u')
      const u = await f.store.createUser(name, `${name}@Example.com`, PASSWORD)
      assert.equal(typeof u.id, 'number')
      assert.equal(u.username, name)
      assert.equal(u.isActive, true)
      assert.equal(u.lastLogin, null)
      assert.deepEqual(await f.store.getUser(u.id), u)
      assert.deepEqual(await f.store.getUserByUsername(name), u)
      await rejects(f.store.createUser(name, `${uniqueName('x')}@example.com`, PASSWORD), 'CONFLICT', null)
      await rejects(f.store.createUser(uniqueName('y'), `${name}@example.com`, PASSWORD), 'CONFLICT')
      await rejects(f.store.createUser(uniqueName('z'), 'z@example.com', 'short'), 'VALIDATION', 'password')
      await rejects(f.store.getUser(987654), 'NOT_FOUND', null)
      await rejects(f.store.getUserByUsername('nobody-here'), 'NOT_FOUND')

      const t = await f.store.login(name, PASSWORD)
      assert.equal(typeof t.token, 'string')
      assert.equal(t.userId, u.id)
      assert.ok(t.expiresAt instanceof Date && t.expiresAt > new Date())
      assert.ok((await f.store.getUser(u.id)).lastLogin instanceof Date)

      await f.store.setPassword(u.id, 'a brand new password')
      await rejects(f.store.login(name, PASSWORD), 'AUTHENTICATION_FAILED', null)
      await f.store.login(name, 'a brand new password')

      const off = await f.store.setUserActive(u.id, false)
      assert.equal(off.isActive, false)
      await rejects(f.store.login(name, 'a brand new password'), 'AUTHENTICATION_FAILED')
      assert.equal((await f.store.setUserActive(u.id, true)).isActive, true)

      assert.deepEqual(await f.store.userSites(u.id), [])
      await f.store.grantRole(u.id, f.site.id, 'editor')
      const sites = await f.store.userSites(u.id)
      assert.equal(sites.length, 1)
      assert.equal(sites[0].site.id, f.site.id)
      assert.equal(sites[0].role, 'editor')
    })

    test('sites', async () => {
      const name = uniqueName('site')
      const s = await f.store.createSite(name)
      assert.equal(s.name, name)
      assert.equal(s.description, null)
      assert.equal(s.isActive, true)
      assert.deepEqual(await f.store.getSite(s.id), s)
      const all = await f.store.listSites()
      assert.ok(all.some((x) => x.id === s.id))
      await rejects(f.store.createSite(name, 'dup'), 'CONFLICT')
      await rejects(f.store.getSite(424242), 'NOT_FOUND')
      await rejects(f.store.grantRole(f.viewer.id, s.id, 'owner'), 'VALIDATION', 'role')
      await f.store.grantRole(f.viewer.id, s.id, 'viewer')
      await f.store.sessionForUser(f.viewer.id, s.id)
      assert.equal((await f.store.setSiteActive(s.id, false)).isActive, false)
      await rejects(f.store.sessionForUser(f.viewer.id, s.id), 'PERMISSION_DENIED')
      assert.equal((await f.store.setSiteActive(s.id, true)).isActive, true)
    })

    test('login, session, logout, accessLog', async () => {
      const t = await f.store.login(f.editor.username, PASSWORD)
      const s = await f.store.session(t.token, f.site.id)
      assert.ok(s instanceof SiteSession)
      assert.equal(s.userId, f.editor.id)
      assert.equal(s.siteId, f.site.id)
      assert.equal(s.role, 'editor')
      await rejects(f.store.session(t.token, f.other.id), 'PERMISSION_DENIED')
      await rejects(f.store.session('not-a-token', f.site.id), 'AUTHENTICATION_FAILED')
      await rejects(f.store.login(f.editor.username, 'wrong password!'), 'AUTHENTICATION_FAILED')
      await rejects(f.store.login('no-such-user', PASSWORD), 'AUTHENTICATION_FAILED')
      await f.store.logout(t.token)
      await rejects(f.store.session(t.token, f.site.id), 'AUTHENTICATION_FAILED')

      await rejects(f.store.sessionForUser(f.editor.id, f.other.id), 'PERMISSION_DENIED')
      await rejects(f.store.sessionForUser(999999, f.site.id), 'NOT_FOUND')

      const log = await f.store.accessLog(10)
      assert.ok(log.length >= 3)
      assert.ok(log[0].occurredAt instanceof Date)
      assert.ok(log.some((e) => e.action === 'logout' && e.success === true && e.userId === f.editor.id))
      assert.ok(log.some((e) => e.username === 'no-such-user' && e.success === false && e.userId === null))
      assert.equal((await f.store.accessLog()).length > 0, true)
      await rejects(f.store.accessLog(0), 'VALIDATION', 'limit')
      await rejects(f.store.accessLog(501), 'VALIDATION', 'limit')
    })

    test('interactions: create with every kind of time, get', async () => {
      const local = await f.editorS.createInteraction(
        newInteraction({
          start: { local: '2026-12-01T09:30:00' },
          end: { local: '2026-12-01T10:30' },
          timezone: 'Europe/Berlin',
          location: 'Room 4',
          description: 'desc',
          notes: 'notes',
        }),
      )
      assert.equal(local.startDatetime.toISOString(), '2026-12-01T08:30:00.000Z')
      assert.equal(local.endDatetime.toISOString(), '2026-12-01T09:30:00.000Z')
      assert.equal(local.version, 1)
      assert.equal(local.siteId, f.site.id)
      assert.equal(local.createdBy, f.editor.id)
      assert.ok(local.createdAt instanceof Date)
      assert.equal(local.updatedAt, null)
      assert.equal(local.location, 'Room 4')
      assert.equal(local.interactionType, 'meeting')

      const withDate = await f.editorS.createInteraction(
        newInteraction({ start: new Date('2026-06-01T12:00:00.123Z'), end: '2026-06-01T14:00:01+02:00' }),
      )
      assert.equal(withDate.startDatetime.toISOString(), '2026-06-01T12:00:00.123Z')
      assert.equal(withDate.endDatetime.toISOString(), '2026-06-01T12:00:01.000Z')
      assert.equal(withDate.location, null)

      assert.deepEqual(await f.viewerS.getInteraction(local.id), local)
      await rejects(f.otherS.getInteraction(local.id), 'NOT_FOUND')
      await rejects(f.viewerS.getInteraction(7777777), 'NOT_FOUND', null)
      await rejects(f.viewerS.createInteraction(newInteraction()), 'PERMISSION_DENIED', null)
    })

    test('interactions: update, expectedVersion, null clears, undefined leaves', async () => {
      const i = await f.editorS.createInteraction(newInteraction({ location: 'A', description: 'D', notes: 'N' }))
      const u1 = await f.editorS.updateInteraction(i.id, { title: 'Renamed', location: null, notes: undefined }, i.version)
      assert.equal(u1.title, 'Renamed')
      assert.equal(u1.location, null)
      assert.equal(u1.description, 'D')
      assert.equal(u1.notes, 'N')
      assert.equal(u1.version, 2)
      assert.equal(u1.updatedBy, f.editor.id)
      assert.ok(u1.updatedAt instanceof Date)
      await rejects(f.editorS.updateInteraction(i.id, { lead: 'Carol' }, i.version), 'CONFLICT', null)
      assert.equal((await f.editorS.getInteraction(i.id)).lead, 'Alice')
      const u2 = await f.editorS.updateInteraction(i.id, { start: { local: '2026-03-02T08:00:00' }, timezone: 'Europe/Paris' })
      assert.equal(u2.startDatetime.toISOString(), '2026-03-02T07:00:00.000Z')
      assert.equal(u2.timezone, 'Europe/Paris')
      const same = await f.editorS.updateInteraction(i.id, {})
      assert.equal(same.version, u2.version)
      await rejects(f.viewerS.updateInteraction(i.id, { title: 'x' }), 'PERMISSION_DENIED')
      await rejects(f.otherS.updateInteraction(i.id, { title: 'x' }), 'NOT_FOUND')
    })

    test('interactions: soft delete and restore', async () => {
      const i = await f.editorS.createInteraction(newInteraction({ title: 'To delete' }))
      await rejects(f.editorS.deleteInteraction(i.id, 99), 'CONFLICT')
      await rejects(f.viewerS.deleteInteraction(i.id), 'PERMISSION_DENIED')
      assert.equal(await f.editorS.deleteInteraction(i.id, i.version), undefined)
      await rejects(f.editorS.getInteraction(i.id), 'NOT_FOUND')
      await rejects(f.editorS.restoreInteraction(i.id), 'PERMISSION_DENIED')
      const r = await f.adminS.restoreInteraction(i.id)
      assert.equal(r.deletedAt, null)
      assert.equal(r.version, 3)
      await rejects(f.adminS.restoreInteraction(i.id), 'NOT_FOUND')
    })

    test('members', async () => {
      const u = await f.store.createUser(uniqueName('m'), `${uniqueName('m')}@example.com`, PASSWORD)
      await f.adminS.setMemberRole(u.id, 'viewer')
      let members = await f.adminS.members()
      const m = members.find((x) => x.userId === u.id)
      assert.equal(m.role, 'viewer')
      assert.equal(m.username, u.username)
      assert.ok(m.assignedAt instanceof Date)
      await f.adminS.setMemberRole(u.id, 'editor')
      members = await f.adminS.members()
      assert.equal(members.find((x) => x.userId === u.id).role, 'editor')
      await f.adminS.removeMember(u.id)
      members = await f.adminS.members()
      assert.equal(members.find((x) => x.userId === u.id), undefined)
      await rejects(f.editorS.members(), 'PERMISSION_DENIED')
      await rejects(f.editorS.setMemberRole(u.id, 'admin'), 'PERMISSION_DENIED')
      await rejects(f.editorS.removeMember(f.viewer.id), 'PERMISSION_DENIED')
      await rejects(f.adminS.setMemberRole(u.id, 'boss'), 'VALIDATION', 'role')
    })

    test('audit trail with paging', async () => {
      const i = await f.editorS.createInteraction(newInteraction({ title: 'Audited' }))
      await f.editorS.updateInteraction(i.id, { title: 'Audited 2' })
      const first = await f.adminS.auditTrail({ limit: 1 })
      assert.equal(first.entries.length, 1)
      const e = first.entries[0]
      assert.equal(e.action, 'update')
      assert.equal(e.entity, 'interaction')
      assert.equal(e.entityId, i.id)
      assert.equal(e.actorId, f.editor.id)
      assert.equal(e.siteId, f.site.id)
      assert.ok(e.occurredAt instanceof Date)
      assert.deepEqual(e.changes.title, { old: 'Audited', new: 'Audited 2' })
      assert.equal(typeof first.nextCursor, 'string')
      const second = await f.adminS.auditTrail({ limit: 1, after: first.nextCursor })
      assert.equal(second.entries[0].action, 'create')
      assert.ok(second.entries[0].id < e.id)
      const dflt = await f.adminS.auditTrail()
      assert.ok(dflt.entries.length > 1)
      await rejects(f.editorS.auditTrail(), 'PERMISSION_DENIED')
      await rejects(f.adminS.auditTrail({ limit: 0 }), 'VALIDATION', 'limit')
      await rejects(f.adminS.auditTrail({ after: 'garbage' }), 'VALIDATION', 'cursor')
    })

    test('finder: filters, sort, pages, count, explain, async iteration', async () => {
      const site = await f.store.createSite(uniqueName('finder'))
      await f.store.grantRole(f.admin.id, site.id, 'admin')
      const s = await f.store.sessionForUser(f.admin.id, site.id)
      const made = []
      for (let k = 0; k < 7; k++) {
        made.push(
          await s.createInteraction(
            newInteraction({
              title: k % 2 ? `Budget review ${k}` : `Hiring sync ${k}`,
              interactionType: k % 2 ? 'review' : 'meeting',
              lead: k < 3 ? 'Zoe' : 'Yann',
              start: new Date(Date.UTC(2026, 0, 10 + k, 9)),
              end: new Date(Date.UTC(2026, 0, 10 + k, 10)),
              notes: k === 6 ? 'quarterly budget numbers' : null,
            }),
          ),
        )
      }
      const base = s.finder()
      assert.ok(base instanceof Finder)
      const all = await base.fetch()
      assert.equal(all.items.length, 7)
      assert.equal(all.nextCursor, null)
      assert.deepEqual(all.items.map((i) => i.id), made.map((i) => i.id).reverse())
      assert.deepEqual((await base.sort('start_asc').fetch()).items.map((i) => i.id), made.map((i) => i.id))
      assert.equal((await base.sort('created_desc').fetch()).items[0].id, made[6].id)

      const budget = await base.text('budget').fetch()
      assert.deepEqual(budget.items.map((i) => i.id).sort(), [made[1].id, made[3].id, made[5].id, made[6].id].sort())
      const relevance = await base.text('budget').sort('relevance').fetch()
      assert.equal(relevance.items.length, 4)
      assert.equal((await base.text('budget -review').fetch()).items.length, 1)
      assert.equal((await base.types(['review']).fetch()).items.length, 3)
      assert.equal((await base.types(['review', 'meeting']).count()), 7)
      assert.equal((await base.titleContains('HIRING').fetch()).items.length, 4)
      assert.equal((await base.leadContains('zo').count()), 3)
      assert.equal((await base.createdBy(f.admin.id).count()), 7)
      assert.equal((await base.createdBy(f.editor.id).count()), 0)
      const range = await base.dateRange('2026-01-11T09:30:00Z', new Date(Date.UTC(2026, 0, 12, 9, 30))).fetch()
      assert.equal(range.items.length, 2)
      const contained = await base
        .dateRange('2026-01-11T09:30:00Z', new Date(Date.UTC(2026, 0, 12, 9, 30)), 'contained')
        .fetch()
      assert.equal(contained.items.length, 0)

      // pages
      const p1 = await base.limit(3).fetch()
      assert.equal(p1.items.length, 3)
      assert.equal(typeof p1.nextCursor, 'string')
      const p2 = await base.limit(3).after(p1.nextCursor).fetch()
      const p3 = await base.limit(3).after(p2.nextCursor).fetch()
      assert.equal(p3.items.length, 1)
      assert.equal(p3.nextCursor, null)
      assert.deepEqual([...p1.items, ...p2.items, ...p3.items].map((i) => i.id), all.items.map((i) => i.id))
      await rejects(base.text('other').after(p1.nextCursor).fetch(), 'VALIDATION', 'cursor')

      // immutability: builder methods return new Finders
      const limited = base.limit(2)
      assert.notEqual(limited, base)
      assert.deepEqual(base.options, {})
      assert.deepEqual(limited.options, { limit: 2 })

      // async iteration over every page
      const seen = []
      for await (const i of base.limit(2)) seen.push(i.id)
      assert.deepEqual(seen, all.items.map((i) => i.id))
      const seen2 = []
      for await (const i of base.limit(3).types(['review']).iterate()) seen2.push(i.id)
      assert.equal(seen2.length, 3)
      const none = []
      for await (const i of base.text('nonexistentword')) none.push(i)
      assert.deepEqual(none, [])

      // count and explain
      assert.equal(await base.count(), 7)
      assert.equal(await base.limit(1).count(), 7)
      const plan = await base.text('budget').explain()
      assert.equal(typeof plan, 'string')
      assert.ok(plan.length > 0)

      // deleted
      await s.deleteInteraction(made[0].id)
      assert.equal(await base.count(), 6)
      assert.equal(await base.includeDeleted().count(), 7)
      assert.equal(await base.includeDeleted(false).count(), 6)
      const viewer = await f.store.createUser(uniqueName('fv'), `${uniqueName('fv')}@example.com`, PASSWORD)
      await f.store.grantRole(viewer.id, site.id, 'viewer')
      const vs = await f.store.sessionForUser(viewer.id, site.id)
      assert.equal(await vs.finder().count(), 6)
      await rejects(vs.finder().includeDeleted().fetch(), 'PERMISSION_DENIED')
      // site isolation
      assert.equal(await f.otherS.finder().titleContains('Budget review').count(), 0)
      // the native entry point directly
      assert.equal((await s.find({ types: ['review'], limit: 1 })).items.length, 1)
      assert.equal(await s.count({ types: ['meeting'] }), 3)
      assert.equal(typeof (await s.explain()), 'string')
      await rejects(base.sort('relevance').fetch(), 'VALIDATION', 'sort')
    })

    test('UNAVAILABLE after close', async () => {
      const url = backend.newDatabase()
      const s = await InteractionStore.connect(url, { migrate: true, minConnections: 0, maxConnections: 2 })
      const sess = await s.createSite('x').then(() => s.listSites())
      assert.equal(sess.length, 1)
      await s.close()
      assert.equal(s.isClosed, true)
      await rejects(s.listSites(), 'UNAVAILABLE', null)
      await rejects(s.getUser(1), 'UNAVAILABLE')
      await rejects(s.login('a', PASSWORD), 'UNAVAILABLE')
      await s.close() // idempotent
      backend.dropDatabase(url)
    })

    test('INTERNAL: an unexpected database error', async () => {
      const url = backend.newDatabase()
      const s = await InteractionStore.connect(url, { migrate: true, minConnections: 0, maxConnections: 2 })
      const site = await s.createSite('internal')
      const u = await s.createUser('internal', 'internal@example.com', PASSWORD)
      await s.grantRole(u.id, site.id, 'editor')
      const sess = await s.sessionForUser(u.id, site.id)
      await s.close()
      // CASCADE on PostgreSQL: the masked reporting view `audit_log_masked` depends on it.
      execSql(url, backend.name === 'postgres' ? 'DROP TABLE audit_log CASCADE' : 'DROP TABLE audit_log')
      const s2 = await InteractionStore.connect(url, { minConnections: 0, maxConnections: 2 })
      const sess2 = await s2.sessionForUser(u.id, site.id)
      const e = await rejects(sess2.createInteraction(newInteraction()), 'INTERNAL', null)
      assert.ok(e instanceof InteractionStoreError)
      await rejects(sess.getInteraction(1), 'UNAVAILABLE')
      await s2.close()
      backend.dropDatabase(url)
    })
  })
}

test('UNAVAILABLE: an unreachable PostgreSQL server', async () => {
  await rejects(
    InteractionStore.connect('postgres://postgres@127.0.0.1:1/none', { acquireTimeoutMs: 2000, minConnections: 0 }),
    'UNAVAILABLE',
  )
})

test('VALIDATION: a URL of no known scheme', async () => {
  await rejects(InteractionStore.connect('mysql://localhost/db'), 'VALIDATION', 'url')
})
