'use strict'
// Native memory stays bounded: 100k+ mixed calls (gets, Finder pages, creates, NOT_FOUND
// rejections) on a SQLite file, RSS sampled after a warm-up and at the end, in a child
// process of its own so that nothing else lives in the measured heap.
//
// Two bounded terms are brought to their steady state before the warm-up sample, so that
// the drift measures what the library retains per call:
// - V8's young generation grows adaptively from 1 MiB up to 2 x --max-semi-space-size
//   (16 MiB by default) as scavenges see surviving objects: up to +30 MiB of `heapTotal`
//   (not `heapUsed`) on any busy promise workload. The child pins it at that default
//   maximum (--min-semi-space-size = --max-semi-space-size = 16).
// - SQLite keeps a page cache of up to 2 MiB per pooled connection: the database is seeded
//   beyond that and every connection scans it during the warm-up.
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const { test } = require('node:test')
const { backends } = require('./helpers')

const CALLS = Number(process.env.MEMORY_TEST_CALLS || 100000)
const MAX_DRIFT = 0.1

const child = `
'use strict'
const lib = require(${JSON.stringify(require.resolve('interaction-store'))})
const { execSql } = require(${JSON.stringify(require.resolve('./helpers'))})
const [url, total] = [process.argv[1], Number(process.argv[2])]
const rss = () => { global.gc(); global.gc(); return process.memoryUsage().rss }
const input = (title, n) => ({ title, interactionType: n % 2 ? 'call' : 'meeting', lead: 'Lead ' + (n % 7),
  start: '2026-03-02T09:00:00Z', end: '2026-03-02T10:00:00Z', timezone: 'Europe/Berlin', notes: 'note ' + n })
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
  let n = 0
  const call = () => {
    n += 1
    switch (n % 20) {
      case 0: return s.createInteraction(input('created ' + n, n))
      case 1: case 2: return s.finder().types(['call']).sort('start_asc').limit(20).fetch()
      case 3: return s.finder().text('"seed 4242"').limit(10).fetch()
      case 4: return s.getInteraction(1e9 + n).catch((e) => { if (e.code !== 'NOT_FOUND') throw e })
      default: return s.getInteraction(ids[n % ids.length])
    }
  }
  const run = async (count) => {
    for (let i = 0; i < count; i += 8) await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(call))
  }
  // Warm-up: every connection scans the whole table once (fills its page cache), then calls.
  await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(() => s.finder().titleContains('no such title').fetch()))
  await run(Math.round(total / 5))
  const warm = rss()
  const marks = []
  for (let q = 0; q < 4; q++) { await run(total / 4); marks.push(rss()) }
  const end = rss()
  await store.close()
  console.log(JSON.stringify({ calls: n, warm, marks, end, heapUsed: process.memoryUsage().heapUsed }))
})().catch((e) => { console.error(e); process.exit(3) })
`

test(`RSS drift stays within ${MAX_DRIFT * 100} % over ${CALLS} mixed calls (SQLite file)`, () => {
  const url = backends.find((b) => b.name === 'sqlite').newDatabase()
  const flags = ['--expose-gc', '--min-semi-space-size=16', '--max-semi-space-size=16']
  const r = spawnSync(process.execPath, [...flags, '-e', child, url, String(CALLS)], {
    encoding: 'utf8',
    timeout: 300000,
    killSignal: 'SIGKILL',
  })
  assert.equal(r.status, 0, `child failed (signal ${r.signal}): ${r.stderr}`)
  const m = JSON.parse(r.stdout.trim().split('\n').pop())
  const mib = (b) => `${(b / 1048576).toFixed(1)} MiB`
  const drift = m.end / m.warm - 1
  const report = `${m.calls} calls: RSS ${mib(m.warm)} after warm-up, ${m.marks.map(mib).join(' / ')}, ` +
    `${mib(m.end)} at the end (${(drift * 100).toFixed(1)} %)`
  console.log(report)
  assert.ok(m.calls >= CALLS, report)
  assert.ok(drift <= MAX_DRIFT, report)
})
