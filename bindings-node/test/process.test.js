'use strict'
// A process using the store exits on its own after close(); the example runs as a test.
const assert = require('node:assert/strict')
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { describe, test } = require('node:test')
const { backends } = require('./helpers')

const entry = require.resolve('interaction-store')

function runNode(args, options = {}) {
  const started = Date.now()
  const r = spawnSync(process.execPath, args, { encoding: 'utf8', timeout: 60000, killSignal: 'SIGKILL', ...options })
  return { ...r, ms: Date.now() - started }
}

for (const backend of backends) {
  describe(`process on ${backend.name}`, () => {
    test('exits on its own after close()', () => {
      const url = backend.newDatabase()
      try {
        const script = `
          const { InteractionStore } = require(${JSON.stringify(entry)})
          ;(async () => {
            const store = await InteractionStore.connect(process.argv[1], { migrate: true, minConnections: 2 })
            await store.createSite('exit test')
            await store.getUser(1).catch((e) => { if (e.code !== 'NOT_FOUND') throw e })
            const session = await store.sessionForUser(1, 1).catch((e) => e.code)
            await store.close()
            console.log('closed', session)
          })().catch((e) => { console.error(e); process.exit(3) })
        `
        const r = runNode(['-e', script, url], { timeout: 20000 })
        assert.equal(r.signal, null, `the process did not exit within 20 s (stderr: ${r.stderr})`)
        assert.equal(r.status, 0, r.stderr)
        assert.match(r.stdout, /closed NOT_FOUND/)
      } finally {
        backend.dropDatabase(url)
      }
    })

    test('examples/quickstart.mjs', () => {
      const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'is-quickstart-'))
      const example = process.env.QUICKSTART_MJS || path.join(__dirname, '..', '..', 'examples', 'quickstart.mjs')
      assert.ok(fs.existsSync(example), `missing ${example}`)
      // Copied into the project that has the package installed (the test folder's parent),
      // so that `import 'interaction-store'` resolves; run from an empty cwd.
      const copy = path.join(__dirname, '..', `quickstart-${process.pid}.mjs`)
      fs.copyFileSync(example, copy)
      try {
        const args = backend.name === 'sqlite' ? [copy] : [copy, backend.newDatabase()]
        const r = runNode(args, { cwd })
        assert.equal(r.signal, null, 'the example did not finish within 60 s')
        assert.equal(r.status, 0, r.stderr)
        assert.match(r.stdout, /search 'budget': 2 hits/)
        assert.match(r.stdout, /a stale update is refused: CONFLICT/)
        assert.match(r.stdout, /\ndone\n$/)
        if (backend.name === 'sqlite') assert.ok(fs.existsSync(path.join(cwd, 'interactions.db')))
        else backend.dropDatabase(args[1])
      } finally {
        fs.rmSync(copy, { force: true })
        fs.rmSync(cwd, { recursive: true, force: true })
      }
    })
  })
}
