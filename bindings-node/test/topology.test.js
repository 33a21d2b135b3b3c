'use strict'
// Replicas and consistency tokens: `replicas`, `reportingReplica`, `replicaMaxLagMs`,
// `session.consistencyToken`, the `consistencyToken` argument of `session()` /
// `sessionForUser()`, `replicaStatus()`. Routing itself (which node served a read, replay
// paused, a replica killed) is the core's and tested there.
//
// The replica test needs TOPOLOGY_PRIMARY_URL and TOPOLOGY_REPLICA_URLS (an admin URL of a
// primary and comma-separated admin URLs of its streaming replicas; the test command starts
// them): without them it FAILS, it never skips. It creates its own database on the primary
// and waits until it has reached the replicas.
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { describe, test, before, after } = require('node:test')
const { InteractionStore } = require('interaction-store')
const { backends, fixture, newInteraction, rejects, uniqueName, PASSWORD } = require('./helpers')

const LSN = /^[0-9A-F]{1,8}\/[0-9A-F]{1,8}$/
const MALFORMED = ['', 'nope', '0/', '/0', '1/2/3', '0/XYZ', '123456789/0', '0/0 x']

function topology() {
  const primary = process.env.TOPOLOGY_PRIMARY_URL
  const replicas = (process.env.TOPOLOGY_REPLICA_URLS || '').split(',').filter(Boolean)
  if (!primary || replicas.length === 0) {
    throw new Error(
      'TOPOLOGY_PRIMARY_URL / TOPOLOGY_REPLICA_URLS are not set: the replica tests need a PostgreSQL primary and its streaming replicas (scripts/test.sh starts them)',
    )
  }
  return { primary, replicas }
}

