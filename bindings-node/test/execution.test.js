'use strict'
// Time limits, error classification (TIMEOUT, CONFIGURATION, UNAVAILABLE with `retryable`
// and `cause`), idempotent creates and staged migrations (checkSchema: false, migrateTo).
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const { describe, test, before, after } = require('node:test')
const lib = require('interaction-store')
const { InteractionStore, InteractionStoreError } = lib
const { backends, fixture, newInteraction, rejects, uniqueName } = require('./helpers')

const TIMEOUTS = {
  connectTimeoutMs: 5000,
  statementTimeoutMs: 20000,
  lockTimeoutMs: 3000,
  callTimeoutMs: 30000,
  slowStatementThresholdMs: null,
  checkSchema: true,
}

for (const backend of backends) {
  describe(`execution on ${backend.name}`, () => {
    let f
    before(async () => {
      f = await fixture(backend, lib)
    })
    after(async () => {
      if (f) await f.close()
    })

    test('the time-limit options are accepted', async () => {
      const s = await InteractionStore.connect(f.url, { minConnections: 0, maxConnections: 2, ...TIMEOUTS })
      assert.equal((await s.getSite(f.site.id)).id, f.site.id)
      await s.close()
      const t = await InteractionStore.connect(f.url, { minConnections: 0, maxConnections: 2, slowStatementThresholdMs: 1 })
      await t.listSites()
      await t.close()
    })

    test('bad time-limit options reject with VALIDATION and the core field', async () => {
      const c = (o) => InteractionStore.connect(f.url, { minConnections: 0, maxConnections: 2, ...o })
      await rejects(c({ statementTimeoutMs: 0 }), 'VALIDATION', 'statement_timeout')
      await rejects(c({ lockTimeoutMs: -1 }), 'VALIDATION', 'lock_timeout')
      await rejects(c({ callTimeoutMs: 1.5 }), 'VALIDATION', 'call_timeout')
      await rejects(c({ callTimeoutMs: 25 * 3600 * 1000 }), 'VALIDATION', 'call_timeout')
      await rejects(c({ connectTimeoutMs: 0 }), 'VALIDATION', 'connect_timeout')
      await rejects(c({ connectTimeoutMs: '100' }), 'VALIDATION', 'connect_timeout')
      await rejects(c({ slowStatementThresholdMs: -5 }), 'VALIDATION', 'slow_statement_threshold')
      await rejects(c({ checkSchema: 'no' }), 'VALIDATION', 'check_schema')
      const e = await rejects(c({ statementTimeoutMs: 0 }), 'VALIDATION', 'statement_timeout')
      assert.equal(e.retryable, false)
    })

    test('idempotencyKey: the same key twice is one interaction; other content is CONFLICT', async () => {
      const key = uniqueName('key')
      const title = uniqueName('idem')
      const first = await f.editorS.createInteraction(newInteraction({ title, idempotencyKey: key }))
      const again = await f.editorS.createInteraction(newInteraction({ title, idempotencyKey: key }))
      assert.equal(again.id, first.id)
      assert.equal(again.version, 1)
      assert.equal(await f.editorS.finder().titleContains(title).count(), 1)
      const e = await rejects(
        f.editorS.createInteraction(newInteraction({ title: `${title} changed`, idempotencyKey: key })),
        'CONFLICT',
        null,
      )
      assert.equal(e.retryable, false)
      assert.equal(await f.editorS.finder().titleContains(title).count(), 1)
      // No key, or null: every create is a new row.
      const a = await f.editorS.createInteraction(newInteraction({ title, idempotencyKey: null }))
      const b = await f.editorS.createInteraction(newInteraction({ title }))
      assert.notEqual(a.id, b.id)
      await rejects(f.editorS.createInteraction(newInteraction({ idempotencyKey: 42 })), 'VALIDATION', 'idempotency_key')
    })

    test('migrateTo stages an upgrade of a database opened with checkSchema: false', async () => {
      const url = backend.newDatabase()
      try {
        const s = await InteractionStore.connect(url, { checkSchema: false, minConnections: 0, maxConnections: 2 })
        assert.equal(await s.schemaVersion(), null)
        assert.deepEqual(await s.migrateTo('1.0.0'), [{ major: 1, minor: 0, patch: 0 }])
        assert.deepEqual(await s.schemaVersion(), { major: 1, minor: 0, patch: 0 })
        await rejects(s.migrateTo('one'), 'VALIDATION', 'version')
        await rejects(s.migrateTo(1), 'VALIDATION', 'version')
        await s.close()
        const e = await rejects(InteractionStore.connect(url, { minConnections: 0, maxConnections: 2 }), 'SCHEMA_VERSION', null)
        assert.equal(e.retryable, false)
        const t = await InteractionStore.connect(url, { checkSchema: false, minConnections: 0, maxConnections: 2 })
        assert.deepEqual(await t.migrate(), [{ major: 1, minor: 1, patch: 0 }, { major: 1, minor: 2, patch: 0 }, { major: 1, minor: 3, patch: 0 }])
        await t.checkSchema()
        await t.close()
      } finally {
        backend.dropDatabase(url)
      }
    })
  })
}

