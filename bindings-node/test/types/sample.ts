// Compiled with `tsc --strict --noEmit` against the installed package (scripts/test.sh).
import {
  type ArchiveReport,
  type CacheCounts,
  Clock,
  type Counts,
  type CacheStats,
  ErrorCode,
  Finder,
  InteractionStore,
  InteractionStoreError,
  type Interaction,
  type IntegrityReport,
  type InteractionPatch,
  maskInteraction,
  maskUser,
  type NewInteraction,
  type Page,
  type PendingMigration,
  type PurgeReport,
  type ReplicaStatus,
  type Role,
  type SiteSession,
  type User,
} from 'interaction-store'

async function main(): Promise<void> {
  const store: InteractionStore = await InteractionStore.connect('sqlite::memory:', { migrate: true, maxConnections: 4, idleTimeoutMs: null })
  const backend: 'postgres' | 'sqlite' = store.backend
  const site = await store.createSite('TS', null)
  const user = await store.createUser('ts', 'ts@example.com', 'correct horse battery')
  const role: Role = 'editor'
  await store.grantRole(user.id, site.id, role)
  const token = await store.login('ts', 'correct horse battery')
  const expires: Date = token.expiresAt
  const session: SiteSession = await store.session(token.token, site.id)
  const consistency: string | null = session.consistencyToken
  const carried: SiteSession = await store.session(token.token, site.id, consistency)
  const carriedForUser: SiteSession = await store.sessionForUser(user.id, site.id, consistency ?? undefined)
  void [carried, carriedForUser]
  // @ts-expect-error consistencyToken is read-only
  session.consistencyToken = '0/0'
  const input: NewInteraction = {
    title: 'Typed',
    interactionType: 'meeting',
    lead: 'TS',
    start: { local: '2026-12-01T09:30:00' },
    end: new Date('2026-12-01T10:30:00Z'),
    timezone: 'Europe/Berlin',
    location: null,
    idempotencyKey: 'form-42',
  }
  const created: Interaction = await session.createInteraction(input)
  const staged = await InteractionStore.connect('sqlite::memory:', {
    checkSchema: false,
    connectTimeoutMs: 5000,
    statementTimeoutMs: 30000,
    lockTimeoutMs: 10000,
    callTimeoutMs: 60000,
    slowStatementThresholdMs: null,
  })
  const cached = await InteractionStore.connect('sqlite::memory:', {
    migrate: true,
    cache: true,
    redisUrl: 'redis://127.0.0.1:6379/0',
    redisTimeoutMs: 100,
  })
  const stats: CacheStats = cached.cacheStats()
  const where: 'redis' | 'memory' | 'off' = stats.backend
  const finderCounts: CacheCounts = stats.finder
  const hitsMisses: [number, number, boolean, number, number] = [finderCounts.hits, finderCounts.misses, stats.available, stats.bypassed, stats.outages]
  void [where, hitsMisses, stats.auth.hits, stats.permissions.misses]
  const topo = await InteractionStore.connect('postgres://app@db/interactions', {
    replicas: ['postgres://app@replica1/interactions'],
    reportingReplica: 'postgres://app@replica2/interactions',
    replicaMaxLagMs: 1000,
    finderCacheTtlMs: 60000,
    behindPgbouncer: false,
  })
  const replicas: ReplicaStatus[] = topo.replicaStatus()
  const replicaFacts: [string, boolean, boolean, string] = [replicas[0].place, replicas[0].reporting, replicas[0].healthy, replicas[0].replayed]
  const lookups: number = stats.lookup.hits
  void [replicaFacts, lookups]
  // @ts-expect-error replicas is a list of URLs
  void InteractionStore.connect('postgres://app@db/interactions', { replicas: 'postgres://app@replica1/interactions' })
  // @ts-expect-error cacheStats() is not a promise
  void cached.cacheStats().then
  // @ts-expect-error the Redis timeout is in milliseconds
  void InteractionStore.connect('sqlite::memory:', { redisTimeout: 100 })
  const applied: Array<{ major: number; minor: number; patch: number }> = await staged.migrateTo('1.0.0')
  void applied
  const patch: InteractionPatch = { location: null, title: 'Typed 2' }
  const updated = await session.updateInteraction(created.id, patch, created.version)
  const start: Date = updated.startDatetime
  // Every instant field has its exact (microsecond) ISO string beside the Date, accepted
  // back wherever an instant is an input.
  const startIso: string = updated.startDatetimeIso
  const updatedAtIso: string | null = updated.updatedAtIso
  const expiresIso: string = token.expiresAtIso
  const exact: Page = await session.finder().dateRange(updated.startDatetimeIso, updated.endDatetimeIso, 'contained').fetch()
  await session.updateInteraction(created.id, { start: startIso, end: updated.endDatetimeIso })
  void [updatedAtIso, expiresIso, exact, maskInteraction(updated).startDatetimeIso]
  const notes: string | null = updated.notes
  const finder: Finder = session.finder().text('typed').types(['meeting']).sort('relevance').limit(10)
  const page: Page = await finder.fetch()
  const next: string | null = page.nextCursor
  // after() takes a cursor only: the last page's null is not one.
  // @ts-expect-error nextCursor may be null
  finder.after(page.nextCursor)
  // @ts-expect-error null is not a cursor
  finder.after(null)
  for (let p = page; p.nextCursor !== null; ) p = await finder.after(p.nextCursor).fetch()
  // @ts-expect-error unknown keys are refused at run time, and by the types
  const typo: InteractionPatch = { locaton: 'Room 4' }
  const n: number = await finder.count()
  const plan: string = await finder.explain()
  for await (const i of session.finder().dateRange('2026-01-01T00:00:00Z', new Date(), 'overlap')) {
    const id: number = i.id
    void id
  }
  const trail = await session.auditTrail({ limit: 5, after: null })
  const first = trail.entries[0]?.changes
  try {
    await session.getInteraction(999)
  } catch (e) {
    if (e instanceof InteractionStoreError && e.code === ErrorCode.NOT_FOUND) {
      const field: string | null = e.field
      void field
    }
    if (e instanceof InteractionStoreError && (e.code === ErrorCode.TIMEOUT || e.code === 'CONFIGURATION')) {
      const retry: boolean = e.retryable
      const cause: string | undefined = e.cause?.message
      void [retry, cause]
    }
  }
  // Data lifecycle: a manual clock, archival, retention, counts.
  const clock: Clock = Clock.manual(new Date('2020-01-01T00:00:00Z'))
  clock.advance(3 * 365 * 24 * 3600 * 1000)
  clock.set('2023-01-01T00:00:00Z')
  const now: Date = clock.now()
  const manual: boolean = clock.isManual && !Clock.system().isManual
  const timed = await InteractionStore.connect('sqlite::memory:', {
    migrate: true,
    clock,
    retention: { deletedInteractionsMs: 7 * 24 * 3600 * 1000, schemaChangesMs: 10 * 365 * 24 * 3600 * 1000 },
    accessLogging: true,
  })
  const sameClock: Clock = timed.clock
  const report: ArchiveReport = await timed.archive({ olderThanMs: 2 * 365 * 24 * 3600 * 1000, dryRun: true })
  const moved: [number, number | undefined, string, Date] = [report.moved, report.sites['1'], report.checksum, report.cutoff]
  const purged: PurgeReport = await timed.purge({ dryRun: false })
  const byPolicy: Array<[string, number]> = purged.outcomes.map((o) => [o.policy, o.rows])
  const counts: Counts = await timed.counts()
  const archivedAt: Date | null = (await session.unarchiveInteraction(created.id).catch(() => created)).archivedAt
  const archived: Page = await session.finder().includeArchived().archivedOnly(false).fetch()
  if (ErrorCode.ARCHIVED !== 'ARCHIVED') throw new Error('unreachable')
  // @ts-expect-error durations are milliseconds: olderThanMs
  void timed.archive({ olderThan: 1000 })
  // @ts-expect-error a retention period is a number of milliseconds
  void InteractionStore.connect('sqlite::memory:', { retention: { deletedInteractionsMs: '30d' } })
  // @ts-expect-error the clock is a Clock
  void InteractionStore.connect('sqlite::memory:', { clock: new Date() })
  // Privacy and verification: the integrity report, the right to be forgotten, bulk
  // creation, masked reads, the access log of reads.
  const integrity: IntegrityReport = await timed.verify()
  const sound: boolean = integrity.ok && integrity.problems.length === 0
  const states: Array<'applied' | 'modified' | 'unknown' | 'pending'> = integrity.migrations.map((m) => m.state)
  const failing: Array<number | null> = integrity.checks.map((c) => c.failing)
  const digests: Array<[string, number, string]> = integrity.tables.map((t) => [t.table, t.rows, t.digest])
  const pending: PendingMigration[] = await timed.pendingMigrations()
  const sql: string[] = pending.map((m) => `${m.id} ${m.name} ${m.version.major}: ${m.sql}`)
  const users: User[] = await timed.listUsers()
  const forgotten: User = maskUser(await timed.anonymizeUser(1))
  const bulk: Interaction[] = await session.createInteractions([
    { title: 'A', interactionType: 'call', lead: 'Me', start: new Date(), end: new Date(), timezone: 'UTC' },
    { title: 'B', interactionType: 'call', lead: 'Me', start: { local: '2026-01-01T09:00' }, end: '2026-01-01T10:00:00Z', timezone: 'UTC', notes: null },
  ])
  const masked: Interaction = maskInteraction(bulk[0])
  const maskedPage: Page = await session.finder().masked().fetch()
  const log: Array<[string | null, number | null, string | null]> = (await timed.accessLog(10)).map((e) => [e.detail, e.siteId, e.resource])
  // @ts-expect-error createInteractions takes an array
  void session.createInteractions({ title: 'A', interactionType: 'call', lead: 'Me', start: new Date(), end: new Date(), timezone: 'UTC' })
  void [sound, states, failing, digests, sql, users, forgotten, masked, maskedPage, log]
  await timed.close()
  void [now, manual, sameClock, moved, byPolicy, counts.archived, purged.total, archivedAt, archived]
  await store.close()
  void [backend, expires, start, notes, next, n, plan, first, typo]
}

void main()
