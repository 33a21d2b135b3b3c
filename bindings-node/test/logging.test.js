'use strict'
// INTERACTION_STORE_LOG (read when the addon loads) writes the core's tracing events to
// stderr; without it the library prints nothing.
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const path = require('node:path')
const { test } = require('node:test')
const { tmpRoot, uniqueName } = require('./helpers')

const entry = require.resolve('interaction-store')

const script = `
  const { InteractionStore } = require(${JSON.stringify(entry)})
  ;(async () => {
    const store = await InteractionStore.connect(process.argv[1], { migrate: true, minConnections: 0 })
    const site = await store.createSite('log test')
    const user = await store.createUser('logger', 'logger@example.com', 'correct horse battery')
    await store.grantRole(user.id, site.id, 'editor')
    const s = await store.sessionForUser(user.id, site.id)
    const i = await s.createInteraction({ title: 'secret title', interactionType: 'call', lead: 'L',
      start: '2026-03-02T09:00:00Z', end: '2026-03-02T10:00:00Z', timezone: 'UTC' })
    await s.getInteraction(i.id)
    await store.close()
  })().catch((e) => { console.error('FAILED', e); process.exit(3) })
`

function run(env) {
  const url = `sqlite://${path.join(tmpRoot, uniqueName('log'))}.db`
  const childEnv = { ...process.env, ...env }
  if (env.INTERACTION_STORE_LOG === undefined) delete childEnv.INTERACTION_STORE_LOG
  const r = spawnSync(process.execPath, ['-e', script, url], { encoding: 'utf8', env: childEnv, timeout: 60000 })
  assert.equal(r.status, 0, r.stderr)
  return r
}

test('INTERACTION_STORE_LOG=debug logs calls to stderr, without parameter values', () => {
  const r = run({ INTERACTION_STORE_LOG: 'debug' })
  assert.match(r.stderr, /get_interaction/)
  assert.match(r.stderr, /interaction_core/)
  assert.doesNotMatch(r.stderr, /secret title/)
  assert.doesNotMatch(r.stderr, /correct horse battery/)
  assert.equal(r.stdout, '')
})

test('an EnvFilter string works too', () => {
  const r = run({ INTERACTION_STORE_LOG: 'warn,interaction_core=debug' })
  assert.match(r.stderr, /get_interaction/)
})

test('without INTERACTION_STORE_LOG nothing is printed', () => {
  const r = run({ INTERACTION_STORE_LOG: undefined })
  assert.equal(r.stderr, '')
  assert.equal(r.stdout, '')
})
