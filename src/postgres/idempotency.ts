import { createHash, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import { AppError, OutcomeUnknown, Unprocessable } from '../errors.ts'
import { isDatabaseDown } from './pool.ts'

export interface IdempotencyScope {
  orgId: string
  /** Keys are per user: another user's call with the same key is another request. */
  userId: string
  operationId: string
  key: string
  /** What the call asks for (without its key): a repeat must ask for the same. */
  request: unknown
}

/** JSON with object keys sorted, so the same request always hashes the same. */
function canonical (value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object') {
    return `{${Object.keys(value).sort().map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`
  }
  return JSON.stringify(value) ?? 'null'
}

export interface IdempotencyOptions {
  /** Stored answers older than this are forgotten. */
  retentionMs: number
  /** How long a duplicate waits for the first call to finish. */
  waitMs: number
  /** A claim whose owner stopped showing life this long is taken over by the next call (IDEMPOTENCY_LEASE_MS). */
  leaseMs: number
}

/** What the work of a claimed key gets. */
export interface Claim {
  /**
   * The key as the org sees it (external id fields such as Quote.Idempotency_Key__c): SHA-256,
   * hex, of the org, user, operation, key and request. The same request always maps to the same
   * record; another request with a reused key (once its record here has expired) to another one.
   */
  readonly orgKey: string
  /** An earlier owner of this key sent the org write and never recorded its answer: ask the org before writing. */
  readonly writeMaybeDone: boolean
  /**
   * Records, durably, that the org write goes out now: call it just before sending. Throws when
   * this claim was taken over meanwhile (the call then waits for the new owner's answer), so two
   * owners never both send.
   */
  sending: () => Promise<void>
}

/** SHA-256 hex of the scope (key and request included): 64 characters, lower case. */
export function orgKeyOf (scope: IdempotencyScope): string {
  const { orgId, userId, operationId, key, request } = scope
  return createHash('sha256').update(canonical({ orgId, userId, operationId, key, request })).digest('hex')
}

const stillRunning = (): AppError => new AppError(409, 'DUPLICATE_REQUEST_IN_PROGRESS',
  'The same request is still being processed: ask again in a moment', { retryAfterSeconds: 2 })

const WHERE = 'org_id = $1 AND user_id = $2 AND operation_id = $3 AND idempotency_key = $4'

/**
 * This statement's own transaction commits asynchronously: `set_config(…, true)` is `SET LOCAL`,
 * in effect until the end of the transaction, and an autocommitted statement is a transaction of
 * its own, so only its commit skips waiting for the WAL flush; the connection's later statements
 * (the next claim) commit synchronously again. PostgreSQL reads `synchronous_commit` when the
 * transaction commits, and allows changing it at any time: "the behavior of any one transaction
 * is determined by the setting in effect when it commits"
 * (https://www.postgresql.org/docs/current/runtime-config-wal.html#GUC-SYNCHRONOUS-COMMIT,
 * https://www.postgresql.org/docs/current/wal-async-commit.html). A crash of the database may lose
 * the last such commits (written within three times `wal_writer_delay`), as if they had aborted;
 * until then they are visible and lock as any commit, so the fencing is unchanged. The CTE is
 * joined so that it is evaluated (an unreferenced CTE is not). Measured with bench/idempotency-cpu.ts.
 */
const ASYNC_COMMIT = "WITH async_commit AS (SELECT set_config('synchronous_commit', 'off', true))"

/**
 * The sending mark, fenced by the owner. Committed asynchronously: losing it in a crash only
 * loses `writeMaybeDone` for the retry, and the org write is idempotent by itself (quotes upsert
 * on their `orgKey`), so a retry that writes again settles on the same records.
 */
const SENDING = `${ASYNC_COMMIT}
  UPDATE idempotency_records SET sent_at = now(), heartbeat_at = now()
    FROM async_commit WHERE ${WHERE} AND owner = $5`

/**
 * The answer, committed asynchronously: losing it in a crash leaves the claim to run out its
 * lease, and the retry takes it over and asks the org.
 */
const COMPLETE = `${ASYNC_COMMIT}
  UPDATE idempotency_records SET response = $5, completed_at = now()
    FROM async_commit WHERE ${WHERE}`

/**
 * Runs `work` once per scope: a repeat gets the stored answer, a concurrent duplicate waits for
 * the first call instead of writing too, and a failed call frees the key so a retry can run.
 *
 * A claim is a lease: its owner beats while it works; a claim whose owner died (no beat for
 * `leaseMs`) is taken over by the next call, which is told whether the write had been sent.
 * The happy path costs three named (prepared once per connection) statements: the claim, committed
 * durably before the work, then `sending` and recording the answer, committed asynchronously; expired
 * answers are purged by housekeeping (src/postgres/housekeeping.ts), or replaced here when their
 * key comes back.
 */
