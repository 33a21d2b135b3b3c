'use strict'
// Instants keep the core's microseconds (issue 11): every instant field `x` (a millisecond
// `Date`) has `xIso`, the exact ISO-8601 UTC string, and that string is accepted wherever an
// instant is an input, so values read here and passed back round-trip exactly; on every
// backend (SQLite temp files and PostgreSQL).
const assert = require('node:assert/strict')
const { describe, test, before, after } = require('node:test')
const lib = require('interaction-store')
const { InteractionStore, maskInteraction } = lib
const { backends, fixture, newInteraction } = require('./helpers')

const ISO_MICROS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/

for (const backend of backends) {
  describe(`microsecond instants on ${backend.name}`, () => {
    let f
    before(async () => {
      f = await fixture(backend, { InteractionStore })
    })
    after(async () => {
      await f?.close()
    })

    test('an interaction written with microseconds is found by its own ISO bounds', async () => {
      const created = await f.editorS.createInteraction(
        newInteraction({ title: 'Micro', start: '2026-03-02T09:00:00.123456Z', end: '2026-03-02T10:00:00.654321+00:00' }),
      )
      assert.equal(created.startDatetimeIso, '2026-03-02T09:00:00.123456Z')
      assert.equal(created.endDatetimeIso, '2026-03-02T10:00:00.654321Z')
      // The Date beside it is the same instant, truncated to milliseconds.
      assert.equal(created.startDatetime.toISOString(), '2026-03-02T09:00:00.123Z')
      assert.match(created.createdAtIso, ISO_MICROS)
      assert.equal(created.updatedAtIso, null)
      assert.equal(created.deletedAtIso, null)
      assert.equal(created.archivedAtIso, null)

      const i = await f.viewerS.getInteraction(created.id)
      assert.equal(i.startDatetimeIso, created.startDatetimeIso)
      const contained = (from, to) => f.viewerS.finder().dateRange(from, to, 'contained').fetch()
      const exact = await contained(i.startDatetimeIso, i.endDatetimeIso)
      assert.deepEqual(exact.items.map((x) => x.id), [created.id])
      // The millisecond Dates miss it: its start is 456 µs after the `from` bound's.
      assert.deepEqual((await contained(i.startDatetime, i.endDatetime)).items, [])
      // Every item of a page and of iterate() carries the strings too.
      for await (const x of f.viewerS.finder().dateRange(i.startDatetimeIso, i.endDatetimeIso, 'contained')) {
        assert.equal(x.endDatetimeIso, '2026-03-02T10:00:00.654321Z')
      }
    })

    test('patching with the ISO strings read back changes nothing else', async () => {
      const i = await f.editorS.createInteraction(
        newInteraction({ title: 'Patch me', start: '2026-03-03T09:00:00.000001Z', end: '2026-03-03T09:30:00.999999Z' }),
      )
      const u = await f.editorS.updateInteraction(
        i.id,
        { title: 'Patched', start: i.startDatetimeIso, end: i.endDatetimeIso },
        i.version,
      )
      assert.equal(u.startDatetimeIso, '2026-03-03T09:00:00.000001Z')
      assert.equal(u.endDatetimeIso, '2026-03-03T09:30:00.999999Z')
      assert.match(u.updatedAtIso, ISO_MICROS)
      assert.equal(u.updatedAt.getTime(), Date.parse(u.updatedAtIso))
      // A masked copy keeps the exact instants (the strings win over the Dates).
      const m = maskInteraction(u)
      assert.equal(m.startDatetimeIso, u.startDatetimeIso)
      assert.equal(m.endDatetimeIso, u.endDatetimeIso)
      await f.editorS.deleteInteraction(u.id, u.version)
      const d = (await f.adminS.finder().includeDeleted().titleContains('Patched').fetch()).items[0]
      assert.match(d.deletedAtIso, ISO_MICROS)
    })

    test('the other instant fields have their ISO strings', async () => {
      const login = await f.store.login(f.editor.username, require('./helpers').PASSWORD)
      assert.match(login.expiresAtIso, ISO_MICROS)
      assert.equal(login.expiresAt.getTime(), Math.floor(Date.parse(login.expiresAtIso)))
      const user = await f.store.getUser(f.editor.id)
      assert.match(user.lastLoginIso, ISO_MICROS)
      const members = await f.adminS.members()
      for (const m of members) assert.match(m.assignedAtIso, ISO_MICROS)
      const trail = await f.adminS.auditTrail({ limit: 5 })
      for (const e of trail.entries) assert.match(e.occurredAtIso, ISO_MICROS)
      const plan = await f.store.archive({ dryRun: true })
      assert.match(plan.cutoffIso, ISO_MICROS)
      const purge = await f.store.purge({ dryRun: true })
      assert.match(purge.nowIso, ISO_MICROS)
      for (const o of purge.outcomes) assert.match(o.cutoffIso, ISO_MICROS)
    })
  })
}
