'use strict'
// Caching options and statistics: `cache`, `redisUrl`, `redisTimeoutMs`, `cacheStats()`, on
// every backend. The behaviour (what is cached, invalidation, Redis outages) is the core's and
// tested there; these tests check that the options reach it and what comes back. The tests
// that need Redis FAIL without REDIS_URL (the test command starts one); they never skip.
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')
const { describe, test, before, after } = require('node:test')
const { InteractionStore } = require('interaction-store')
const { backends, fixture, newInteraction, rejects, uniqueName, PASSWORD } = require('./helpers')

const PKG_DIR = path.dirname(require.resolve('interaction-store'))

function redisUrl() {
  const url = process.env.REDIS_URL
  if (!url) throw new Error('REDIS_URL is not set: the caching tests need a Redis server (scripts/test.sh starts one)')
  return url
}

const STATS_KEYS = ['auth', 'available', 'backend', 'bypassed', 'finder', 'lookup', 'outages', 'permissions']

for (const backend of backends) {
  describe(`caching on ${backend.name}`, () => {
    let f
    before(async () => {
      f = await fixture(backend, { InteractionStore })
    })
    after(async () => {
      if (f) await f.close()
    })

    test('default: the memory cache; a repeated Finder page is a hit', async () => {
      await f.editorS.createInteraction(newInteraction({ title: 'Budget review' }))
      const stats = f.store.cacheStats()
      assert.ok(!(stats instanceof Promise), 'cacheStats() is synchronous')
      assert.deepEqual(Object.keys(stats).sort(), STATS_KEYS)
      assert.equal(stats.backend, 'memory')
      assert.equal(stats.available, true)
      const first = await f.editorS.finder().text('budget').fetch()
      const hits = f.store.cacheStats().finder.hits
      const again = await f.editorS.finder().text('budget').fetch()
      assert.deepEqual(again, first)
      assert.equal(again.items.length, 1)
      const after = f.store.cacheStats()
      assert.equal(after.finder.hits, hits + 1)
      assert.equal(typeof after.finder.misses, 'number')
      assert.ok(after.permissions.hits > 0, 'every session call re-checks the session')
    })

    test('cache: false is backend "off"', async () => {
      const off = await InteractionStore.connect(f.url, { cache: false, minConnections: 0 })
      try {
        const s = await off.sessionForUser(f.editor.id, f.site.id)
        await s.finder().fetch()
        await s.finder().fetch()
        const stats = off.cacheStats()
        assert.equal(stats.backend, 'off')
        assert.deepEqual([stats.finder.hits, stats.permissions.hits, stats.auth.hits], [0, 0, 0])
      } finally {
        await off.close()
      }
      await rejects(InteractionStore.connect(f.url, { cache: 1 }), 'VALIDATION', 'cache')
    })

    test('a bad redisUrl or redisTimeoutMs is VALIDATION with the field', async () => {
      for (const bad of ['http://cache:6379/', 'cache:6379', '']) {
        await rejects(InteractionStore.connect(f.url, { redisUrl: bad }), 'VALIDATION', 'redis_url')
      }
      await rejects(InteractionStore.connect(f.url, { redisUrl: 6379 }), 'VALIDATION', 'redis_url')
      for (const bad of [0, -1, 2 * 24 * 3600 * 1000, 1.5]) {
        await rejects(InteractionStore.connect(f.url, { redisTimeoutMs: bad }), 'VALIDATION', 'redis_timeout')
      }
      await rejects(InteractionStore.connect(f.url, { redisUrl: redisUrl(), redisTimeoutMs: '100' }), 'VALIDATION', 'redis_timeout')
      await rejects(InteractionStore.connect(f.url, { redisUrl: redisUrl(), redisTimeout: 100 }), 'VALIDATION', 'redisTimeout')
    })

    test('two stores sharing REDIS_URL: hits, invalidation, and a logout seen by the other store', async () => {
      const redis = redisUrl()
      const one = await InteractionStore.connect(f.url, { redisUrl: redis, redisTimeoutMs: 1000, minConnections: 0 })
      const two = await InteractionStore.connect(f.url, { redisUrl: redis, minConnections: 0 })
      try {
        assert.equal(one.cacheStats().backend, 'redis')
        assert.equal(two.cacheStats().backend, 'redis')
        assert.equal(two.cacheStats().available, true)
        const site = await one.createSite(uniqueName('shared'), null)
        const name = uniqueName('erin')
        const u = await one.createUser(name, `${name}@example.com`, PASSWORD)
        await one.grantRole(u.id, site.id, 'editor')
        const { token } = await one.login(name, PASSWORD)
        const s1 = await one.session(token, site.id)
        const s2 = await two.session(token, site.id)
        await s1.createInteraction(newInteraction({ title: 'Budget review' }))
        assert.equal((await s2.finder().fetch()).items.length, 1)
        const hits = two.cacheStats().finder.hits
        assert.equal((await s2.finder().fetch()).items.length, 1)
        assert.equal(two.cacheStats().finder.hits, hits + 1)
        // store one reads the page store two put in Redis
        const hitsOne = one.cacheStats().finder.hits
        assert.equal((await s1.finder().fetch()).items.length, 1)
        assert.equal(one.cacheStats().finder.hits, hitsOne + 1)
        // a write through one invalidates two's cached page
        await s1.createInteraction(newInteraction({ title: 'Second' }))
        assert.equal((await s2.finder().fetch()).items.length, 2)

        assert.equal(await s2.verify(), s2.role)
        await one.logout(token)
        await rejects(s2.verify(), 'AUTHENTICATION_FAILED', null)
        await rejects(s2.finder().fetch(), 'AUTHENTICATION_FAILED', null)
        await rejects(s2.createInteraction(newInteraction()), 'AUTHENTICATION_FAILED', null)
        await rejects(two.session(token, site.id), 'AUTHENTICATION_FAILED', null)
      } finally {
        await one.close()
        await two.close()
      }
    })
  })
}

test("the README's caching example, as written, runs (PostgreSQL and REDIS_URL)", async () => {
  // The README ships in the package: its block, with the example URLs replaced by the test's.
  const readme = fs.readFileSync(path.join(PKG_DIR, 'README.md'), 'utf8')
  const code = /^## Caching\n\n```js[^\n]*\n([\s\S]*?)^```/m.exec(readme)[1]
  const pg = backends.find((b) => b.name === 'postgres')
  const url = pg.newDatabase()
  const admin = await InteractionStore.connect(url, { migrate: true, minConnections: 0 })
  try {
    const site = await admin.createSite('Head office', null)
    const alice = await admin.createUser('alice', 'alice@example.com', 'correct horse battery')
    await admin.grantRole(alice.id, site.id, 'editor')
    assert.match(code, /'postgres:\/\/app@db\/interactions'/)
    assert.match(code, /'redis:\/\/cache:6379\/0'/)
    const runnable = code
      .replaceAll("'postgres://app@db/interactions'", JSON.stringify(url))
      .replaceAll("'redis://cache:6379/0'", JSON.stringify(redisUrl()))
    const logged = []
    const stores = []
    const Store = {
      async connect(...args) {
        const s = await InteractionStore.connect(...args)
        stores.push(s)
        return s
      },
    }
    const AsyncFunction = (async () => {}).constructor
    await new AsyncFunction('InteractionStore', 'site', 'console', runnable)(Store, site, {
      log: (...a) => logged.push(a.join(' ')),
    })
    assert.deepEqual(logged, ['redis true 1', 'AUTHENTICATION_FAILED', 'off'])
    for (const s of stores) await s.close()
  } finally {
    await admin.close()
    pg.dropDatabase(url)
  }
})