test('CONFIGURATION: an unknown PostgreSQL database, not retryable', async () => {
  const u = new URL(process.env.DATABASE_URL || 'postgres://missing-DATABASE_URL')
  u.pathname = `/${uniqueName('no_such_db')}`
  const e = await rejects(InteractionStore.connect(u.toString(), { minConnections: 0 }), 'CONFIGURATION', null)
  assert.ok(e instanceof InteractionStoreError)
  assert.equal(e.retryable, false)
  assert.ok(e.cause instanceof Error, 'the driver error is kept as the cause')
  assert.match(e.cause.message, /does not exist/)
})

test('UNAVAILABLE: a refused port fails at once, retryable, saying "refused"', async () => {
  const started = Date.now()
  // The default acquire timeout (30 s) must not be waited out.
  const e = await rejects(InteractionStore.connect('postgres://postgres@127.0.0.1:1/none', { minConnections: 0 }), 'UNAVAILABLE', null)
  const ms = Date.now() - started
  assert.ok(ms < 2000, `rejected after ${ms} ms`)
  assert.match(e.message, /refused/)
  assert.equal(e.retryable, true)
  assert.ok(e.cause instanceof Error)
})

/**
 * Holds SQLite's write lock on `file` (BEGIN IMMEDIATE) from another process for `seconds`;
 * resolves once the lock is held, to `{ released }` (a promise of the holder's exit).
 */
async function holdWriteLock(file, seconds) {
  const py = [
    'import sqlite3, sys, time',
    'c = sqlite3.connect(sys.argv[1], isolation_level=None)',
    "c.execute('BEGIN IMMEDIATE')",
    "print('locked', flush=True)",
    'time.sleep(float(sys.argv[2]))',
    "c.execute('ROLLBACK')",
  ].join('\n')
  const child = spawn('python3', ['-c', py, file, String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] })
  const exited = new Promise((resolve) => child.on('exit', resolve))
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      if (String(d).includes('locked')) resolve()
    })
    child.on('error', reject)
    child.on('exit', (code) => reject(new Error(`the lock holder exited early (${code})`)))
  })
  return { released: exited }
}

test('TIMEOUT: a SQLite create while another process holds the write lock (lockTimeoutMs)', async () => {
  const sqlite = backends.find((b) => b.name === 'sqlite')
  const f = await fixture(sqlite, lib)
  try {
    const s = await InteractionStore.connect(f.url, { minConnections: 0, maxConnections: 2, lockTimeoutMs: 500 })
    const session = await s.sessionForUser(f.editor.id, f.site.id)
    const title = uniqueName('locked')
    const { released } = await holdWriteLock(f.url.replace(/^sqlite:\/\//, ''), 4)
    const started = Date.now()
    const e = await rejects(session.createInteraction(newInteraction({ title })), 'TIMEOUT', null)
    const ms = Date.now() - started
    assert.ok(ms < 3000, `rejected after ${ms} ms with lockTimeoutMs 500`)
    assert.equal(e.retryable, true)
    await released
    assert.equal(await session.finder().titleContains(title).count(), 0, 'nothing was written')
    await session.createInteraction(newInteraction({ title }))
    assert.equal(await session.finder().titleContains(title).count(), 1)
    await s.close()
  } finally {
    await f.close()
  }
})
