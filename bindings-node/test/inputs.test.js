'use strict'
// Bad inputs of every kind reject with code VALIDATION and the field at fault, on every
// backend: wrong JS types, invalid dates, offset-less instants, huge strings, NUL bytes.
const assert = require('node:assert/strict')
const { describe, test, before, after } = require('node:test')
const lib = require('interaction-store')
const { InteractionStore } = lib
const { backends, fixture, newInteraction, rejects, PASSWORD } = require('./helpers')

const MB = 1024 * 1024

for (const backend of backends) {
  describe(`bad inputs on ${backend.name}`, () => {
    let f, item
    before(async () => {
      f = await fixture(backend, lib)
      item = await f.editorS.createInteraction(newInteraction())
    })
    after(async () => {
      if (f) await f.close()
    })

    test('wrong JS types for plain arguments', async () => {
      const s = f.store
      await rejects(s.createUser(1, 'a@b.c', PASSWORD), 'VALIDATION', 'username')
      await rejects(s.createUser('name', null, PASSWORD), 'VALIDATION', 'email')
      await rejects(s.createUser('name', 'a@b.c'), 'VALIDATION', 'password')
      await rejects(s.getUser('1'), 'VALIDATION', 'user_id')
      await rejects(s.getUser(1n), 'VALIDATION', 'user_id')
      await rejects(s.getUser(), 'VALIDATION', 'user_id')
      await rejects(s.getUser({}), 'VALIDATION', 'user_id')
      await rejects(s.getUserByUsername(['x']), 'VALIDATION', 'username')
      await rejects(s.setUserActive(f.viewer.id, 'yes'), 'VALIDATION', 'active')
      await rejects(s.setSiteActive(f.site.id, 1), 'VALIDATION', 'active')
      await rejects(s.createSite(42), 'VALIDATION', 'name')
      await rejects(s.createSite('n', 42), 'VALIDATION', 'description')
      await rejects(s.grantRole(f.viewer.id, f.site.id, 3), 'VALIDATION', 'role')
      await rejects(s.login('x', 12345678), 'VALIDATION', 'password')
      await rejects(s.logout(undefined), 'VALIDATION', 'token')
      await rejects(s.accessLog('10'), 'VALIDATION', 'limit')
      await rejects(s.session(null, f.site.id), 'VALIDATION', 'token')
      await rejects(s.sessionForUser(f.viewer.id, '1'), 'VALIDATION', 'site_id')
      await rejects(InteractionStore.connect(5), 'VALIDATION', 'url')
      await rejects(InteractionStore.connect(f.url, 'migrate'), 'VALIDATION', 'options')
      await rejects(InteractionStore.connect(f.url, { migrate: 'yes' }), 'VALIDATION', 'migrate')
      await rejects(InteractionStore.connect(f.url, { maxConnections: -1 }), 'VALIDATION', 'max_connections')
      await rejects(InteractionStore.connect(f.url, { acquireTimeoutMs: 1.5 }), 'VALIDATION', 'acquire_timeout')
      const e = f.editorS
      await rejects(e.createInteraction('title'), 'VALIDATION', 'input')
      await rejects(e.createInteraction([]), 'VALIDATION', 'input')
      await rejects(e.createInteraction(null), 'VALIDATION', 'input')
      await rejects(e.updateInteraction(item.id, null), 'VALIDATION', 'patch')
      await rejects(e.updateInteraction(item.id, {}, '1'), 'VALIDATION', 'expected_version')
      await rejects(e.deleteInteraction(item.id, 1.5), 'VALIDATION', 'expected_version')
      await rejects(f.adminS.setMemberRole(f.viewer.id, null), 'VALIDATION', 'role')
      await rejects(f.adminS.auditTrail('x'), 'VALIDATION', 'options')
      await rejects(e.find(7), 'VALIDATION', 'options')
    })

    test('ids and limits that are not integers or out of range', async () => {
      for (const bad of [0, -1, 1.5, NaN, Infinity, -Infinity, 2 ** 53, 2 ** 31]) {
        await rejects(f.store.getUser(bad), 'VALIDATION', 'user_id')
        await rejects(f.editorS.getInteraction(bad), 'VALIDATION', 'id')
      }
      await rejects(f.store.getSite(-5), 'VALIDATION', 'site_id')
      await rejects(f.store.accessLog(1.5), 'VALIDATION', 'limit')
      await rejects(f.store.accessLog(-1), 'VALIDATION', 'limit')
      await rejects(f.adminS.auditTrail({ limit: 501 }), 'VALIDATION', 'limit')
      await rejects(f.adminS.auditTrail({ limit: 2 ** 40 }), 'VALIDATION', 'limit')
      await rejects(f.editorS.finder().limit(0).fetch(), 'VALIDATION', 'limit')
      await rejects(f.editorS.finder().limit(2.5).fetch(), 'VALIDATION', 'limit')
      await rejects(f.editorS.finder().createdBy(-3).fetch(), 'VALIDATION', 'created_by')
      await rejects(f.editorS.updateInteraction(0, {}), 'VALIDATION', 'id')
    })

    test('wrong types inside input objects', async () => {
      const e = f.editorS
      await rejects(e.createInteraction(newInteraction({ title: 5 })), 'VALIDATION', 'title')
      await rejects(e.createInteraction(newInteraction({ interactionType: true })), 'VALIDATION', 'type')
      await rejects(e.createInteraction(newInteraction({ lead: {} })), 'VALIDATION', 'lead')
      await rejects(e.createInteraction(newInteraction({ timezone: 1 })), 'VALIDATION', 'timezone')
      await rejects(e.createInteraction(newInteraction({ location: 3 })), 'VALIDATION', 'location')
      await rejects(e.createInteraction(newInteraction({ start: 42 })), 'VALIDATION', 'start_datetime')
      await rejects(e.createInteraction(newInteraction({ end: [] })), 'VALIDATION', 'end_datetime')
      const { title, ...noTitle } = newInteraction()
      assert.equal(title, 'Weekly sync')
      await rejects(e.createInteraction(noTitle), 'VALIDATION', 'title')
      await rejects(e.updateInteraction(item.id, { notes: 5 }), 'VALIDATION', 'notes')
      await rejects(e.updateInteraction(item.id, { title: null }), 'VALIDATION', 'title')
      await rejects(e.finder().types('meeting').fetch(), 'VALIDATION', 'types')
      await rejects(e.finder().types([1]).fetch(), 'VALIDATION', 'types')
      await rejects(e.finder().text(5).fetch(), 'VALIDATION', 'text')
      await rejects(e.finder().limit('10').fetch(), 'VALIDATION', 'limit')
      await rejects(e.finder().sort('newest').fetch(), 'VALIDATION', 'sort')
      await rejects(e.finder().includeDeleted('yes').fetch(), 'VALIDATION', 'include_deleted')
      await rejects(e.finder().dateRange('2026-01-01T00:00:00Z', 5).fetch(), 'VALIDATION', 'date_range')
      await rejects(e.finder().dateRange('2026-01-01T00:00:00Z', '2026-01-02T00:00:00Z', 'inside').fetch(), 'VALIDATION', 'date_range')
      await rejects(f.adminS.auditTrail({ after: 5 }), 'VALIDATION', 'after')
    })

    test('dates: invalid Date, no offset, bad local times, DST gaps, ranges', async () => {
      const e = f.editorS
      await rejects(e.createInteraction(newInteraction({ start: new Date('nope') })), 'VALIDATION', 'start_datetime')
      await rejects(e.createInteraction(newInteraction({ end: new Date(NaN) })), 'VALIDATION', 'end_datetime')
      await rejects(e.updateInteraction(item.id, { start: new Date('x') }), 'VALIDATION', 'start_datetime')
      await rejects(e.finder().dateRange(new Date('x'), new Date()).fetch(), 'VALIDATION', 'date_range')
      // a string without an offset is not an instant
      await rejects(e.createInteraction(newInteraction({ start: '2026-03-02T09:00:00' })), 'VALIDATION', 'start_datetime')
      await rejects(e.createInteraction(newInteraction({ end: '2026-03-02' })), 'VALIDATION', 'end_datetime')
      await rejects(e.createInteraction(newInteraction({ start: 'tomorrow' })), 'VALIDATION', 'start_datetime')
      await rejects(e.createInteraction(newInteraction({ start: '2026-02-30T09:00:00Z' })), 'VALIDATION', 'start_datetime')
      await rejects(e.finder().dateRange('2026-01-01T00:00:00', '2026-01-02T00:00:00Z').fetch(), 'VALIDATION', 'date_range')
      // local wall-clock times
      await rejects(e.createInteraction(newInteraction({ start: { local: '2026-03-02T09:00:00Z' } })), 'VALIDATION', 'start_datetime')
      await rejects(e.createInteraction(newInteraction({ start: { local: 'soon' } })), 'VALIDATION', 'start_datetime')
      await rejects(e.createInteraction(newInteraction({ start: { local: 5 } })), 'VALIDATION', 'start_datetime')
      await rejects(
        e.createInteraction(newInteraction({ start: { local: '2026-03-29T02:30:00' }, end: { local: '2026-03-29T04:00:00' }, timezone: 'Europe/Berlin' })),
        'VALIDATION',
        'start_datetime',
      )
      await rejects(
        e.createInteraction(newInteraction({ start: { local: '2026-10-25T01:00:00' }, end: { local: '2026-10-25T02:30:00' }, timezone: 'Europe/Berlin' })),
        'VALIDATION',
        'end_datetime',
      )
      await rejects(e.createInteraction(newInteraction({ timezone: 'Mars/Olympus' })), 'VALIDATION', 'timezone')
      await rejects(e.createInteraction(newInteraction({ start: '2026-03-02T11:00:00Z' })), 'VALIDATION', 'end_datetime')
      await rejects(e.finder().dateRange('2026-01-02T00:00:00Z', '2026-01-01T00:00:00Z').fetch(), 'VALIDATION', 'date_range')
    })

    test('lengths, empty strings, huge strings and NUL bytes', async () => {
      const e = f.editorS
      const huge = 'x'.repeat(10 * MB)
      await rejects(e.createInteraction(newInteraction({ notes: huge })), 'VALIDATION', 'notes')
      await rejects(e.createInteraction(newInteraction({ description: huge })), 'VALIDATION', 'description')
      await rejects(e.updateInteraction(item.id, { notes: huge }), 'VALIDATION', 'notes')
      await rejects(e.createInteraction(newInteraction({ title: 't'.repeat(256) })), 'VALIDATION', 'title')
      await rejects(e.createInteraction(newInteraction({ title: huge })), 'VALIDATION', 'title')
      await rejects(e.createInteraction(newInteraction({ title: '   ' })), 'VALIDATION', 'title')
      await rejects(e.createInteraction(newInteraction({ lead: '' })), 'VALIDATION', 'lead')
      await rejects(e.finder().text(huge).fetch(), 'VALIDATION', 'text')
      await rejects(f.store.createUser(huge, 'h@example.com', PASSWORD), 'VALIDATION', 'username')
      await rejects(f.store.createUser('huge', 'h@example.com', huge), 'VALIDATION', 'password')
      await rejects(f.store.login(huge, PASSWORD), 'AUTHENTICATION_FAILED')
      // NUL bytes
      await rejects(e.createInteraction(newInteraction({ title: 'a\0b' })), 'VALIDATION', 'title')
      await rejects(e.createInteraction(newInteraction({ notes: 'a\0b' })), 'VALIDATION', 'notes')
      await rejects(e.createInteraction(newInteraction({ start: '2026-03-02T09:00:00Z\0' })), 'VALIDATION', 'start_datetime')
      await rejects(f.store.createUser('nul\0user', 'n@example.com', PASSWORD), 'VALIDATION', 'username')
      await rejects(f.store.createSite('site\0'), 'VALIDATION', 'name')
      await rejects(f.store.session('tok\0en', f.site.id), 'VALIDATION', 'token')
      await rejects(InteractionStore.connect('sqlite://x\0.db'), 'VALIDATION', 'url')
      await rejects(e.finder().titleContains('a\0').fetch(), 'VALIDATION', 'title_contains')
      // a 1 MiB note is still fine, and unicode round-trips
      const ok = await e.createInteraction(newInteraction({ title: 'Café ☕ 会议', notes: 'n'.repeat(MB) }))
      assert.equal(ok.title, 'Café ☕ 会议')
      assert.equal(ok.notes.length, MB)
      // nothing was written by the failures above
      assert.equal(await e.finder().count(), 2)
    })
  })
}
