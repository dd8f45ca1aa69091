import { createHash, randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'
import { AppError, OutcomeUnknown, Unprocessable } from '../errors.ts'
import { isDatabaseDown } from './pool.ts'
import { inSpan, untraced } from '../telemetry/tracing.ts'

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
  /** An earlier owner of this key may have sent the org write, and never recorded its answer: ask the org first. */
  readonly writeMaybeDone: boolean
  /**
   * Call it just before sending the org write. Throws when this claim was taken over meanwhile
   * (the call then waits for the new owner's answer), so two owners never both send. Within the
   * local fence (half the lease since the claim or the last heartbeat went out) it costs nothing;
   * past it, one fenced statement.
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
 * The sending mark, fenced by the owner: run only when the local fence (see `runOnce`) has run
 * out. Committed asynchronously: losing it in a crash changes nothing, as a takeover of an
 * unfinished claim is told the write may have been sent anyway.
 */
const SENDING = `${ASYNC_COMMIT}
  UPDATE idempotency_records SET sent_at = now(), heartbeat_at = now()
    FROM async_commit WHERE ${WHERE} AND owner = $5`

/**
 * Answers of finished calls, one element per answer in each array: $1-$4 the key, $5 the request's
 * hash, $6 the answer. An upsert rather than an UPDATE joined to the arrays: its rows are found
 * through the primary key as the conflict arbiter, whatever the plan, so the generic plan these
 * statements run with (see genericPlanPool) cannot scan the table. A record gone meanwhile
 * (purged after IDEMPOTENCY_RETENTION_MS) comes back as the answered request it was; a record
 * claimed meanwhile for another request (the key freed and reused) keeps its own.
 */
const ANSWERS = `INSERT INTO idempotency_records AS r
      (org_id, user_id, operation_id, idempotency_key, request_hash, response, completed_at)
    SELECT a.*, now() FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[]) AS a
  ON CONFLICT (org_id, user_id, operation_id, idempotency_key) DO UPDATE
    SET response = excluded.response, completed_at = excluded.completed_at
    WHERE r.request_hash = excluded.request_hash`

/**
 * Answers alone (no claim waiting to carry them), committed asynchronously: losing them in a
 * crash leaves their claims to run out their leases, and a retry takes one over and asks the org.
 */
const ANSWERS_ALONE = `${ASYNC_COMMIT} ${ANSWERS.replace('FROM unnest', 'FROM async_commit, unnest')}`

/**
 * Claims ($7-$12, one element per claim) and, in the same statement and commit, the answers
 * waiting to be written ($1-$6). One statement claims a new key, takes over one whose owner
 * stopped beating (same request only), or reuses one whose answer has expired; a claim that
 * returns no row found the key busy or answered. A takeover of an unfinished claim marks it
 * `sent_at`: its earlier owner may have sent the org write, so the new one asks the org first.
 *
 * The answers' upsert runs although nothing reads it: "data-modifying statements in WITH are
 * executed exactly once, and always to completion, independently of whether the primary query
 * reads all (or indeed any) of their output" (PostgreSQL, "WITH Queries (Common Table
 * Expressions)", https://www.postgresql.org/docs/current/queries-with.html). Both parts see one
 * snapshot and "cannot see one another's effects on the target tables" (same page), and an
 * upsert "will not be allowed to affect any single existing row more than once; a cardinality
 * violation error will be raised" (PostgreSQL, "INSERT",
 * https://www.postgresql.org/docs/current/sql-insert.html): so the writer never puts one key
 * twice in a statement, as two claims or as a claim and an answer.
 */
const CLAIMS = `WITH answered AS (${ANSWERS})
  INSERT INTO idempotency_records AS r
      (org_id, user_id, operation_id, idempotency_key, request_hash, owner, heartbeat_at)
    SELECT c.*, now() FROM unnest($7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::uuid[]) AS c
  ON CONFLICT (org_id, user_id, operation_id, idempotency_key) DO UPDATE
    SET owner = excluded.owner, heartbeat_at = now(), request_hash = excluded.request_hash,
        created_at = CASE WHEN r.completed_at IS NULL THEN r.created_at ELSE now() END,
        sent_at = CASE WHEN r.completed_at IS NULL THEN coalesce(r.sent_at, now()) END,
        response = NULL, completed_at = NULL
    WHERE (r.completed_at IS NULL AND r.request_hash = excluded.request_hash
           AND r.heartbeat_at < now() - make_interval(secs => $13::double precision / 1000))
       OR r.completed_at < now() - make_interval(secs => $14::double precision / 1000)
  RETURNING r.owner, r.sent_at IS NOT NULL AS sent`

/** The four columns of a record's key. */
type Key = [orgId: string, userId: string, operationId: string, key: string]

interface QueuedClaim {
  key: Key
  id: string
  requestHash: string
  owner: string
  opts: Pick<IdempotencyOptions, 'leaseMs' | 'retentionMs'>
  /** Goes in a statement of its own: it was in one that failed for a reason other than the database being away. */
  alone: boolean
  resolve: (claimed: { sent: boolean } | undefined) => void
  reject: (err: unknown) => void
}

interface QueuedAnswer {
  key: Key
  id: string
  requestHash: string
  response: string
  since: number
  alone: boolean
  /** When it is written alone at the latest; after a failed write, the earliest it is tried again. */
  dueAt: number
  /** A failed write's answer waits until `dueAt`, rather than riding along with the next claims at once. */
  held: boolean
}

/** A statement's arrays for queued entries: the four key columns, the request hash, then `last`. */
function columns<T extends { key: Key, requestHash: string }> (rows: T[], last: (row: T) => string): string[][] {
  const keyColumns = [0, 1, 2, 3].map((i) => rows.map((row) => row.key[i] ?? ''))
  return [...keyColumns, rows.map((row) => row.requestHash), rows.map(last)]
}

/** Answers waiting alone are written after this long, unless a claim carries them first. */
const FLUSH_MS = 20
/** More answers than this waiting are written at once. */
const MAX_WAITING_ANSWERS = 100
/** A write of answers that found the database away is tried again after this long (until SETTLE_MS). */
const RETRY_MS = 250

/**
 * Writes the claims and the answers of one pool, batched across requests: while one claim
 * statement is in flight, the next claims queue and go together in the next one (one commit, one
 * WAL flush for all of them); answers ride along with the next claims, or are written alone after
 * FLUSH_MS. `close()` writes what is left (the app calls it before the pool ends).
 */
export class IdempotencyWriter {
  readonly pool: pg.Pool
  /** Where the batched statements go: `pool` unless a connection of their own is given. */
  readonly statements: pg.Pool
  private claims: QueuedClaim[] = []
  private answers: QueuedAnswer[] = []
  private running: Promise<void> | undefined
  private timer: NodeJS.Timeout | undefined

  constructor (pool: pg.Pool, statements: pg.Pool = pool) {
    this.pool = pool
    this.statements = statements
  }

  /** Claims the key, durably, as in `runOnce`: the row when claimed, undefined when busy or answered. */
  async claim (claim: Omit<QueuedClaim, 'id' | 'alone' | 'resolve' | 'reject'>): Promise<{ sent: boolean } | undefined> {
    return await new Promise((resolve, reject) => {
      this.claims.push({ ...claim, id: claim.key.join('\0'), alone: false, resolve, reject })
      this.kick(false)
    })
  }

  /** Queues the answer of a finished call: a repeat replays it once written. */
  answer (key: Key, requestHash: string, response: string): void {
    const now = Date.now()
    this.answers.push({ key, id: key.join('\0'), requestHash, response, since: now, alone: false, dueAt: now + FLUSH_MS, held: false })
    if (this.answers.length >= MAX_WAITING_ANSWERS) this.kick(true)
    this.schedule()
  }

  /** Writes every waiting answer (retrying while the database is away, up to SETTLE_MS). */
  async close (): Promise<void> {
    await this.running
    while (this.claims.length > 0 || this.answers.length > 0) {
      this.kick(true)
      await this.running
      if (this.answers.length > 0) await sleep(RETRY_MS)
    }
    clearTimeout(this.timer)
    this.timer = undefined
  }

  /**
   * Arms the timer for the answer due first, unless one is armed or a statement is in flight
   * (its end sends what is ready and arms the timer again).
   */
  private schedule (): void {
    if (this.running !== undefined || this.timer !== undefined || this.answers.length === 0) return
    const due = Math.min(...this.answers.map((a) => a.dueAt))
    this.timer = setTimeout(() => {
      this.timer = undefined
      this.kick(true)
      this.schedule()
    }, Math.max(0, due - Date.now())).unref()
  }

  /** Sends the next statement unless one is in flight; answers alone only when `answers` says so. */
  private kick (answers: boolean): void {
    if (this.running !== undefined || (this.claims.length === 0 && !answers)) return
    const now = Date.now()
    const ready = this.answers.filter((a) => !a.held || a.dueAt <= now)
    const first = this.claims[0]
    const firstAnswer = ready[0]
    let claims: QueuedClaim[] = []
    let written: QueuedAnswer[] = []
    if (first?.alone === true) claims = [first]
    else if (firstAnswer?.alone === true) written = [firstAnswer]
    else {
      written = ready.filter((a) => !a.alone)
      const ids = new Set(written.map((a) => a.id))
      for (const c of this.claims) {
        const sameOptions = c.opts.leaseMs === first?.opts.leaseMs && c.opts.retentionMs === first.opts.retentionMs
        if (!c.alone && sameOptions && !ids.has(c.id)) {
          claims.push(c)
          ids.add(c.id)
        }
      }
    }
    if (claims.length === 0 && written.length === 0) return
    this.claims = this.claims.filter((c) => !claims.includes(c))
    this.answers = this.answers.filter((a) => !written.includes(a))
    // One statement for several calls: each call's `idempotency claim` span stands for it.
    this.running = untraced(async () => { await this.send(claims, written) }).finally(() => {
      this.running = undefined
      this.kick(false)
      this.schedule()
    })
  }

  private async send (claims: QueuedClaim[], answers: QueuedAnswer[]): Promise<void> {
    const answerValues = columns(answers, (a) => a.response)
    try {
      if (claims.length === 0) {
        await this.statements.query({ name: 'idempotency-answers', text: ANSWERS_ALONE, values: answerValues })
        return
      }
      const { leaseMs, retentionMs } = (claims[0] as QueuedClaim).opts
      const claimValues = columns(claims, (c) => c.owner)
      const { rows } = await this.statements.query<{ owner: string, sent: boolean }>({
        name: 'idempotency-claims',
        text: CLAIMS,
        values: [...answerValues, ...claimValues, leaseMs, retentionMs]
      })
      const claimed = new Map(rows.map((row) => [row.owner, row]))
      for (const c of claims) {
        const row = claimed.get(c.owner)
        c.resolve(row === undefined ? undefined : { sent: row.sent })
      }
    } catch (err) {
      const down = err instanceof Error && isDatabaseDown(err)
      const several = claims.length + answers.length > 1
      // Another failure may belong to one entry only (a value PostgreSQL refuses): each goes again alone.
      for (const c of claims) {
        if (!down && several) this.claims.push({ ...c, alone: true })
        else c.reject(err)
      }
      // An answer that cannot be written is dropped: its lease runs out and a retry asks the org.
      const now = Date.now()
      const kept = answers.filter((a) => down ? now - a.since < SETTLE_MS : several)
      this.answers.push(...kept.map((a) => ({ ...a, alone: a.alone || !down, held: true, dueAt: now + RETRY_MS })))
    }
  }
}

/**
 * Runs `work` once per scope: a repeat gets the stored answer, a concurrent duplicate waits for
 * the first call instead of writing too, and a failed call frees the key so a retry can run.
 *
 * A claim is a lease: its owner beats while it works; a claim whose owner died (no beat for
 * `leaseMs`) is taken over by the next call, which is told the write may have been sent. The happy
 * path costs one statement of its own: the claim, committed durably before the work (with other
 * claims of the moment, see IdempotencyWriter); the answer is queued and written with later claims
 * or other answers. Expired answers are purged by housekeeping (src/postgres/housekeeping.ts), or
 * replaced here when their key comes back.
 */
export async function runOnce<T> (
  writer: IdempotencyWriter,
  scope: IdempotencyScope,
  opts: IdempotencyOptions,
  work: (claim: Claim) => Promise<T>
): Promise<{ result: T, replayed: boolean }> {
  const { pool } = writer
  const key: Key = [scope.orgId, scope.userId, scope.operationId, scope.key]
  const requestHash = createHash('sha256').update(canonical(scope.request)).digest('base64url')
  const { leaseMs } = opts
  const deadline = Date.now() + opts.waitMs
  for (;;) {
    const owner = randomUUID()
    const mine = [...key, owner]
    // The local fence: another process takes this claim over only once its heartbeat_at is
    // leaseMs old by the database's clock, and heartbeat_at is stamped after the statement that
    // sets it was sent. So while less than half the lease has passed on this process's monotonic
    // clock since that send, nobody else can own the claim and `sending()` needs no statement.
    // This assumes the two clocks run at rates within a factor of two of each other (NTP keeps
    // them within parts per million); a database clock jumping forward could let a takeover in
    // early, and then the org's upsert on Idempotency_Key__c still refuses a second quote.
    let fencedUntil = performance.now() + leaseMs / 2
    const claimed = await inSpan('idempotency claim', { 'applink.operation_id': scope.operationId },
      async (span) => {
        const row = await writer.claim({ key, requestHash, owner, opts })
        span.setAttribute('applink.idempotency.claimed', row !== undefined)
        return row
      }, { leaf: true })
    if (claimed === undefined) {
      const { rows } = await pool.query<{ response: T, completed_at: Date | null, request_hash: string }>(
        `SELECT response, completed_at, request_hash FROM idempotency_records WHERE ${WHERE}`, key)
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
    let takenOver = false
    const heartbeat = setInterval(() => {
      const sent = performance.now()
      pool.query(`UPDATE idempotency_records SET heartbeat_at = now() WHERE ${WHERE} AND owner = $5`, mine).then(
        (beat) => {
          if (beat.rowCount === 1) fencedUntil = Math.max(fencedUntil, sent + leaseMs / 2)
          else takenOver = true
        },
        () => {})
    }, Math.max(50, Math.floor(leaseMs / 3)))
    heartbeat.unref()
    const claim: Claim = {
      orgKey: orgKeyOf(scope),
      writeMaybeDone: claimed.sent,
      sending: async () => {
        if (!takenOver && performance.now() < fencedUntil) return
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
    // The work is done (a quote may exist in the org): its answer is queued, so that a repeat
    // replays it once written; meanwhile a repeat finds the claim live and waits. Should the
    // write fail for good, the lease runs out and a retry asks the org.
    writer.answer(key, requestHash, JSON.stringify(result))
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
