// Quickstart (Node): a site, users and roles, login, then create, search, update, delete
// and restore interactions. Mirrors examples/quickstart.rs.
//
//   npm install interaction-store
//   node quickstart.mjs                  # embedded SQLite: ./interactions.db
//   node quickstart.mjs postgres://...   # or any URL
import { InteractionStore } from 'interaction-store'

const url = process.argv[2] ?? 'sqlite://interactions.db'
const store = await InteractionStore.connect(url, { migrate: true })
const v = await store.schemaVersion()
console.log(`opened ${url} (${store.backend}), schema ${v.major}.${v.minor}.${v.patch}`)

// Names are unique; suffix them so the example can run again on the same database.
const run = Date.now()
const site = await store.createSite(`Head office ${run}`, 'Main site')
const alice = await store.createUser(`alice${run}`, `alice${run}@example.com`, 'correct horse battery')
const bob = await store.createUser(`bob${run}`, `bob${run}@example.com`, 'another long secret')
await store.grantRole(alice.id, site.id, 'admin')
await store.grantRole(bob.id, site.id, 'viewer')
console.log(`site ${site.name} with admin ${alice.username} and viewer ${bob.username}`)

const login = await store.login(alice.username, 'correct horse battery')
const aliceS = await store.session(login.token, site.id)
console.log(`alice logged in; token valid until ${login.expiresAt.toISOString()}`)

const kickoff = await aliceS.createInteraction({
  title: 'Project kickoff',
  interactionType: 'meeting',
  lead: 'Alice',
  // A local wall-clock time in the interaction's zone...
  start: { local: '2026-12-01T09:30:00' },
  end: { local: '2026-12-01T10:30:00' },
  timezone: 'Europe/Berlin',
  location: 'Room 4',
  description: 'Kickoff of the budget planning for next year',
})
// ...or an exact instant (a Date, or an ISO-8601 string with an offset).
const start = new Date(Date.now() + 2 * 24 * 3600 * 1000)
const call = await aliceS.createInteraction({
  title: 'Budget call',
  interactionType: 'call',
  lead: 'Bob',
  start,
  end: new Date(start.getTime() + 30 * 60 * 1000),
  timezone: 'America/New_York',
  notes: 'Follow-up on the budget numbers',
})
console.log(`created #${kickoff.id} '${kickoff.title}' starting ${kickoff.startDatetime.toISOString()}`)
console.log(`created #${call.id} '${call.title}' starting ${call.startDatetime.toISOString()}`)

const page = await aliceS.finder().text('budget').sort('relevance').limit(10).fetch()
console.log(`search 'budget': ${page.items.length} hits`)
for (const i of page.items) console.log(`  #${i.id} ${i.title} (${i.interactionType})`)

const updated = await aliceS.updateInteraction(kickoff.id, { title: 'Project kickoff (moved)' }, kickoff.version)
console.log(`updated #${updated.id} to '${updated.title}' (version ${updated.version})`)
const stale = await aliceS.updateInteraction(kickoff.id, { lead: 'Carol' }, kickoff.version).catch((e) => e)
console.log(`a stale update is refused: ${stale.code}`)

const bobS = await store.sessionForUser(bob.id, site.id)
const denied = await bobS.deleteInteraction(call.id).catch((e) => e)
if (denied.code !== 'PERMISSION_DENIED') throw new Error(`expected PERMISSION_DENIED, got ${denied.code}`)
console.log(`viewer bob cannot delete: ${denied.message}`)

await aliceS.deleteInteraction(call.id)
console.log(`deleted #${call.id}; visible count now ${await aliceS.finder().count()}`)
const restored = await aliceS.restoreInteraction(call.id)
console.log(`restored #${restored.id} (version ${restored.version})`)

const trail = await aliceS.auditTrail({ limit: 5 })
console.log('latest audit entries:')
for (const e of trail.entries) {
  console.log(`  ${e.occurredAt.toISOString().slice(11, 19)} ${e.action} ${e.entity} #${e.entityId ?? 0}`)
}
await store.logout(login.token)
await store.close()
console.log('done')
