'use strict'
// `schema`: the store in a PostgreSQL schema of its own, beside a host application's own
// `users` and Rails-style `schema_migrations` in `public` (issue 11).
const assert = require('node:assert/strict')
const { execFileSync } = require('node:child_process')
const { test } = require('node:test')
const { InteractionStore, Clock } = require('interaction-store')
const { backends, newInteraction, rejects, PASSWORD } = require('./helpers')

const postgres = backends.find((b) => b.name === 'postgres')
const sqlite = backends.find((b) => b.name === 'sqlite')

const psql = (url, sql) =>
  execFileSync('psql', [url, '-X', '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', sql], { encoding: 'utf8' }).trim()

const HOST_TABLES = `
CREATE TABLE users (id bigserial PRIMARY KEY, email text NOT NULL UNIQUE);
INSERT INTO users (email) VALUES ('host@example.com');
CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
INSERT INTO schema_migrations VALUES ('20240101000000'), ('20240202000000');`

const HOST_STATE = `
SELECT (SELECT string_agg(table_name || '.' || column_name, ',' ORDER BY table_name, ordinal_position)
          FROM information_schema.columns WHERE table_schema = 'public')
    || '|' || (SELECT count(*) FROM public.users)
    || '|' || (SELECT string_agg(version, ',' ORDER BY version) FROM public.schema_migrations)`

test('schema: the store beside a host application\'s users and schema_migrations', async () => {
  const url = postgres.newDatabase()
  try {
    psql(url, HOST_TABLES)
    const host = psql(url, HOST_STATE)
    const clock = Clock.manual('2026-01-01T00:00:00Z')
    const store = await InteractionStore.connect(url, { schema: 'interactions', migrate: true, clock, minConnections: 1 })
    try {
      assert.equal(store.schema, 'interactions')
      assert.deepEqual(await store.pendingMigrations(), [])
      const alice = await store.createUser('alice', 'alice@example.com', PASSWORD)
      const token = await store.login('alice', PASSWORD)
      const site = await store.createSite('Site A')
      await store.grantRole(alice.id, site.id, 'admin')
      const s = await store.session(token.token, site.id)
      const created = await s.createInteraction(newInteraction({ title: 'Budget review' }))
      const page = await s.finder().titleContains('budget').fetch()
      assert.deepEqual(page.items.map((i) => i.id), [created.id])
      clock.advance(3 * 366 * 86400000)
      assert.equal((await store.archive()).moved, 1)
      assert.equal((await store.counts()).archived, 1)
      const report = await store.verify()
      assert.ok(report.ok, report.problems.join('; '))
      assert.equal(psql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'interactions' AND tablename = 'users'"), '1')
      assert.equal(psql(url, 'SELECT count(*) FROM interactions.schema_migrations'), '4')
      assert.equal(psql(url, HOST_STATE), host)
    } finally {
      await store.close()
    }
    // Two schemas of one database are separate stores.
    const other = await InteractionStore.connect(url, { schema: 'tenant_b', migrate: true, minConnections: 1 })
    try {
      assert.equal((await other.counts()).users, 0)
      await other.createUser('alice', 'alice@example.com', PASSWORD)
      assert.equal((await other.counts()).users, 1)
    } finally {
      await other.close()
    }
  } finally {
    postgres.dropDatabase(url)
  }
})

test('schema: bad names are VALIDATION on schema; SQLite has only main', async () => {
  for (const bad of ['', 'Interactions', 'a-b', 'a"b', 'pg_x', '1a', 's'.repeat(64)]) {
    await rejects(InteractionStore.connect('postgres://nobody@127.0.0.1:1/x', { schema: bad }), 'VALIDATION', 'schema')
  }
  const url = sqlite.newDatabase()
  await rejects(InteractionStore.connect(url, { schema: 'interactions', migrate: true }), 'VALIDATION', 'schema')
  const store = await InteractionStore.connect(url, { schema: 'main', migrate: true })
  assert.equal(store.schema, null)
  await store.close()
})
