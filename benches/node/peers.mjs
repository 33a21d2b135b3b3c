// Node peer benchmarks: the interaction-store package against what a Node user would pick
// instead, side by side in one run (issue 8).
//
//   DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node benches/node/peers.mjs
//
// Runs on the bench databases the Rust generator builds (benches/src/data.rs): PostgreSQL
// `interaction_bench_<rows>` on the server of DATABASE_URL and SQLite
// `<target>/bench-data/interaction_bench_<rows>.db`. benches/run.sh builds them, packs the
// library, installs it here and generates the Prisma client first.
//
// Method (benches/README.md, /work/shared/PERFORMANCE.md):
// - raw-SQL peers send the library's exact SQL (benches/src/ops.rs); node-postgres sends
//   untyped parameters, so the server infers the library's types (int4 ids and sites, int8
//   LIMIT); Kysely and Prisma build their own SQL for the same predicates;
// - before timing, every peer's rows (ids) are checked against the library's;
// - warm-up, then 3 rounds of N calls, peers interleaved call by call, their order rotated
//   between rounds; medians and p99 over all rounds; ratios to the first peer (lower is
//   better), except throughput groups (calls per second, higher is better).
//
// Writes benches/results/node.json (or --out) and prints a summary on stderr.

import { createRequire } from 'node:module'
import { existsSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import process from 'node:process'
import { loadavg } from 'node:os'

const require = createRequire(import.meta.url)
const HERE = dirname(fileURLToPath(import.meta.url))
const BENCHES = resolve(HERE, '..')
const REPO = resolve(BENCHES, '..')

// --- arguments ---------------------------------------------------------------------------
function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 ? process.argv[i + 1] : dflt
}
const ROWS = Number(arg('rows', process.env.BENCH_ROWS ?? '100000'))
const CALLS = Number(arg('calls', process.env.BENCH_PEER_CALLS ?? '300'))
const ROUNDS = Number(arg('rounds', '3'))
const WARMUP = Number(arg('warmup', '20'))
const ONLY = arg('only', null)?.split(',')
const OUT = arg('out', join(BENCHES, 'results', 'node.json'))
const TARGET = process.env.CARGO_TARGET_DIR ?? join(REPO, 'target')
const SQLITE_PATH = arg('sqlite-path', join(TARGET, 'bench-data', `interaction_bench_${ROWS}.db`))
const SERVER_URL = (process.env.DATABASE_URL ?? '').trim()
if (!SERVER_URL) {
  console.error(
    'DATABASE_URL is required: the admin URL of the PostgreSQL server holding the bench ' +
      'database, e.g.\n  DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres node benches/node/peers.mjs',
  )
  process.exit(2)
}

// --- the generator's constants (benches/src/data.rs) and the library's SQL (ops.rs) ------
const SITES = 10
const COMMON_TERM = 'customer'
const FILTER_TYPE = 'visit'
const USER = 'bench'
const WRITE_SITE = 'bench-writes'
const EPOCH = Date.UTC(2023, 0, 1)
const SPAN_FOR_WRITES = 800
const PAGE = 50

const COLUMNS =
  'interactions.interaction_id, interactions.site_id, interactions.title, ' +
  'interactions.type, interactions.lead, interactions.start_datetime, ' +
  'interactions.end_datetime, interactions.timezone, interactions.location, ' +
  'interactions.description, interactions.notes, interactions.created_by, ' +
  'interactions.created_at, interactions.updated_by, interactions.updated_at, ' +
  'interactions.deleted_at, interactions.deleted_by, interactions.version'
const COLUMN_NAMES = COLUMNS.split(', ').map((c) => c.split('.')[1])
const FIND_HEAD = `SELECT ${COLUMNS} FROM interactions WHERE interactions.site_id = $1 AND interactions.deleted_at IS NULL`
const RECENCY = ' ORDER BY interactions.start_datetime DESC, interactions.interaction_id DESC LIMIT '
// ops.rs numbers the get's binds the other way round; the library sends $1 id, $2 site.
const GET_SQL = `SELECT ${COLUMNS} FROM interactions WHERE interactions.interaction_id = $1 AND interactions.site_id + 0 = $2 AND interactions.deleted_at IS NULL`
const CREATE_SQL =
  'INSERT INTO interactions (site_id, title, type, lead, start_datetime, end_datetime, ' +
  'timezone, location, description, notes, created_by, created_at, version) VALUES ($1, $2, ' +
  `$3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 1) RETURNING ${COLUMNS}`
