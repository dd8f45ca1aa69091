// PostgreSQL CPU per runOnce happy path (claim, sending, answer, batched across calls), as generateQuote runs it:
// `node bench/idempotency-cpu.ts [calls]` (CONCURRENCY, default 8; WORK_MS, the org calls' time before
// and after `sending`, default 0; WORK_MS=35 paces it as figure 1b does). Backends serving the bench
// database (pg_stat_activity, /proc) and, separately, the server's background processes (the WAL
// writer flushes asynchronous commits), and the WAL flushes (fsyncs) per call, server-wide.
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { IdempotencyWriter, runOnce } from '../src/postgres/idempotency.ts'
import { migrate } from '../src/postgres/migrate.ts'
import { genericPlanPool } from '../src/postgres/pool.ts'
import { benchDatabase } from './env.ts'
import { backendCpuSpent, cpuMs } from './processes.ts'

/** Time the work takes before and after `sending` (the org query, then the org write), in ms. */
const WORK_MS = Number(process.env.WORK_MS ?? 0)
const CALLS = Number(process.argv[2] ?? 4000)
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 8)

async function cpu (pool: pg.Pool, database: string) {
  const { rows } = await pool.query<{ pid: number, db: string | null }>(
    'SELECT pid, datname AS db FROM pg_stat_activity WHERE pid <> pg_backend_pid()')
  const backends = new Map<number, number>()
  const background = new Map<number, number>()
  for (const { pid, db } of rows) {
    try {
      if (db === database) backends.set(pid, cpuMs(pid))
      else if (db === null) background.set(pid, cpuMs(pid))
    } catch { /* ended */ }
  }
  const wal = await pool.query<{ syncs: string }>('SELECT wal_sync AS syncs FROM pg_stat_wal')
  return { backends, background, walSyncs: Number(wal.rows[0]?.syncs ?? 0) }
}

const db = await benchDatabase()
try {
  const database = new URL(db.url).pathname.slice(1)
  await migrate(db.pool)
  const pool = new pg.Pool({ connectionString: db.url, max: 10 })
  pool.on('error', () => {})
  // As the app runs it (src/postgres/idempotency-plugin.ts): batched statements on a generic-plan connection.
  const statements = genericPlanPool(pool)
  const writer = new IdempotencyWriter(pool, statements)
  const opts = { retentionMs: 86_400_000, waitMs: 5000, leaseMs: 10_000 }
  const call = () => runOnce(writer, {
    orgId: '00D000000000001AAA',
    userId: '005000000000001AAA',
    operationId: 'generateQuote',
    key: randomUUID(),
    request: { opportunityId: '006000000000001AAA' }
  }, opts, async (claim) => {
    if (WORK_MS > 0) await sleep(WORK_MS)
    await claim.sending()
    if (WORK_MS > 0) await sleep(WORK_MS)
    return { quoteId: '0Q0000000000001AAA', lines: 3 }
  })
  const run = async (n: number) => {
    let left = n
    await Promise.all(Array.from({ length: CONCURRENCY }, async () => { while (left-- > 0) await call() }))
  }
  await run(500)
  const before = await cpu(db.pool, database)
  const started = performance.now()
  await run(CALLS)
  await writer.close()
  const wallMs = performance.now() - started
  const after = await cpu(db.pool, database)
  const perCall = (ms: number) => (ms / CALLS).toFixed(3)
  process.stdout.write(`${CALLS} calls, ${(CALLS / wallMs * 1000).toFixed(0)}/s: backends ${perCall(backendCpuSpent(before.backends, after.backends))} ms/call, ` +
    `background processes ${perCall(backendCpuSpent(before.background, after.background))} ms/call; ` +
    `WAL flushes (whole server) ${((after.walSyncs - before.walSyncs) / CALLS).toFixed(2)} per call\n`)
  await statements.end()
  await pool.end()
} finally {
  await db.drop()
}
