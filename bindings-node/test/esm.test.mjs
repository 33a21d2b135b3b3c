// `import` and `require()` give the same objects, and the ES module works end to end.
import assert from 'node:assert/strict'
import { createRequire } from 'node:module'
import { test } from 'node:test'
import binding, {
  InteractionStore, SiteSession, Clock, Finder, InteractionStoreError, ErrorCode, maskInteraction, maskUser,
} from 'interaction-store'

const require = createRequire(import.meta.url)

test('import and require() agree', () => {
  const cjs = require('interaction-store')
  assert.equal(InteractionStore, cjs.InteractionStore)
  assert.equal(SiteSession, cjs.SiteSession)
  assert.equal(Finder, cjs.Finder)
  assert.equal(Clock, cjs.Clock)
  assert.equal(InteractionStoreError, cjs.InteractionStoreError)
  assert.equal(ErrorCode, cjs.ErrorCode)
  assert.equal(maskInteraction, cjs.maskInteraction)
  assert.equal(maskUser, cjs.maskUser)
  assert.equal(binding.InteractionStore, InteractionStore)
})

test('ES module round trip on SQLite in memory', async () => {
  const store = await InteractionStore.connect('sqlite::memory:', { migrate: true })
  const site = await store.createSite('esm')
  const user = await store.createUser('esm', 'esm@example.com', 'correct horse battery')
  await store.grantRole(user.id, site.id, 'editor')
  const s = await store.sessionForUser(user.id, site.id)
  const i = await s.createInteraction({
    title: 'ESM', interactionType: 'call', lead: 'Me', start: '2026-01-01T10:00:00Z', end: '2026-01-01T11:00:00Z', timezone: 'UTC',
  })
  assert.equal((await s.finder().fetch()).items[0].id, i.id)
  const e = await s.getInteraction(i.id + 1).catch((err) => err)
  assert.ok(e instanceof InteractionStoreError)
  assert.equal(e.code, ErrorCode.NOT_FOUND)
  await store.close()
})