const AUDIT_PG =
  'INSERT INTO audit_log (occurred_at, actor_id, site_id, action, entity, ' +
  'entity_id, changes) VALUES ($1, $2, $3, $4, $5, $6, CAST($7 AS jsonb))'
// The library's create on PostgreSQL (interaction-core audit.rs): change and audit row in ONE
// statement, a data-modifying CTE (one round trip, atomic without BEGIN/COMMIT).
const CREATE_CTE =
  `WITH w AS (${CREATE_SQL}), a AS (INSERT INTO audit_log (occurred_at, actor_id, site_id, ` +
  'action, entity, entity_id, changes) SELECT $13, $14, $15, $16, $17, w.interaction_id, ' +
  'CAST($18 AS jsonb) FROM w) SELECT * FROM w'
const KEYSET = `${FIND_HEAD} AND (interactions.start_datetime, interactions.interaction_id) < ($2, $3)${RECENCY}$4`
const TEXT_PG = `${FIND_HEAD} AND interactions.search_vector @@ websearch_to_tsquery('english', $2)${RECENCY}$3`
const TEXT_SQLITE = `${FIND_HEAD} AND interactions.interaction_id IN (SELECT rowid FROM interactions_fts WHERE interactions_fts MATCH $2)${RECENCY}$3`
const TYPE_SQL = `${FIND_HEAD} AND interactions.type IN ($2)${RECENCY}$3`

function withDatabase(url, db) {
  const u = new URL(url)
  u.pathname = `/${db}`
  return u.toString()
}
function withOptions(url, options) {
  const u = new URL(url)
  u.searchParams.set('options', options)
  return u.toString()
}

// --- harness ------------------------------------------------------------------------------
const groups = []
const failures = []
const wanted = (gid) => !ONLY || ONLY.some((o) => gid.startsWith(o))
const quantile = (v, q) => {
  const s = [...v].sort((a, b) => a - b)
  return s[Math.round((s.length - 1) * q)]
}
const median = (v) => {
  const s = [...v].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}
const r1 = (x) => Math.round(x * 10) / 10
const r3 = (x) => Math.round(x * 1000) / 1000
const nowUs = () => Number(process.hrtime.bigint()) / 1e3

function fail(gid, peer, e) {
  const msg = `${e?.name ?? 'Error'}: ${e?.message ?? e}`.slice(0, 500)
  console.error(`  !! ${gid} / ${peer}: ${msg}`)
  failures.push({ group: gid, peer, error: msg })
}

// Runs `libCall`, then reads the statement the library's connection ran last from
// pg_stat_activity and checks the peer's SQL is the same text (prefix: the view truncates).
async function librarySqlIs(client, libCall, text) {
  await libCall()
  const r = await client.query(
    "SELECT query FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'interaction-store' " +
      'AND pid <> pg_backend_pid() AND query_start IS NOT NULL ORDER BY query_start DESC LIMIT 1',
  )
  const q = (r.rows[0]?.query ?? '').replace(/\0+$/, '').trim()
  const same = q.length > 0 && text.startsWith(q)
  if (!same) console.error(`  !! the library sent: ${q.slice(0, 300)}`)
  return same
}

const sameIds = (a, b) => a.length > 0 && a.length === b.length && a.every((x, i) => x === b[i])

