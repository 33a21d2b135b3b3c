'use strict'
// Bad inputs of every kind reject with code VALIDATION and the field at fault, on every
// backend: wrong JS types, invalid dates, offset-less instants, huge strings, NUL bytes,
// lone UTF-16 surrogates, unknown keys in input objects, a null cursor.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { describe, test, before, after } = require('node:test')
const lib = require('interaction-store')
const { InteractionStore, SiteSession } = lib
const { backends, fixture, newInteraction, rejects, uniqueName, PASSWORD } = require('./helpers')

const PKG_DIR = path.dirname(require.resolve('interaction-store'))
const native = require(path.join(PKG_DIR, 'native.js'))

// The accepted keys of the input objects come from the Rust structs (src/inputs.rs); they
// must be exactly the members of the generated TypeScript interfaces, and every object
// parameter of a native method must be one of them.
test('the accepted keys of the input objects are the index.d.ts interfaces', () => {
  const dts = fs.readFileSync(path.join(PKG_DIR, 'index.d.ts'), 'utf8')
  const interfaces = {}
  for (const m of dts.matchAll(/^export interface (\w+) \{\n([\s\S]*?)^\}/gm)) {
    interfaces[m[1]] = Object.fromEntries([...m[2].matchAll(/^ {2}(\w+)\??: (.*)$/gm)].map((f) => [f[1], f[2]]))
  }
  const aliases = Object.fromEntries([...dts.matchAll(/^export type (\w+) = (.*)$/gm)].map((m) => [m[1], m[2]]))
  const typeNames = (t) => t.split('|').map((x) => x.trim()).flatMap((x) => (aliases[x] ? typeNames(aliases[x]) : [x]))
  const shapes = native.inputShapes()
  assert.ok(Object.keys(shapes).length >= 7)
  for (const [shape, keys] of Object.entries(shapes)) {
    assert.ok(interfaces[shape], `${shape} is not an interface of index.d.ts`)
    assert.deepEqual(Object.keys(keys).sort(), Object.keys(interfaces[shape]).sort(), `keys of ${shape}`)
    for (const [key, nested] of Object.entries(keys)) {
      const inDts = typeNames(interfaces[shape][key]).filter((t) => interfaces[t])
      assert.deepEqual(inDts, nested === null ? [] : [nested], `input object in ${shape}.${key}`)
    }
  }
  const classes = [...dts.matchAll(/^export declare class (?:InteractionStore|SiteSession) \{\n([\s\S]*?)^\}/gm)]
  assert.equal(classes.length, 2)
  for (const [, body] of classes) {
    for (const [, params] of body.matchAll(/^ {2}(?:static )?\w+\((.*)\): Promise/gm)) {
      for (const [, type] of params.matchAll(/\w+\??: ([^,]+)/g)) {
        for (const t of typeNames(type)) if (interfaces[t]) assert.ok(shapes[t], `parameter type ${t} has no input keys`)
      }
    }
  }
})

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
      await rejects(f.adminS.auditTrail({ after: 5 }), 'VALIDATION', 'cursor')
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

    test('lone UTF-16 surrogates in any string are refused, not stored as U+FFFD', async () => {
      const s = f.store
      const e = f.editorS
      const before = await e.finder().count()
      for (const bad of ['a\uD800b', '\uDC00', 'x\uDBFF', '\uDE00\uD83D']) {
        // string arguments
        await rejects(s.createUser(`u${bad}`, 'lone@example.com', PASSWORD), 'VALIDATION', 'username')
        await rejects(s.createUser('lone', `l${bad}@example.com`, PASSWORD), 'VALIDATION', 'email')
        await rejects(s.createUser('lone', 'lone@example.com', PASSWORD + bad), 'VALIDATION', 'password')
        await rejects(s.getUserByUsername(bad), 'VALIDATION', 'username')
        await rejects(s.setPassword(f.viewer.id, PASSWORD + bad), 'VALIDATION', 'password')
        await rejects(s.createSite(`site${bad}`), 'VALIDATION', 'name')
        await rejects(s.createSite('site', bad), 'VALIDATION', 'description')
        await rejects(s.grantRole(f.viewer.id, f.site.id, `admin${bad}`), 'VALIDATION', 'role')
        await rejects(s.login(f.viewer.username + bad, PASSWORD), 'VALIDATION', 'username')
        await rejects(s.login(f.viewer.username, PASSWORD + bad), 'VALIDATION', 'password')
        await rejects(s.logout(bad), 'VALIDATION', 'token')
        await rejects(s.session(bad, f.site.id), 'VALIDATION', 'token')
        await rejects(s.migrateTo(`1.0.0${bad}`), 'VALIDATION', 'version')
        await rejects(InteractionStore.connect(`sqlite::memory:${bad}`), 'VALIDATION', 'url')
        await rejects(f.adminS.setMemberRole(f.viewer.id, bad), 'VALIDATION', 'role')
        // strings inside input objects (and nested ones)
        const fields = {
          title: 'title',
          interactionType: 'type',
          lead: 'lead',
          timezone: 'timezone',
          location: 'location',
          description: 'description',
          notes: 'notes',
          idempotencyKey: 'idempotency_key',
          start: 'start_datetime',
          end: 'end_datetime',
        }
        for (const [key, field] of Object.entries(fields)) {
          await rejects(e.createInteraction(newInteraction({ [key]: `v${bad}` })), 'VALIDATION', field)
          if (key !== 'idempotencyKey') await rejects(e.updateInteraction(item.id, { [key]: `v${bad}` }), 'VALIDATION', field)
        }
        await rejects(e.createInteraction(newInteraction({ start: { local: `2026-03-02T09:00:00${bad}` } })), 'VALIDATION', 'start_datetime')
        await rejects(e.updateInteraction(item.id, { end: { local: bad } }), 'VALIDATION', 'end_datetime')
        await rejects(f.adminS.auditTrail({ after: bad }), 'VALIDATION', 'cursor')
        await rejects(e.finder().text(bad).fetch(), 'VALIDATION', 'text')
        await rejects(e.finder().titleContains(bad).count(), 'VALIDATION', 'title_contains')
        await rejects(e.finder().leadContains(bad).explain(), 'VALIDATION', 'lead_contains')
        await rejects(e.finder().types(['meeting', bad]).fetch(), 'VALIDATION', 'types')
        await rejects(e.finder().sort(bad).fetch(), 'VALIDATION', 'sort')
        await rejects(e.finder().dateRange(`2026-01-01T00:00:00Z${bad}`, new Date()).fetch(), 'VALIDATION', 'date_range')
        await rejects(e.finder().dateRange(new Date(0), new Date(), bad).fetch(), 'VALIDATION', 'date_range')
        await rejects(e.finder().after(bad).fetch(), 'VALIDATION', 'cursor')
        await rejects(e.find({ after: bad }), 'VALIDATION', 'cursor')
      }
      // nothing was written, and a well-formed pair (an emoji) is text like any other
      await rejects(s.getUserByUsername('lone'), 'NOT_FOUND')
      assert.equal(await e.finder().count(), before)
      assert.equal((await e.getInteraction(item.id)).title, item.title)
      const ok = await e.createInteraction(newInteraction({ title: 'Launch \uD83D\uDE80', notes: '\u{1F600}' }))
      assert.equal(ok.title, 'Launch 🚀')
      assert.equal(ok.notes, '😀')
      await e.deleteInteraction(ok.id)
    })

    test('unknown keys in input objects are refused, naming the key', async () => {
      const e = f.editorS
      const before = await e.finder().count()
      const unknown = async (promise, key, accepted) => {
        const err = await rejects(promise, 'VALIDATION', key)
        assert.ok(err.message.includes(JSON.stringify(key)), err.message)
        for (const k of accepted) assert.ok(err.message.includes(k), `${err.message} lists ${k}`)
      }
      await unknown(e.createInteraction(newInteraction({ locaton: 'Room 4' })), 'locaton', ['location', 'idempotencyKey'])
      await unknown(e.createInteraction(newInteraction({ locaton: undefined })), 'locaton', ['location'])
      await unknown(e.createInteraction(newInteraction({ interaction_type: 'call' })), 'interaction_type', ['interactionType'])
      await unknown(e.createInteraction(newInteraction({ start: { local: '2026-03-02T09:00:00', tz: 'UTC' } })), 'tz', ['local'])
      await unknown(e.updateInteraction(item.id, { titel: 'Typo' }), 'titel', ['title', 'notes'])
      await unknown(e.updateInteraction(item.id, { ...item, title: 'Spread' }), 'id', ['title'])
      await unknown(e.updateInteraction(item.id, { idempotencyKey: 'k' }), 'idempotencyKey', ['title'])
      await unknown(e.find({ txt: 'budget' }), 'txt', ['text', 'after'])
      await unknown(e.count({ type: ['meeting'] }), 'type', ['types'])
      await unknown(e.explain({ cursor: 'x' }), 'cursor', ['after'])
      await unknown(e.find({ dateRange: { from: new Date(0), to: new Date(), mod: 'contained' } }), 'mod', ['from', 'to', 'mode'])
      await unknown(f.adminS.auditTrail({ limt: 5 }), 'limt', ['limit', 'after'])
      await unknown(InteractionStore.connect(f.url, { maxConnection: 4 }), 'maxConnection', ['maxConnections'])
      await unknown(InteractionStore.connect(f.url, { migrate: true, statementTimeout: 5 }), 'statementTimeout', ['statementTimeoutMs'])
      // nothing was written, and the item kept its title
      assert.equal(await e.finder().count(), before)
      assert.equal((await e.getInteraction(item.id)).title, item.title)
      // every documented key is still accepted
      const all = await e.createInteraction(
        newInteraction({ location: 'L', description: 'D', notes: 'N', idempotencyKey: uniqueName('key') }),
      )
      const patched = await e.updateInteraction(all.id, { title: 'T', interactionType: 'call', lead: 'B', timezone: 'UTC', location: null, description: null, notes: null, start: { local: '2026-03-02T08:00:00' }, end: new Date('2026-03-02T11:00:00Z') }, all.version)
      assert.equal(patched.location, null)
      const options = { text: null, titleContains: 'T', types: ['call'], leadContains: 'B', dateRange: { from: new Date(0), to: '2030-01-01T00:00:00Z', mode: 'overlap' }, createdBy: f.editor.id, includeDeleted: false, sort: 'start_asc', limit: 10, after: null }
      assert.equal((await e.find(options)).items.length, 1)
      assert.equal(await e.count(options), 1)
      assert.equal(typeof (await e.explain(options)), 'string')
      assert.equal((await f.adminS.auditTrail({ limit: 1, after: null })).entries.length, 1)
      await e.deleteInteraction(all.id)
    })

    test('finder.after() takes a cursor only: null or undefined is refused, not page 1 again', async () => {
      const e = f.editorS
      // the synchronous builder throws (inside an async function: a rejection)
      for (const bad of [null, undefined, 5, {}]) {
        await rejects(() => e.finder().after(bad), 'VALIDATION', 'cursor')
      }
      const last = await e.finder().fetch()
      assert.equal(last.nextCursor, null)
      await rejects(() => e.finder().after(last.nextCursor).fetch(), 'VALIDATION', 'cursor')
      // the raw options keep `null` as "absent"; iteration still walks every page
      assert.equal((await e.find({ after: null })).items.length, last.items.length)
      const seen = []
      for await (const i of e.finder().limit(1)) seen.push(i.id)
      assert.deepEqual(seen, last.items.map((i) => i.id))
    })

    test("the README's paging loop, as written, ends", async () => {
      // The README's Finder example, run as published (the README ships in the package).
      const readme = fs.readFileSync(path.join(PKG_DIR, 'README.md'), 'utf8')
      const code = /^## Finder\n\n```js\n([\s\S]*?)^```/m.exec(readme)[1]
      assert.match(code, /nextCursor/)
      const real = f.adminS
      const made = []
      for (let n = 0; n < 45; n++) made.push(await real.createInteraction(newInteraction({ title: `Budget review ${n}`, interactionType: n % 2 ? 'call' : 'meeting' })))
      await real.createInteraction(newInteraction({ title: 'Budget draft' }))
      // the example's session, with a bound on the number of pages it may fetch
      let finds = 0
      const session = {
        find(options) {
          finds += 1
          if (finds > 20) throw new Error('the README paging loop did not end')
          return real.find(options)
        },
        count: (options) => real.count(options),
        explain: (options) => real.explain(options),
        finder() {
          return SiteSession.prototype.finder.call(this)
        },
      }
      const AsyncFunction = (async () => {}).constructor
      await new AsyncFunction('session', code)(session)
      // 3 pages of 20 for the loop, 3 more for the for-await
      assert.equal(finds, 6)
      for (const i of made) await real.deleteInteraction(i.id)
    })
  })
}
