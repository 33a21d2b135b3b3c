'use strict'
// Shared by the test files: fresh databases per backend, and error assertions.
//
// PostgreSQL tests need DATABASE_URL (an admin URL of a throwaway cluster): without it they
// FAIL, never skip. Each suite creates its own database from it.
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

let counter = 0
const tmpRoot = fs.mkdtempSync(path.join(os.tmpdir(), 'is-node-test-'))
process.on('exit', () => fs.rmSync(tmpRoot, { recursive: true, force: true }))

function uniqueName(prefix) {
  counter += 1
  return `${prefix}_${process.pid}_${Date.now().toString(36)}_${counter}`
}

function adminUrl() {
  const url = process.env.DATABASE_URL
  if (!url) {
    throw new Error('DATABASE_URL is not set: the PostgreSQL tests need an admin URL of a throwaway cluster')
  }
  return url
}

function psql(url, sql) {
  return execFileSync('psql', [url, '-X', '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
}

function sqliteFile(url) {
  return url.replace(/^sqlite:\/\//, '')
}

/** Runs SQL directly on a test database (to break it on purpose). */
function execSql(url, sql) {
  if (url.startsWith('postgres')) return psql(url, sql)
  try {
    return execFileSync('sqlite3', [sqliteFile(url), sql], { encoding: 'utf8' })
  } catch (e) {
    if (e.code !== 'ENOENT') throw e
  }
  const py = 'import sqlite3, sys\nc = sqlite3.connect(sys.argv[1])\nc.executescript(sys.argv[2])\nc.commit()'
  return execFileSync('python3', ['-c', py, sqliteFile(url), sql], { encoding: 'utf8' })
}

const backends = [
  {
    name: 'sqlite',
    /** A URL of a new, empty database. */
    newDatabase() {
      return `sqlite://${path.join(tmpRoot, uniqueName('db'))}.db`
    },
    dropDatabase() {},
  },
  {
    name: 'postgres',
    newDatabase() {
      const admin = adminUrl()
      const name = uniqueName('node')
      psql(admin, `CREATE DATABASE ${name}`)
      const u = new URL(admin)
      u.pathname = `/${name}`
      return u.toString()
    },
    dropDatabase(url) {
      const name = new URL(url).pathname.slice(1)
      psql(adminUrl(), `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)
    },
  },
]

/** Asserts that `promiseOrFn` rejects (or throws) an InteractionStoreError with `code` (and `field`). */
async function rejects(promiseOrFn, code, field) {
  let error
  try {
    await (typeof promiseOrFn === 'function' ? promiseOrFn() : promiseOrFn)
  } catch (e) {
    error = e
  }
  assert.ok(error, `expected a rejection with code ${code}, got success`)
  assert.ok(error instanceof Error, 'rejections are Error instances')
  assert.equal(error.code, code, `code (message: ${error.message})`)
  if (field !== undefined) assert.equal(error.field, field, `field (message: ${error.message})`)
  return error
}

const PASSWORD = 'correct horse battery'

/** A migrated store on a fresh database, with an admin, an editor, a viewer and a site. */
async function fixture(backend, { InteractionStore }) {
  const url = backend.newDatabase()
  const store = await InteractionStore.connect(url, { migrate: true, minConnections: 1, maxConnections: 8 })
  const site = await store.createSite(uniqueName('site'), 'test site')
  const other = await store.createSite(uniqueName('other'), null)
  const admin = await store.createUser(uniqueName('admin'), `${uniqueName('a')}@example.com`, PASSWORD)
  const editor = await store.createUser(uniqueName('editor'), `${uniqueName('e')}@example.com`, PASSWORD)
  const viewer = await store.createUser(uniqueName('viewer'), `${uniqueName('v')}@example.com`, PASSWORD)
  await store.grantRole(admin.id, site.id, 'admin')
  await store.grantRole(admin.id, other.id, 'admin')
  await store.grantRole(editor.id, site.id, 'editor')
  await store.grantRole(viewer.id, site.id, 'viewer')
  const adminS = await store.sessionForUser(admin.id, site.id)
  const editorS = await store.sessionForUser(editor.id, site.id)
  const viewerS = await store.sessionForUser(viewer.id, site.id)
  const otherS = await store.sessionForUser(admin.id, other.id)
  return {
    url,
    store,
    site,
    other,
    admin,
    editor,
    viewer,
    adminS,
    editorS,
    viewerS,
    otherS,
    async close() {
      await store.close()
      backend.dropDatabase(url)
    },
  }
}

function newInteraction(overrides = {}) {
  return {
    title: 'Weekly sync',
    interactionType: 'meeting',
    lead: 'Alice',
    start: '2026-03-02T09:00:00Z',
    end: '2026-03-02T10:00:00Z',
    timezone: 'UTC',
    ...overrides,
  }
}

module.exports = {
  backends,
  execSql,
  fixture,
  newInteraction,
  rejects,
  uniqueName,
  tmpRoot,
  PASSWORD,
}