async function latency(gid, title, backend, peers, { check, note = '', calls = CALLS, sqlSame = null } = {}) {
  if (!wanted(gid)) return
  console.error(`== ${gid}: ${title}`)
  const got = new Map()
  let slowest = 0
  for (const [name, fn] of peers) {
    try {
      const t0 = nowUs()
      got.set(name, await fn())
      slowest = Math.max(slowest, nowUs() - t0)
    } catch (e) {
      fail(gid, name, e)
    }
  }
  const refName = peers.find(([n]) => n.startsWith('library'))?.[0] ?? peers[0][0]
  if (!got.has(refName)) {
    console.error(`  ${refName} failed: group skipped`)
    return
  }
  const ref = got.get(refName)
  const live = []
  const checks = {}
  for (const [name, fn] of peers) {
    if (!got.has(name)) continue
    try {
      const ok = check ? await check(name, ref, got.get(name)) : sameIds(got.get(name), ref)
      if (!ok) throw new Error(`returned ids ${JSON.stringify(got.get(name)).slice(0, 200)} != library ${JSON.stringify(ref).slice(0, 200)}`)
      checks[name] = check ? 'row and audit row written' : `same ids as the library (${ref.length})`
      live.push([name, fn])
    } catch (e) {
      fail(gid, name, e)
    }
  }
  if (!live.length || live[0][0] !== peers[0][0]) {
    console.error(`  baseline ${peers[0][0]} failed: group skipped`)
    return
  }
  // Slow operations (a call over 5 ms) get fewer calls: about 2 s per peer and round.
  if (slowest > 5000) calls = Math.max(10, Math.min(calls, Math.floor(2e6 / slowest)))
  for (let i = 0; i < WARMUP; i++) for (const [, fn] of live) await fn()
  const samples = Object.fromEntries(live.map(([n]) => [n, []]))
  const roundMedians = Object.fromEntries(live.map(([n]) => [n, []]))
  for (let r = 0; r < ROUNDS; r++) {
    const k = r % live.length
    const order = [...live.slice(k), ...live.slice(0, k)]
    const round = Object.fromEntries(live.map(([n]) => [n, []]))
    for (let i = 0; i < calls; i++) {
      for (const [name, fn] of order) {
        const t0 = process.hrtime.bigint()
        await fn()
        round[name].push(Number(process.hrtime.bigint() - t0) / 1e3)
      }
    }
    for (const [n, v] of Object.entries(round)) {
      samples[n].push(...v)
      roundMedians[n].push(r1(median(v)))
    }
  }
  const base = median(samples[live[0][0]])
  const results = live.map(([name]) => {
    const v = samples[name]
    const med = median(v)
    console.error(
      `  ${name.padEnd(36)} median ${med.toFixed(1).padStart(9)} µs  p99 ${quantile(v, 0.99).toFixed(1).padStart(9)} µs  ${(med / base).toFixed(2)}x`,
    )
    return {
      peer: name,
      median_us: r1(med),
      p99_us: r1(quantile(v, 0.99)),
      ratio: r3(med / base),
      round_medians_us: roundMedians[name],
      calls: v.length,
      check: checks[name],
    }
  })
  groups.push({ id: gid, title, backend, kind: 'latency', baseline: live[0][0], note, sql_text_same_as_library: sqlSame, results })
}

async function throughput(gid, title, concurrency, peers, { callsPerWorker, note = '' }) {
  if (!wanted(gid)) return
  console.error(`== ${gid}: ${title}`)
  async function run(fn, lat) {
    const t0 = nowUs()
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        for (let i = 0; i < callsPerWorker; i++) {
          const s = nowUs()
          await fn()
          lat.push(nowUs() - s)
        }
      }),
    )
    return (concurrency * callsPerWorker) / ((nowUs() - t0) / 1e6)
  }
  for (const [, fn] of peers) await run(fn, [])
  const rates = Object.fromEntries(peers.map(([n]) => [n, []]))
  const lats = Object.fromEntries(peers.map(([n]) => [n, []]))
  for (let r = 0; r < ROUNDS; r++) {
    const k = r % peers.length
    for (const [name, fn] of [...peers.slice(k), ...peers.slice(0, k)]) rates[name].push(await run(fn, lats[name]))
  }
  const base = median(rates[peers[0][0]])
  const results = peers.map(([name]) => {
    const med = median(rates[name])
    console.error(`  ${name.padEnd(36)} ${med.toFixed(0).padStart(9)} calls/s  p99 ${quantile(lats[name], 0.99).toFixed(1)} µs  ${(med / base).toFixed(2)}x`)
    return {
      peer: name,
      calls_per_s: r1(med),
      round_calls_per_s: rates[name].map(r1),
      median_us: r1(median(lats[name])),
      p99_us: r1(quantile(lats[name], 0.99)),
      ratio: r3(med / base),
      calls: lats[name].length,
    }
  })
  groups.push({ id: gid, title, backend: 'postgres', kind: 'throughput', concurrency, baseline: peers[0][0], note, results })
}