function psql(url, sql) {
  return execFileSync('psql', [url, '-X', '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

function withDatabase(url, name) {
  const u = new URL(url)
  u.pathname = `/${name}`
  return u.toString()
}

for (const backend of backends) {
  describe(`consistency tokens on ${backend.name}`, () => {
    let f
    before(async () => {
      f = await fixture(backend, { InteractionStore })
    })
    after(async () => {
      if (f) await f.close()
    })

    test('a malformed consistencyToken is VALIDATION on consistency_token', async () => {
      const { token } = await f.store.login(f.editor.username, PASSWORD)
      for (const bad of MALFORMED) {
        await rejects(f.store.sessionForUser(f.editor.id, f.site.id, bad), 'VALIDATION', 'consistency_token')
        await rejects(f.store.session(token, f.site.id, bad), 'VALIDATION', 'consistency_token')
      }
      await rejects(f.store.sessionForUser(f.editor.id, f.site.id, 5), 'VALIDATION', 'consistency_token')
      // a well-formed token is taken as given; null and undefined are no token
      const s = await f.store.sessionForUser(f.editor.id, f.site.id, '0/16B3748')
      assert.equal(s.consistencyToken, '0/16B3748')
      assert.equal((await f.store.session(token, f.site.id, null)).consistencyToken, null)
      assert.equal((await f.store.session(token, f.site.id)).consistencyToken, null)
      // without replicas a write leaves no token (every read is consistent)
      await f.editorS.createInteraction(newInteraction())
      assert.equal(f.editorS.consistencyToken, null)
      assert.deepEqual(f.store.replicaStatus(), [])
    })

    test('replica options are validated by the core', async () => {
      await rejects(InteractionStore.connect(f.url, { replicas: ['mysql://replica/db'] }), 'VALIDATION', 'replicas')
      await rejects(InteractionStore.connect(f.url, { replicas: 'postgres://replica/db' }), 'VALIDATION', 'replicas')
      await rejects(InteractionStore.connect(f.url, { replicaMaxLagMs: 0 }), 'VALIDATION', 'replica_max_lag')
      await rejects(InteractionStore.connect(f.url, { finderCacheTtlMs: -1 }), 'VALIDATION', 'finder_cache_ttl')
      await rejects(InteractionStore.connect(f.url, { behindPgbouncer: 'yes' }), 'VALIDATION', 'behind_pgbouncer')
      if (backend.name === 'sqlite') {
        await rejects(InteractionStore.connect(f.url, { replicas: [f.url.replace('sqlite', 'postgres')] }), 'VALIDATION', 'replicas')
      }
      const s = await InteractionStore.connect(f.url, { replicas: [], finderCacheTtlMs: 0, minConnections: 0 })
      assert.deepEqual(s.replicaStatus(), [])
      assert.equal(s.cacheStats().backend, 'memory')
      await s.close()
    })
  })
}

describe('replicas (TOPOLOGY_PRIMARY_URL, TOPOLOGY_REPLICA_URLS)', () => {
  let db
  before(async () => {
    const { primary: admin, replicas: replicaAdmins } = topology()
    const name = uniqueName('node_topo')
    psql(admin, `CREATE DATABASE ${name}`)
    const primary = withDatabase(admin, name)
    db = { admin, name, primary, replicas: replicaAdmins.map((r) => withDatabase(r, name)) }
    await (await InteractionStore.connect(primary, { migrate: true, minConnections: 0 })).close()
    for (const r of db.replicas) {
      const deadline = Date.now() + 30000
      for (;;) {
        try {
          if (psql(r, "SELECT to_regclass('interactions') IS NOT NULL").trim() === 't') break
        } catch {
          // the database is not there yet
        }
        assert.ok(Date.now() < deadline, `${r} never got the database`)
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    }
  })
  after(() => {
    if (db) psql(db.admin, `DROP DATABASE IF EXISTS ${db.name} WITH (FORCE)`)
  })

  test('after a write, consistencyToken is an LSN and a second store opened with it sees the write', async () => {
    const options = {
      replicas: db.replicas.slice(0, 1),
      replicaMaxLagMs: 5000,
      cache: false,
      minConnections: 0,
      ...(db.replicas.length > 1 ? { reportingReplica: db.replicas[1] } : {}),
    }
    const one = await InteractionStore.connect(db.primary, options)
    const two = await InteractionStore.connect(db.primary, options)
    try {
      const status = one.replicaStatus()
      assert.equal(status.length, db.replicas.length)
      assert.equal(status.filter((r) => r.reporting).length, db.replicas.length > 1 ? 1 : 0)
      for (const r of status) {
        assert.deepEqual(Object.keys(r).sort(), ['healthy', 'place', 'replayed', 'reporting'])
        assert.match(r.replayed, LSN)
      }
      const site = await one.createSite(uniqueName('topo'), null)
      const name = uniqueName('erin')
      const u = await one.createUser(name, `${name}@example.com`, PASSWORD)
      await one.grantRole(u.id, site.id, 'editor')
      const s = await one.sessionForUser(u.id, site.id)
      assert.equal(s.consistencyToken, null)
      const created = await s.createInteraction(newInteraction({ title: 'Written through one' }))
      const token = s.consistencyToken
      assert.equal(typeof token, 'string')
      assert.match(token, LSN)

      const { token: login } = await two.login(name, PASSWORD)
      for (const s2 of [await two.sessionForUser(u.id, site.id, token), await two.session(login, site.id, token)]) {
        assert.equal(s2.consistencyToken, token)
        assert.deepEqual(await s2.getInteraction(created.id), created)
        assert.deepEqual((await s2.finder().fetch()).items.map((i) => i.id), [created.id])
        assert.equal(await s2.finder().count(), 1)
      }
      const s3 = await two.sessionForUser(u.id, site.id, token)
      const again = await s3.createInteraction(newInteraction({ title: 'Written through two' }))
      const later = s3.consistencyToken
      assert.match(later, LSN)
      assert.notEqual(later, token)
      const s4 = await one.sessionForUser(u.id, site.id, later)
      assert.deepEqual((await s4.finder().fetch()).items.map((i) => i.id).sort(), [created.id, again.id].sort())
    } finally {
      await one.close()
      await two.close()
    }
  })
})
