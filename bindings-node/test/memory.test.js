'use strict'
// Native memory stays bounded (issue 15: "Node RSS flat (<= 5 % drift)"): 100k+ mixed calls
// (gets, creates, updates, Finder pages and next pages, full-text pages, and failing calls:
// NOT_FOUND, CONFLICT, a binding VALIDATION and a core VALIDATION) on a SQLite file, in a
// child process of its own so that nothing else lives in the measured heap. RSS is sampled
// (after a full GC) once the bounded caches have filled, and at the end; the drift between
// the two must stay within 5 %. The child runs with Node's default V8 settings
// (`--expose-gc` only, for the samples).
//
// The bounded caches, filled before the first sample:
// - V8's young generation. V8 doubles it (1 -> 2 -> 4 -> 8 -> 16 MiB semi-spaces on a 64-bit
//   machine with a default heap limit, `heapTotal` ~5 -> ~36 MiB) whenever the bytes that
//   survived scavenges since the last doubling exceed its size, and keeps it as long as
//   allocation stays busy (it gives it back when allocation slows down, see the warm-up
//   below): any busy promise workload reaches
//   the bound, the addon or not (scripts/memory-profile.js and bindings-node/README.md have
//   the numbers: the same 36 MiB plateau with no addon at all). How many calls that takes
//   depends on the load (here the last doubling came at ~195k calls), so the child brings
//   it forward: a short burst of short-lived JS objects grows it to its default bound, no
//   flag changes the bound. The test then also checks that `heapTotal` did not grow during
//   the measured calls.
// - SQLite's page cache, up to 2 MiB per pooled connection: the database is seeded beyond
//   that and every connection scans it.
// - The allocators' and the runtime's working set: 10 % more calls run before the sample.
//
// Besides RSS, the drift of native memory (RSS - heapTotal) must stay within 5 % too.
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const { test } = require('node:test')
const { backends } = require('./helpers')

const CALLS = Number(process.env.MEMORY_TEST_CALLS || 100000)
const MAX_DRIFT = 0.05