// --- shared helpers -------------------------------------------------------------------------
function newFields(n) {
  const start = new Date(EPOCH + SPAN_FOR_WRITES * 86400e3 + n * 60e3)
  return {
    title: `Weekly pricing sync ${n}`,
    interactionType: 'meeting',
    lead: 'Alice Martin',
    start,
    end: new Date(start.getTime() + 3600e3),
    timezone: 'Europe/Berlin',
    location: 'Room 101',
    description:
      'Customer asked about the renewal timeline; the team agreed next steps, the discount options and a follow-up with the vendor before the quarter closes.',
    notes: 'Send the revised quote and schedule the pilot review.',
  }
}
const tsJson = (d) => d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z')
// The audit `changes` of a create as the library writes it (keys sorted).
function auditChanges(f) {
  const o = {
    description: f.description,
    end_datetime: tsJson(f.end),
    lead: f.lead,
    location: f.location,
    notes: f.notes,
    start_datetime: tsJson(f.start),
    timezone: f.timezone,
    title: f.title,
    type: f.interactionType,
  }
  return JSON.stringify(o)
}
const idsOf = (rows, key = 'interaction_id') => rows.slice(0, PAGE).map((r) => Number(r[key]))

// --- PostgreSQL -----------------------------------------------------------------------------
async function postgres(lib, pgmod, meta) {
  const { Kysely, PostgresDialect, sql } = await import('kysely')
  const pg = pgmod.default ?? pgmod
  const url = withDatabase(SERVER_URL, `interaction_bench_${ROWS}`)
  meta.url = url
  const admin = new pg.Client({ connectionString: url })
  await admin.connect()
  meta.fingerprint = (await admin.query("SELECT value FROM bench_meta WHERE key = 'fingerprint'")).rows[0]?.value
  meta.server_version = (await admin.query('SHOW server_version')).rows[0].server_version
  const userId = (await admin.query('SELECT user_id FROM users WHERE username = $1', [USER])).rows[0].user_id
  const siteOf = Object.fromEntries((await admin.query('SELECT name, site_id FROM sites')).rows.map((r) => [r.name, r.site_id]))
  const site = siteOf['bench-site-01']
  const wsite = siteOf[WRITE_SITE]
  const readIds = (
    await admin.query('SELECT interaction_id FROM interactions WHERE site_id = $1 ORDER BY interaction_id LIMIT 1000', [site])
  ).rows.map((r) => r.interaction_id)
  await admin.query('ANALYZE interactions') // the write site grows every run (benches/README.md)

  const store = await lib.InteractionStore.connect(url, { finderCacheTtlMs: 0 })
  const session = await store.sessionForUser(userId, site)

  // The deep keyset position, walked in pages of 500 as ops.rs does.
  const depth = Math.floor(Math.max(500, Math.min(5000, Math.floor(ROWS / SITES / 2))) / 500) * 500
  let cursor = null
  let seen = 0
  let last = null
  while (seen < depth) {
    let f = session.finder().limit(500)
    if (cursor) f = f.after(cursor)
    const page = await f.fetch()
    seen += page.items.length
    const it = page.items[page.items.length - 1]
    last = { start: it.startDatetime, id: it.id }
    cursor = page.nextCursor
    if (!cursor) break
  }
  meta.deep_depth = seen

  const pool = new pg.Pool({ connectionString: url, max: 20 })
  const db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 20 }) }) })
  let prisma = null
  try {
    const { PrismaPg } = await import('@prisma/adapter-pg')
    const { PrismaClient } = require(join(HERE, 'generated', 'prisma'))
    prisma = new PrismaClient({ adapter: new PrismaPg({ connectionString: url, max: 20 }) })
    await prisma.$connect()
  } catch (e) {
    fail('postgres', 'Prisma 7 (setup)', e)
    prisma = null
  }

  const counter = () => {
    let n = 0
    return () => readIds[++n % readIds.length]
  }
  const cLib = counter()
  const cPg = counter()
  const cPgU = counter()
  const cKy = counter()
  const cPr = counter()
  const getPeers = [
    ['pg.Pool named', async () => [(await pool.query({ name: 'get', text: GET_SQL, values: [cPg(), site] })).rows[0].interaction_id]],
    ['library', async () => [(await session.getInteraction(cLib())).id]],
    ['pg.Pool unnamed', async () => [(await pool.query(GET_SQL, [cPgU(), site])).rows[0].interaction_id]],
    [
      'Kysely',
      async () => {
        const r = await db
          .selectFrom('interactions')
          .select(COLUMN_NAMES)
          .where('interaction_id', '=', cKy())
          .where(sql`site_id + 0`, '=', site)
          .where('deleted_at', 'is', null)
          .executeTakeFirstOrThrow()
        return [r.interaction_id]
      },
    ],
  ]
  if (prisma)
    getPeers.push([
      'Prisma 7',
      async () => {
        const r = await prisma.interaction.findFirst({ where: { id: cPr(), siteId: site, deletedAt: null } })
        return [r.id]
      },
    ])
  await latency('pg_get', 'get by id (PostgreSQL)', 'postgres', getPeers, {
    sqlSame: wanted('pg_get') ? await librarySqlIs(admin, () => session.getInteraction(readIds[0]), GET_SQL) : null,
    note:
      'pg.Pool (max 20, as the library pool) with a named statement (prepared per connection) and unnamed; ' +
      'Kysely on its own pg.Pool; Prisma 7 findFirst through @prisma/adapter-pg (its own SQL: site_id = $n without the library\'s "+ 0").',
  })

  // Finder pages: pg unnamed (custom plan each call), Kysely, Prisma.
  const lim = PAGE + 1
  const recencyKy = (q) => q.orderBy('start_datetime', 'desc').orderBy('interaction_id', 'desc').limit(lim)
  const baseKy = () => db.selectFrom('interactions').select(COLUMN_NAMES).where('site_id', '=', site).where('deleted_at', 'is', null)
  const prOrder = [{ startDatetime: 'desc' }, { id: 'desc' }]
  const shapes = [
    {
      gid: 'pg_find_text',
      title: 'Finder: free text (common term) by recency, page of 50 (PostgreSQL)',
      lib: (s) => s.finder().text(COMMON_TERM),
      sql: TEXT_PG,
      values: [site, COMMON_TERM, lim],
      ky: (q) => q.where(sql`search_vector @@ websearch_to_tsquery('english', ${COMMON_TERM})`),
      prisma: async () => idsOf(await prisma.$queryRawUnsafe(TEXT_PG, site, COMMON_TERM, lim)),
      prismaNote: 'Prisma has no websearch_to_tsquery: $queryRawUnsafe with the library SQL',
    },
    {
      gid: 'pg_find_type',
      title: `Finder: filter type = ${FILTER_TYPE}, page of 50 (PostgreSQL)`,
      lib: (s) => s.finder().types([FILTER_TYPE]),
      sql: TYPE_SQL,
      values: [site, FILTER_TYPE, lim],
      ky: (q) => q.where('type', 'in', [FILTER_TYPE]),
      prisma: async () =>
        idsOf(await prisma.interaction.findMany({ where: { siteId: site, deletedAt: null, type: { in: [FILTER_TYPE] } }, orderBy: prOrder, take: lim }), 'id'),
    },
    {
      gid: 'pg_find_keyset',
      title: `Finder: keyset page after ${seen} rows (PostgreSQL)`,
      lib: (s) => s.finder().after(cursor),
      sql: KEYSET,
      values: [site, last.start, last.id, lim],
      ky: (q) => q.where(sql`(start_datetime, interaction_id)`, '<', sql`(${last.start}, ${last.id})`),
      prisma: async () =>
        idsOf(
          await prisma.interaction.findMany({
            where: {
              siteId: site,
              deletedAt: null,
              OR: [{ startDatetime: { lt: last.start } }, { startDatetime: last.start, id: { lt: last.id } }],
            },
            orderBy: prOrder,
            take: lim,
          }),
          'id',
        ),
      prismaNote: 'Prisma: the keyset as OR of two comparisons (it has no row comparison)',
    },
  ]
  for (const s of shapes) {
    const peers = [
      ['pg.Pool unnamed', async () => idsOf((await pool.query(s.sql, s.values)).rows)],
      ['library', async () => (await s.lib(session).fetch()).items.map((i) => i.id)],
      ['Kysely', async () => idsOf(await recencyKy(s.ky(baseKy())).execute())],
    ]
    if (prisma) peers.push(['Prisma 7', s.prisma])
    if (s.gid === 'pg_find_text')
      peers.push(['pg.Pool named (generic-plan trap)', async () => idsOf((await pool.query({ name: 'text', text: s.sql, values: s.values })).rows)])
    await latency(s.gid, s.title, 'postgres', peers, {
      sqlSame: wanted(s.gid) ? await librarySqlIs(admin, () => s.lib(session).fetch(), s.sql) : null,
      note:
        'pg.Pool unnamed statements (a custom plan each call); Kysely builds the same predicates; ' +
        (s.prismaNote ?? 'Prisma findMany') +
        '.',
    })
  }

  await writes(lib, pg, Kysely, PostgresDialect, url, userId, wsite, 'pg_create', '')
  await writes(lib, pg, Kysely, PostgresDialect, url, userId, wsite, 'pg_create_nosync', '-c synchronous_commit=off')

  // 16 concurrent promises.
  const tLib = counter()
  const tPg = counter()
  const tpPeers = [
    ['pg.Pool named', async () => pool.query({ name: 'get', text: GET_SQL, values: [tPg(), site] })],
    ['library', async () => session.getInteraction(tLib())],
  ]
  if (prisma) {
    const tPr = counter()
    tpPeers.push(['Prisma 7', async () => prisma.interaction.findFirst({ where: { id: tPr(), siteId: site, deletedAt: null } })])
  }
  await throughput('pg_concurrent_16', 'get by id, 16 concurrent promises, throughput (PostgreSQL)', 16, tpPeers, {
    callsPerWorker: Math.max(20, Math.floor(CALLS / 4)),
    note: 'pg.Pool max 20 (the library pool default), named statement; Prisma pool max 20.',
  })

  await pool.end()
  await db.destroy()
  if (prisma) await prisma.$disconnect()
  await store.close()
  await admin.end()
}

