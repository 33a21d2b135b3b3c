'use strict'
// Memory profile of the Node binding under a long mixed workload (issue 15: "Node RSS flat
// (<= 5 % drift) over 300k mixed calls"). Not a test: it prints one line per sample and a
// summary, for a person to read (or `--json` for a machine).
//
//   node --expose-gc bindings-node/scripts/memory-profile.js sqlite:///tmp/m.db
//   node --expose-gc bindings-node/scripts/memory-profile.js postgres://postgres@127.0.0.1/memdb \
//        --calls 300000 --every 10000
//
// Options: --calls N (300000), --every N (calls between samples, 10000), --concurrency N
// (calls in flight, 8), --connections N (pool size, 4), --rows N (seeded rows, 8000),
// --no-gc (sample without forcing a full GC first), --grow-young (grow V8's young
// generation to its bound before the calls, as test/memory.test.js does), --only KIND[,KIND] (run only these call
// kinds: create, update, page, next, text, get, notfound, conflict, badid, invalid),
// --json (a JSON document at the end).
//
// The package is loaded from the current directory's `interaction-store` (an installed
// tarball) or, failing that, from bindings-node itself (after `npm run build`).
//
// Each sample: rss, and from /proc/self/status RssAnon (heap, V8, mmap'd anonymous memory)
// and RssFile (mapped files: code, SQLite's mmap); V8's heapUsed and heapTotal, external
// and arrayBuffers; newSpace, the size of V8's young generation. "native" is rss - heapTotal:
// what is not V8's own heap. The summary
// reports, from the 20 % mark (after a warm-up) to the end, the growth of each, and the
// slope of a least-squares line through the samples of the last 80 %, per 100k calls:
// a bounded cache filling shows as a step early on and a flat slope, a leak as a slope.
const fs = require('node:fs')
const path = require('node:path')
const { execFileSync } = require('node:child_process')

// `control` instead of a URL: the same workload against a stand-in with no addon, whose
// calls settle from a macrotask with plain objects of the same shape. What grows there is
// Node and V8 alone.
function control() {
  let id = 100
  const row = (i) => ({
    id: i, siteId: 1, title: 'title ' + i, interactionType: 'call', lead: 'Lead', startDatetime: new Date(),
    endDatetime: new Date(), timezone: 'Europe/Berlin', location: null, description: 'd'.repeat(300),
    notes: 'note ' + i, createdBy: 1, createdAt: new Date(), updatedBy: null, updatedAt: null,
    deletedAt: null, deletedBy: null, version: 1,
  })
  const later = (f) => new Promise((resolve, reject) => setImmediate(() => {
    try { resolve(f()) } catch (e) { reject(e) }
  }))
  const fail = (code) => { throw Object.assign(new Error(code), { code }) }
  const finder = (o = {}) => ({
    types: (t) => finder({ ...o, types: t }), sort: (x) => finder({ ...o, sort: x }),
    limit: (x) => finder({ ...o, limit: x }), after: (x) => finder({ ...o, after: x }),
    text: (x) => finder({ ...o, text: x }),
    fetch: () => later(() => ({ items: Array.from({ length: Math.min(o.limit || 50, 20) }, (_, k) => row(k)), nextCursor: 'c'.repeat(60) })),
  })
  const session = {
    createInteraction: (x) => later(() => (x.end < x.start ? fail('VALIDATION') : row(id++))),
    getInteraction: (i) => later(() => (i > 1e8 ? fail('NOT_FOUND') : Number.isInteger(i) ? row(i) : fail('VALIDATION'))),
    updateInteraction: (i, p, v) => later(() => (v ? fail('CONFLICT') : row(i))),
    finder: () => finder(),
  }
  return {
    InteractionStore: {
      connect: async () => ({
        backend: 'control (no addon)', createSite: async () => ({ id: 1 }), createUser: async () => ({ id: 1 }),
        grantRole: async () => {}, sessionForUser: async () => session, close: async () => {},
      }),
    },
  }
}

function loadPackage() {
  if (url === 'control') return control()
  try {
    return require(require.resolve('interaction-store', { paths: [process.cwd()] }))
  } catch {
    return require(path.join(__dirname, '..'))
  }
}