const child = `
'use strict'
const lib = require(${JSON.stringify(require.resolve('interaction-store'))})
const { execSql } = require(${JSON.stringify(require.resolve('./helpers'))})
const { newSpace, growYoungGeneration } = require(${JSON.stringify(require.resolve('./young-generation'))})
const [url, total] = [process.argv[1], Number(process.argv[2])]
const sample = () => { global.gc(); global.gc(); const m = process.memoryUsage(); return { rss: m.rss, heapTotal: m.heapTotal } }
const input = (title, n) => ({ title, interactionType: n % 2 ? 'call' : 'meeting', lead: 'Lead ' + (n % 7),
  start: '2026-03-02T09:00:00Z', end: '2026-03-02T10:00:00Z', timezone: 'Europe/Berlin', notes: 'note ' + n })
const expect = (code) => (e) => { if (e.code !== code) throw e }
;(async () => {
  const store = await lib.InteractionStore.connect(url, { migrate: true, minConnections: 4, maxConnections: 4 })
  const site = await store.createSite('memory')
  const user = await store.createUser('memory', 'memory@example.com', 'correct horse battery')
  await store.grantRole(user.id, site.id, 'editor')
  const s = await store.sessionForUser(user.id, site.id)
  const first = await s.createInteraction(input('seed', 0))
  // ~8 MB of rows, beyond the 2 MiB page cache of each connection.
  execSql(url, 'INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, end_datetime, ' +
    'description, created_by, created_at) SELECT site_id, title || \\' \\' || n, type, lead, start_datetime + n, ' +
    'timezone, end_datetime + n, hex(randomblob(300)), created_by, created_at FROM interactions, ' +
    '(WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 8000) SELECT n FROM c) ' +
    'WHERE interaction_id = ' + first.id)
  const ids = []
  for (let k = 0; k < 64; k++) ids.push(first.id + 1 + ((k * 7919) % 8000))
  const mine = []
  let cursor = null
  let n = 0
  // One cycle of 20 calls: 11 gets, 1 create, 1 update, 2 Finder pages, 1 next page,
  // 1 full-text page, 4 failing calls.
  const call = () => {
    n += 1
    switch (n % 20) {
      case 0: return s.createInteraction(input('created ' + n, n)).then((i) => { mine[n % 64] = i })
      case 1: {
        const i = mine[(n >> 5) % 64]
        if (!i) return s.getInteraction(ids[0])
        return s.updateInteraction(i.id, { title: 'updated ' + n, location: n % 3 ? 'Room ' + n : null })
      }
      case 2: case 3: return s.finder().types(['call']).sort('start_asc').limit(20).fetch().then((p) => { cursor = p.nextCursor })
      case 4: {
        const f = s.finder().types(['call']).sort('start_asc').limit(20)
        return (cursor ? f.after(cursor) : f).fetch()
      }
      case 5: return s.finder().text('"seed ' + (n % 8000) + '"').limit(10).fetch()
      case 6: return s.getInteraction(1e9 + n).catch(expect('NOT_FOUND'))
      case 7: return s.updateInteraction(first.id, { lead: 'x' }, 1e6).catch(expect('CONFLICT'))
      case 8: return s.getInteraction(0.5).catch(expect('VALIDATION'))
      case 9: return s.createInteraction({ ...input('bad', n), end: '2026-03-02T08:00:00Z' }).catch(expect('VALIDATION'))
      default: return s.getInteraction(ids[n % ids.length])
    }
  }
  const run = async (count) => {
    for (let i = 0; i < count; i += 8) await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(call))
  }
  // Warm-up: every connection scans the whole table once (fills its page cache), V8's young
  // generation reaches its bound, then 10 % of the calls.
  await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(() => s.finder().titleContains('no such title').fetch()))
  const newSpaceSize = growYoungGeneration()
  await run(Math.round(total / 10))
  // V8 gives the young generation back when allocation slows down (a starved CI machine):
  // grow it again, then run calls until the burst's garbage is gone.
  for (let k = 0; k < 3 && newSpace() < newSpaceSize; k++) {
    growYoungGeneration()
    await run(Math.round(total / 20))
  }
  const warm = sample()
  const marks = []
  for (let q = 0; q < 4; q++) { await run(total / 4); marks.push(sample()) }
  const end = marks[marks.length - 1]
  await store.close()
  console.log(JSON.stringify({ calls: n, newSpaceSize, warm, marks, end }))
})().catch((e) => { console.error(e); process.exit(3) })
`

test(`RSS drift stays within ${MAX_DRIFT * 100} % over ${CALLS} mixed calls (SQLite file)`, () => {
  const url = backends.find((b) => b.name === 'sqlite').newDatabase()
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', child, url, String(CALLS)], {
    encoding: 'utf8',
    timeout: 300000,
    killSignal: 'SIGKILL',
  })
  assert.equal(r.status, 0, `child failed (signal ${r.signal}): ${r.stderr}`)
  const m = JSON.parse(r.stdout.trim().split('\n').pop())
  const mib = (b) => `${(b / 1048576).toFixed(1)}`
  const native = (x) => x.rss - x.heapTotal
  const drift = m.end.rss / m.warm.rss - 1
  const nativeDrift = native(m.end) / native(m.warm) - 1
  const pct = (d) => `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)} %`
  const report =
    `${m.calls} calls (young generation grown to ${mib(m.newSpaceSize)} MiB first): ` +
    `RSS ${mib(m.warm.rss)} MiB after warm-up, ${m.marks.map((x) => mib(x.rss)).join(' / ')} (${pct(drift)}); ` +
    `heapTotal ${mib(m.warm.heapTotal)} -> ${mib(m.end.heapTotal)}; ` +
    `native (RSS - heapTotal) ${mib(native(m.warm))} -> ${mib(native(m.end))} (${pct(nativeDrift)})`
  console.log(report)
  assert.ok(m.calls >= CALLS, report)
  assert.ok(drift <= MAX_DRIFT, `RSS drift: ${report}`)
  assert.ok(nativeDrift <= MAX_DRIFT, `native drift: ${report}`)
  // The young generation was at its bound before the measured calls: heapTotal holds.
  assert.ok(m.end.heapTotal <= m.warm.heapTotal * (1 + MAX_DRIFT) + 2 * 1048576, `heapTotal grew: ${report}`)
})