async function writes(lib, pg, Kysely, PostgresDialect, url, userId, wsite, gid, options) {
  if (!wanted(gid)) return
  const curl = options ? withOptions(url, options) : url
  const cfg = options ? { connectionString: url, options, max: 2 } : { connectionString: url, max: 2 }
  const store = await lib.InteractionStore.connect(curl, { finderCacheTtlMs: 0 })
  const ws = await store.sessionForUser(userId, wsite)
  const pool = new pg.Pool(cfg)
  const db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool(cfg) }) })
  let prisma = null
  try {
    const { PrismaPg } = await import('@prisma/adapter-pg')
    const { PrismaClient } = require(join(HERE, 'generated', 'prisma'))
    prisma = new PrismaClient({ adapter: new PrismaPg(cfg) })
  } catch (e) {
    fail(gid, 'Prisma 7 (setup)', e)
  }
  const setting = (await pool.query('SHOW synchronous_commit')).rows[0].synchronous_commit
  let n = Date.now() % 1_000_000
  const peers = [
    [
      "pg.Pool, the library's statement",
      async () => {
        const f = newFields(++n)
        const r = await pool.query({
          name: 'create_cte',
          text: CREATE_CTE,
          values: [wsite, f.title, f.interactionType, f.lead, f.start, f.end, f.timezone, f.location, f.description, f.notes, userId, new Date(), new Date(), userId, wsite, 'create', 'interaction', auditChanges(f)],
        })
        return [r.rows[0].interaction_id]
      },
    ],
    ['library', async () => [(await ws.createInteraction(newFields(++n))).id]],
    [
      'pg.Pool BEGIN + 2 INSERTs + COMMIT',
      async () => {
        const f = newFields(++n)
        const c = await pool.connect()
        try {
          await c.query('BEGIN')
          const r = await c.query({
            name: 'create',
            text: CREATE_SQL,
            values: [wsite, f.title, f.interactionType, f.lead, f.start, f.end, f.timezone, f.location, f.description, f.notes, userId, new Date()],
          })
          const id = r.rows[0].interaction_id
          await c.query({ name: 'audit', text: AUDIT_PG, values: [new Date(), userId, wsite, 'create', 'interaction', id, auditChanges(f)] })
          await c.query('COMMIT')
          return [id]
        } catch (e) {
          await c.query('ROLLBACK')
          throw e
        } finally {
          c.release()
        }
      },
    ],
    [
      'Kysely',
      async () => {
        const f = newFields(++n)
        return db.transaction().execute(async (trx) => {
          const r = await trx
            .insertInto('interactions')
            .values({
              site_id: wsite,
              title: f.title,
              type: f.interactionType,
              lead: f.lead,
              start_datetime: f.start,
              end_datetime: f.end,
              timezone: f.timezone,
              location: f.location,
              description: f.description,
              notes: f.notes,
              created_by: userId,
              created_at: new Date(),
              version: 1,
            })
            .returning(COLUMN_NAMES)
            .executeTakeFirstOrThrow()
          await trx
            .insertInto('audit_log')
            .values({
              occurred_at: new Date(),
              actor_id: userId,
              site_id: wsite,
              action: 'create',
              entity: 'interaction',
              entity_id: r.interaction_id,
              changes: auditChanges(f),
            })
            .execute()
          return [r.interaction_id]
        })
      },
    ],
  ]
  if (prisma)
    peers.push([
      'Prisma 7',
      async () => {
        const f = newFields(++n)
        return prisma.$transaction(async (tx) => {
          const r = await tx.interaction.create({
            data: {
              siteId: wsite,
              title: f.title,
              type: f.interactionType,
              lead: f.lead,
              startDatetime: f.start,
              endDatetime: f.end,
              timezone: f.timezone,
              location: f.location,
              description: f.description,
              notes: f.notes,
              createdBy: userId,
              createdAt: new Date(),
              version: 1,
            },
          })
          await tx.auditLog.create({
            data: {
              occurredAt: new Date(),
              actorId: userId,
              siteId: wsite,
              action: 'create',
              entity: 'interaction',
              entityId: BigInt(r.id),
              changes: JSON.parse(auditChanges(f)),
            },
          })
          return [r.id]
        })
      },
    ])
  const check = async (name, ref, got) => {
    const id = got[0]
    const r = await pool.query(
      "SELECT (SELECT count(*) FROM interactions WHERE interaction_id = $1 AND site_id = $2)::int AS i, (SELECT count(*) FROM audit_log WHERE entity = 'interaction' AND action = 'create' AND entity_id = $3)::int AS a",
      [id, wsite, id],
    )
    return r.rows[0].i === 1 && r.rows[0].a === 1
  }
  await latency(gid, `create + audit row, one transaction (PostgreSQL, synchronous_commit=${setting})`, 'postgres', peers, {
    check,
    calls: Math.max(30, Math.floor(CALLS / 3)),
    sqlSame: await librarySqlIs(pool, () => ws.createInteraction(newFields(++n)), CREATE_CTE),
    note:
      'The library writes the interaction and its audit row in one statement (a data-modifying CTE: one round trip); ' +
      'the baseline sends that statement as a named pg statement. "BEGIN + 2 INSERTs + COMMIT" is the shape most users write (4 round trips, named statements); ' +
      'Kysely transaction() with two inserts; Prisma interactive $transaction with two creates.' +
      (options ? ` Connections opened with options '${options}'.` : ''),
  })
  await pool.end()
  await db.destroy()
  if (prisma) await prisma.$disconnect()
  await store.close()
}