const args = process.argv.slice(2)
const url = args.find((a) => !a.startsWith('--') && !/^\d+$/.test(a))
if (!url) {
  console.error('usage: node --expose-gc memory-profile.js URL [--calls N] [--every N] [--json] ...')
  process.exit(2)
}
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`)
  return i < 0 ? dflt : args[i + 1]
}
const CALLS = Number(opt('calls', 300000))
const EVERY = Number(opt('every', 10000))
const CONCURRENCY = Number(opt('concurrency', 8))
const CONNECTIONS = Number(opt('connections', 4))
const ROWS = Number(opt('rows', 8000))
const FORCE_GC = !args.includes('--no-gc')
const JSON_OUT = args.includes('--json')
const ONLY = opt('only', null)
const GROW_YOUNG = args.includes('--grow-young')
if (FORCE_GC && typeof global.gc !== 'function') {
  console.error('run with --expose-gc (or pass --no-gc)')
  process.exit(2)
}

const lib = loadPackage()
const MiB = 1048576
// The same burst as test/memory.test.js.
const { newSpace, growYoungGeneration } = require('../test/young-generation.js')

function status() {
  const out = {}
  for (const line of fs.readFileSync('/proc/self/status', 'utf8').split('\n')) {
    const m = /^(RssAnon|RssFile|RssShmem|VmRSS):\s+(\d+) kB/.exec(line)
    if (m) out[m[1]] = Number(m[2]) * 1024
  }
  return out
}

function sample(calls) {
  if (FORCE_GC) {
    global.gc()
    global.gc()
  }
  const m = process.memoryUsage()
  const s = status()
  return {
    calls,
    rss: m.rss,
    anon: s.RssAnon,
    file: s.RssFile,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
    native: m.rss - m.heapTotal,
    newSpace: newSpace(),
  }
}

function seed(sql) {
  if (url.startsWith('postgres')) {
    execFileSync('psql', [url, '-X', '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql])
  } else {
    execFileSync('sqlite3', [url.replace(/^sqlite:\/\//, ''), sql])
  }
}

const input = (title, n) => ({
  title,
  interactionType: n % 2 ? 'call' : 'meeting',
  lead: 'Lead ' + (n % 7),
  start: '2026-03-02T09:00:00Z',
  end: '2026-03-02T10:00:00Z',
  timezone: 'Europe/Berlin',
  notes: 'note ' + n,
})

function expect(code) {
  return (e) => {
    if (e.code !== code) throw e
  }
}

async function main() {
  const store = await lib.InteractionStore.connect(url, {
    migrate: true,
    minConnections: CONNECTIONS,
    maxConnections: CONNECTIONS,
  })
  const site = await store.createSite('memory ' + Date.now())
  const user = await store.createUser('memory' + Date.now(), `memory${Date.now()}@example.com`, 'correct horse battery')
  await store.grantRole(user.id, site.id, 'editor')
  const s = await store.sessionForUser(user.id, site.id)
  const first = await s.createInteraction(input('seed', 0))
  // Rows beyond SQLite's page cache (2 MiB per connection), ~300 bytes of description each.
  if (url === 'control') {
    // nothing to seed
  } else if (url.startsWith('postgres')) {
    seed(
      'INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, end_datetime, ' +
        "description, created_by, created_at) SELECT site_id, title || ' ' || n, type, lead, " +
        "start_datetime + n * interval '1 second', timezone, end_datetime + n * interval '1 second', " +
        'repeat(md5(n::text), 10), created_by, created_at FROM interactions, generate_series(1, ' +
        ROWS +
        ') n WHERE interaction_id = ' +
        first.id,
    )
  } else {
    seed(
      'INSERT INTO interactions (site_id, title, type, lead, start_datetime, timezone, end_datetime, ' +
        "description, created_by, created_at) SELECT site_id, title || ' ' || n, type, lead, start_datetime + n, " +
        'timezone, end_datetime + n, hex(randomblob(150)), created_by, created_at FROM interactions, ' +
        `(WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < ${ROWS}) SELECT n FROM c) ` +
        'WHERE interaction_id = ' +
        first.id,
    )
  }
  const ids = []
  for (let k = 0; k < 64; k++) ids.push(first.id + 1 + ((k * 7919) % ROWS))
  // Interactions this run updates: created ones, with the version they are at.
  const mine = []
  let cursor = null

  const kinds = {
    create: (n) =>
      s.createInteraction(input('created ' + n, n)).then((i) => {
        if (mine.length < 256) mine.push(i)
        else mine[n % 256] = i
      }),
    update: (n) => {
      const i = mine[n % Math.max(1, mine.length)]
      if (!i) return s.getInteraction(ids[0])
      return s.updateInteraction(i.id, { title: 'updated ' + n, location: n % 3 ? 'Room ' + n : null }).then((u) => {
        const k = mine.indexOf(i)
        if (k >= 0) mine[k] = u
      })
    },
    page: () =>
      s
        .finder()
        .types(['call'])
        .sort('start_asc')
        .limit(20)
        .fetch()
        .then((p) => {
          cursor = p.nextCursor
        }),
    next: () =>
      cursor
        ? s.finder().types(['call']).sort('start_asc').limit(20).after(cursor).fetch()
        : s.finder().limit(20).fetch(),
    text: (n) => s.finder().text(`"seed ${n % ROWS}"`).limit(10).fetch(),
    get: (n) => s.getInteraction(ids[n % ids.length]),
    notfound: (n) => s.getInteraction(1e9 + n).catch(expect('NOT_FOUND')),
    conflict: () => s.updateInteraction(first.id, { lead: 'x' }, 1e6).catch(expect('CONFLICT')),
    badid: () => s.getInteraction(1.5).catch(expect('VALIDATION')),
    invalid: (n) =>
      s
        .createInteraction({ ...input('bad ' + n, n), end: '2026-03-02T08:00:00Z' })
        .catch(expect('VALIDATION')),
  }
  // One cycle of 20 calls: 11 gets, 2 Finder pages + 1 next page + 1 full-text page,
  // 1 create, 1 update, 4 failing calls (NOT_FOUND, CONFLICT, binding VALIDATION, core
  // VALIDATION).
  let cycle = [
    'create', 'page', 'next', 'text', 'notfound', 'update', 'conflict', 'badid', 'invalid',
    'page', 'get', 'get', 'get', 'get', 'get', 'get', 'get', 'get', 'get', 'get',
  ]
  if (ONLY) {
    const keep = ONLY.split(',')
    cycle = cycle.filter((k) => keep.includes(k))
    if (!cycle.length) cycle = keep
  }
  let n = 0
  const call = () => {
    n += 1
    return kinds[cycle[n % cycle.length]](n)
  }
  const run = async (count) => {
    const lanes = []
    for (let i = 0; i < CONCURRENCY; i++) lanes.push(i)
    for (let done = 0; done < count; done += CONCURRENCY) await Promise.all(lanes.map(call))
  }

  if (GROW_YOUNG) growYoungGeneration()
  const samples = [sample(0)]
  const t0 = Date.now()
  const line = (x) =>
    [
      String(x.calls).padStart(7),
      ...['rss', 'anon', 'file', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers', 'native', 'newSpace'].map((k) =>
        (x[k] / MiB).toFixed(1).padStart(9),
      ),
    ].join(' ')
  if (!JSON_OUT) {
    console.log(`${store.backend}, ${CALLS} calls, ${CONCURRENCY} in flight, ${CONNECTIONS} connections, node ${process.version}, flags: ${process.execArgv.join(' ') || '-'}`)
    console.log('  calls       rss      anon      file  heapUsed heapTotal  external arrayBuf    native  newSpace (MiB)')
    console.log(line(samples[0]))
  }
  while (n < CALLS) {
    await run(Math.min(EVERY, CALLS - n))
    const x = sample(n)
    samples.push(x)
    if (!JSON_OUT) console.log(line(x))
  }
  const seconds = (Date.now() - t0) / 1000
  await store.close()

  // From the 20 % mark to the end.
  const from = samples.find((x) => x.calls >= CALLS * 0.2)
  const last = samples[samples.length - 1]
  const mid = samples.find((x) => x.calls >= CALLS * 0.6)
  const tail = samples.filter((x) => x.calls >= from.calls)
  const slope = (k) => {
    const xs = tail.map((x) => x.calls)
    const ys = tail.map((x) => x[k])
    const mx = xs.reduce((a, b) => a + b, 0) / xs.length
    const my = ys.reduce((a, b) => a + b, 0) / ys.length
    let num = 0
    let den = 0
    for (let i = 0; i < xs.length; i++) {
      num += (xs[i] - mx) * (ys[i] - my)
      den += (xs[i] - mx) ** 2
    }
    return den ? (num / den) * 100000 : 0
  }
  const summary = {}
  for (const k of ['rss', 'anon', 'file', 'heapUsed', 'heapTotal', 'external', 'native']) {
    summary[k] = {
      start: samples[0][k],
      warm: from[k],
      end: last[k],
      max: Math.max(...tail.map((x) => x[k])),
      driftPct: (last[k] / from[k] - 1) * 100,
      // Growth over the last 40 % alone: a leak keeps growing there, a filled cache does not.
      lastPart: last[k] - mid[k],
      slopePer100k: slope(k),
    }
  }
  if (JSON_OUT) {
    console.log(JSON.stringify({ backend: store.backend, calls: n, seconds, flags: process.execArgv, samples, summary }))
    return
  }
  console.log(`${n} calls in ${seconds.toFixed(1)} s (${Math.round(n / seconds)} calls/s)`)
  console.log(`from the 20 % mark (${from.calls} calls) to the end:`)
  for (const [k, v] of Object.entries(summary)) {
    console.log(
      `  ${k.padEnd(10)} ${(v.warm / MiB).toFixed(1).padStart(7)} -> ${(v.end / MiB).toFixed(1).padStart(7)} MiB` +
        ` (${v.driftPct >= 0 ? '+' : ''}${v.driftPct.toFixed(1)} %), max ${(v.max / MiB).toFixed(1)},` +
        ` slope ${(v.slopePer100k / MiB).toFixed(2)} MiB per 100k calls,` +
        ` last 40 %: ${v.lastPart >= 0 ? '+' : ''}${(v.lastPart / MiB).toFixed(1)} MiB`,
    )
  }
}

main().catch((e) => {
  console.error(e)
  process.exit(1)
})
