'use strict'
// 200 concurrent promises on one store, and 10,000 failing calls with memory checked to
// stay flat (run with --expose-gc), on every backend.
const assert = require('node:assert/strict')
const { describe, test, before, after } = require('node:test')
const lib = require('interaction-store')
const { backends, fixture, newInteraction } = require('./helpers')

for (const backend of backends) {
  describe(`load on ${backend.name}`, () => {
    let f
    before(async () => {
      f = await fixture(backend, lib)
    })
    after(async () => {
      if (f) await f.close()
    })

    test('200 concurrent promises on one store', async () => {
      const seed = await f.editorS.createInteraction(newInteraction({ title: 'seed' }))
      const calls = []
      for (let k = 0; k < 200; k++) {
        switch (k % 5) {
          case 0:
            calls.push(f.editorS.createInteraction(newInteraction({ title: `concurrent ${k}` })).then((i) => i.title))
            break
          case 1:
            calls.push(f.viewerS.getInteraction(seed.id).then((i) => i.title))
            break
          case 2:
            calls.push(f.viewerS.finder().titleContains('concurrent').limit(5).fetch().then(() => 'page'))
            break
          case 3:
            calls.push(f.store.getUser(f.viewer.id).then((u) => u.username))
            break
          default:
            calls.push(f.viewerS.getInteraction(99999999).catch((e) => e.code))
        }
      }
      const results = await Promise.all(calls)
      assert.equal(results.length, 200)
      assert.equal(results.filter((r) => r === 'NOT_FOUND').length, 40)
      assert.equal(results.filter((r) => typeof r === 'string' && r.startsWith('concurrent')).length, 40)
      assert.equal(results.filter((r) => r === 'seed').length, 40)
      assert.equal(await f.viewerS.finder().titleContains('concurrent').count(), 40)
    })

    test('10,000 failing calls keep memory flat', async () => {
      assert.equal(typeof global.gc, 'function', 'run with node --expose-gc')
      const fail = async (k) => {
        let code
        switch (k % 4) {
          case 0:
            code = await f.viewerS.getInteraction(1e9 + k).catch((e) => e.code) // NOT_FOUND (database)
            break
          case 1:
            code = await f.viewerS.createInteraction(newInteraction()).catch((e) => e.code) // PERMISSION_DENIED
            break
          case 2:
            code = await f.editorS.getInteraction(1.5).catch((e) => e.code) // VALIDATION (binding)
            break
          default:
            code = await f.editorS.createInteraction(newInteraction({ title: 7 })).catch((e) => e.code) // napi type error
        }
        if (!['NOT_FOUND', 'PERMISSION_DENIED', 'VALIDATION'].includes(code)) throw new Error(`unexpected ${code}`)
      }
      const batch = async (n) => {
        for (let k = 0; k < n; k += 50) {
          await Promise.all(Array.from({ length: 50 }, (_, j) => fail(k + j)))
        }
      }
      const settle = async () => {
        for (let k = 0; k < 3; k++) {
          global.gc()
          await new Promise((r) => setTimeout(r, 20))
        }
      }
      await batch(2000) // warm-up: pools, caches, JIT
      await settle()
      const before = process.memoryUsage()
      await batch(10000)
      await settle()
      const afterUse = process.memoryUsage()
      const mb = (n) => (n / 1024 / 1024).toFixed(1)
      const rssGrowth = afterUse.rss - before.rss
      const heapGrowth = afterUse.heapUsed - before.heapUsed
      console.log(`rss ${mb(before.rss)} -> ${mb(afterUse.rss)} MB, heap ${mb(before.heapUsed)} -> ${mb(afterUse.heapUsed)} MB`)
      // A leak of even 1 KiB per failing call would add ~10 MB to the heap or RSS.
      assert.ok(heapGrowth < 8 * 1024 * 1024, `heap grew by ${mb(heapGrowth)} MB`)
      assert.ok(rssGrowth < 40 * 1024 * 1024, `rss grew by ${mb(rssGrowth)} MB`)
    })
  })
}