// --- SQLite ---------------------------------------------------------------------------------
async function sqlite(lib, meta) {
  if (!existsSync(SQLITE_PATH)) throw new Error(`${SQLITE_PATH}: build it with the Rust generator first`)
  meta.path = SQLITE_PATH
  const Database = require('better-sqlite3')
  const raw = new Database(SQLITE_PATH)
  raw.pragma('journal_mode = WAL')
  raw.pragma('synchronous = NORMAL')
  raw.pragma('foreign_keys = ON')
  raw.pragma('busy_timeout = 30000')
  meta.sqlite_version = raw.prepare('SELECT sqlite_version() AS v').get().v
  const userId = raw.prepare('SELECT user_id FROM users WHERE username = ?').get(USER).user_id
  const site = raw.prepare("SELECT site_id FROM sites WHERE name = 'bench-site-01'").get().site_id
  const readIds = raw.prepare('SELECT interaction_id FROM interactions WHERE site_id = ? ORDER BY interaction_id LIMIT 1000').all(site).map((r) => r.interaction_id)
  const store = await lib.InteractionStore.connect(`sqlite://${SQLITE_PATH}`, { finderCacheTtlMs: 0 })
  const session = await store.sessionForUser(userId, site)
  const counter = () => {
    let n = 0
    return () => readIds[++n % readIds.length]
  }
  const cLib = counter()
  const cRaw = counter()
  const getStmt = raw.prepare(GET_SQL)
  await latency(
    'sqlite_get',
    'get by id (SQLite)',
    'sqlite',
    [
      ['better-sqlite3', async () => [getStmt.get({ 1: cRaw(), 2: site }).interaction_id]],
      ['library', async () => [(await session.getInteraction(cLib())).id]],
    ],
    { note: 'better-sqlite3 12 (synchronous) on its own connection to the same file, the library SQL prepared once.' },
  )
  const lim = PAGE + 1
  for (const s of [
    { gid: 'sqlite_find_text', title: 'Finder: free text (common term) by recency (SQLite)', lib: (x) => x.finder().text(COMMON_TERM), sql: TEXT_SQLITE, binds: { 1: site, 2: `(("${COMMON_TERM}"))`, 3: lim } },
    { gid: 'sqlite_find_type', title: `Finder: filter type = ${FILTER_TYPE} (SQLite)`, lib: (x) => x.finder().types([FILTER_TYPE]), sql: TYPE_SQL, binds: { 1: site, 2: FILTER_TYPE, 3: lim } },
  ]) {
    const st = raw.prepare(s.sql)
    await latency(
      s.gid,
      s.title,
      'sqlite',
      [
        ['better-sqlite3', async () => idsOf(st.all(s.binds))],
        ['library', async () => (await s.lib(session).fetch()).items.map((i) => i.id)],
      ],
      { note: 'better-sqlite3, the library SQL and binds.' },
    )
  }
  raw.close()
  await store.close()
}