export async function runOnce<T> (
  pool: pg.Pool,
  scope: IdempotencyScope,
  opts: IdempotencyOptions,
  work: (claim: Claim) => Promise<T>
): Promise<{ result: T, replayed: boolean }> {
  const params = [scope.orgId, scope.userId, scope.operationId, scope.key]
  const requestHash = createHash('sha256').update(canonical(scope.request)).digest('base64url')
  const { leaseMs } = opts
  const owner = randomUUID()
  const mine = [...params, owner]
  const deadline = Date.now() + opts.waitMs
  for (;;) {
    // One statement claims a new key, takes over one whose owner stopped beating (same request
    // only), or reuses one whose answer has expired; the row is read only when none of these applies.
    const claimed = await pool.query<{ sent: boolean }>({
      name: 'idempotency-claim',
      text: `INSERT INTO idempotency_records AS r
         (org_id, user_id, operation_id, idempotency_key, request_hash, owner, heartbeat_at)
         VALUES ($1, $2, $3, $4, $5, $6, now())
       ON CONFLICT (org_id, user_id, operation_id, idempotency_key) DO UPDATE
         SET owner = excluded.owner, heartbeat_at = now(), request_hash = excluded.request_hash,
             created_at = CASE WHEN r.completed_at IS NULL THEN r.created_at ELSE now() END,
             sent_at = CASE WHEN r.completed_at IS NULL THEN r.sent_at END,
             response = NULL, completed_at = NULL
         WHERE (r.completed_at IS NULL AND r.request_hash = excluded.request_hash
                AND r.heartbeat_at < now() - make_interval(secs => $7::double precision / 1000))
            OR r.completed_at < now() - make_interval(secs => $8::double precision / 1000)
       RETURNING r.sent_at IS NOT NULL AS sent`,
      values: [...params, requestHash, owner, leaseMs, opts.retentionMs]
    })
    if (claimed.rowCount !== 1) {
      const { rows } = await pool.query<{ response: T, completed_at: Date | null, request_hash: string }>(
        `SELECT response, completed_at, request_hash FROM idempotency_records WHERE ${WHERE}`, params)
      const existing = rows[0]
      if (existing !== undefined && existing.request_hash !== requestHash) {
        throw new Unprocessable('IDEMPOTENCY_KEY_REUSED',
          'This idempotency key was already used for a different request; use a new key for a new request', ['idempotencyKey'])
      }
      if (existing?.completed_at != null) return { result: existing.response, replayed: true }
      if (Date.now() > deadline) throw stillRunning()
      await sleep(existing === undefined ? 0 : 100)
      continue
    }
    const heartbeat = setInterval(() => {
      pool.query(`UPDATE idempotency_records SET heartbeat_at = now() WHERE ${WHERE} AND owner = $5`, mine)
        .catch(() => {})
    }, Math.max(50, Math.floor(leaseMs / 3)))
    heartbeat.unref()
    const claim: Claim = {
      orgKey: orgKeyOf(scope),
      writeMaybeDone: claimed.rows[0]?.sent === true,
      sending: async () => {
        const marked = await pool.query({ name: 'idempotency-sending', text: SENDING, values: mine })
        if (marked.rowCount !== 1) throw new ClaimTakenOver()
      }
    }
    let result: T
    try {
      result = await work(claim)
    } catch (err) {
      clearInterval(heartbeat)
      // This process was too slow to beat and another took the key over: wait for its answer.
      if (err instanceof ClaimTakenOver) continue
      // A call known not to have written frees its key for a retry. One whose outcome is unknown
      // gives up its lease at once: the retry takes the key over and settles it by asking the org.
      const release = err instanceof OutcomeUnknown
        ? `UPDATE idempotency_records SET heartbeat_at = '-infinity' WHERE ${WHERE} AND owner = $5`
        : `DELETE FROM idempotency_records WHERE ${WHERE} AND owner = $5`
      await settle(() => pool.query(release, mine)).catch(() => {})
      throw err
    }
    clearInterval(heartbeat)
    // The work is done (a quote may exist in the org): its answer is recorded so that a repeat
    // replays it. Should that fail for good, the lease runs out and a retry asks the org.
    const answer = [...params, JSON.stringify(result)]
    await settle(() => pool.query({ name: 'idempotency-complete', text: COMPLETE, values: answer }))
    return { result, replayed: false }
  }
}

/** `sending()` found the claim owned by another process: this one must not send. */
class ClaimTakenOver extends AppError {
  constructor () { super(409, 'DUPLICATE_REQUEST_IN_PROGRESS', 'Another process took this request over') }
}

/** How long recording a claim's outcome is retried while the database is away (a restart, a failover). */
const SETTLE_MS = 10_000

/** Runs an idempotent statement again while the database is unreachable, for a bounded time. */
async function settle (statement: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + SETTLE_MS
  for (let delay = 100; ; delay = Math.min(delay * 2, 1000)) {
    try {
      await statement()
      return
    } catch (err) {
      if (!(err instanceof Error) || !isDatabaseDown(err) || Date.now() + delay > deadline) throw err
      await sleep(delay * (0.5 + Math.random() / 2))
    }
  }
}