// --- main ---------------------------------------------------------------------------------
const started = new Date()
const load0 = loadavg()
const lib = require('interaction-store')
const pgmod = await import('pg')
const meta = { postgres: {}, sqlite: {} }
try {
  await postgres(lib, pgmod, meta.postgres)
} catch (e) {
  console.error(e)
  fail('postgres', 'setup', e)
}
try {
  await sqlite(lib, meta.sqlite)
} catch (e) {
  console.error(e)
  fail('sqlite', 'setup', e)
}
const version = (p) => {
  try {
    return JSON.parse(readFileSync(join(HERE, 'node_modules', p, 'package.json'), 'utf8')).version
  } catch {
    return null
  }
}
const doc = {
  language: 'node',
  started: started.toISOString(),
  finished: new Date().toISOString(),
  rows: ROWS,
  config: { calls: CALLS, rounds: ROUNDS, warmup: WARMUP },
  runtime: `Node ${process.version}`,
  loadavg_start_end: [load0, loadavg()].map((l) => l.map((x) => Math.round(x * 100) / 100)),
  versions: Object.fromEntries(['interaction-store', 'pg', 'kysely', 'prisma', '@prisma/client', '@prisma/adapter-pg', 'better-sqlite3'].map((p) => [p, version(p)])),
  meta,
  groups,
  failures,
}
mkdirSync(dirname(OUT), { recursive: true })
writeFileSync(OUT, JSON.stringify(doc, null, 1) + '\n')
console.error(`wrote ${OUT}`)
process.exit(groups.length ? 0 : 1)
