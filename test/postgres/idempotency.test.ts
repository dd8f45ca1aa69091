import t, { type Test } from 'tap'
import { randomUUID } from 'node:crypto'
import { IdempotencyWriter, runOnce } from '../../src/postgres/idempotency.ts'
import { purgeExpired } from '../../src/postgres/housekeeping.ts'
import { AppError, OutcomeUnknown } from '../../src/errors.ts'
import { buildApp } from '../helper.ts'

const options = { retentionMs: 60_000, waitMs: 300, leaseMs: 10_000 }

/** The promise fails with an error that has these fields. */
async function failsWith (
  t: Test, promise: Promise<unknown>, fields: Record<string, unknown>, message?: string
): Promise<void> {
  await promise.then(
    () => { t.fail(message ?? 'should have failed') },
    (err: unknown) => { t.match(err, fields, message ?? 'fails as expected') }
  )
}

t.test('idempotency records', async (t) => {
  const { app } = await buildApp(t)
  const scope = (overrides: Record<string, unknown> = {}) => ({
    orgId: '00D000000000001AAA',
    userId: '005000000000001AAA',
    operationId: 'test',
    key: randomUUID(),
    request: { a: 1, b: [2, 3] },
    ...overrides
  })
  let runs = 0
  const work = async () => { runs++; return { n: runs } }

  t.test('a repeat of the same request replays the first answer, keys in any order', async (t) => {
    const s = scope()
    runs = 0
    t.same(await runOnce(app.idempotency, s, options, work), { result: { n: 1 }, replayed: false })
    t.same(
      await runOnce(app.idempotency, { ...s, request: { b: [2, 3], a: 1 } }, options, work),
      { result: { n: 1 }, replayed: true }
    )
    t.equal(runs, 1)
  })

  t.test('the same key for another request is refused; another user has keys of their own', async (t) => {
    const s = scope()
    runs = 0
    await runOnce(app.idempotency, s, options, work)
    await failsWith(t, runOnce(app.idempotency, { ...s, request: { a: 2 } }, options, work), { errorCode: 'IDEMPOTENCY_KEY_REUSED', statusCode: 422 })
    t.same(await runOnce(app.idempotency, { ...s, userId: '005000000000002AAA' }, options, work), { result: { n: 2 }, replayed: false })
  })

  t.test('a failure frees the key; an unknown outcome is settled by the retry, told the write was sent', async (t) => {
    const failed = scope()
    runs = 0
    await t.rejects(runOnce(app.idempotency, failed, options, async () => { throw new AppError(400, 'NOPE', 'refused') }))
    t.same(await runOnce(app.idempotency, failed, options, work), { result: { n: 1 }, replayed: false }, 'the retry runs')

    const lost = scope()
    await failsWith(t, runOnce(app.idempotency, lost, options, async (claim) => {
      await claim.sending()
      throw new OutcomeUnknown('no answer')
    }), { errorCode: 'OUTCOME_UNKNOWN' })
    const started = Date.now()
    let told: boolean | undefined
    await runOnce(app.idempotency, lost, options, async (claim) => { told = claim.writeMaybeDone; return { n: 0 } })
    t.equal(told, true, 'the retry runs at once and knows the write may have happened (it asks the org)')
    t.ok(Date.now() - started < 1000, 'without waiting for a lease')
  })

  t.test('a claim whose owner died is taken over after the lease; a live one is not', async (t) => {
    const s = scope()
    const lease = { ...options, leaseMs: 300, waitMs: 5000 }
    // The owner "dies" holding the claim: its work never ends, and it stops beating.
    let release = (): void => {}
    const never = async () => await new Promise<{ n: number }>((resolve) => { release = () => { resolve({ n: -1 }) } })
    const stuck = runOnce(app.idempotency, s, { ...lease, leaseMs: 60_000 }, never)
    await new Promise((resolve) => setTimeout(resolve, 100))
    await app.pg.query(
      "UPDATE idempotency_records SET heartbeat_at = now() - interval '1 hour' WHERE idempotency_key = $1", [s.key])
    let told: boolean | undefined
    const taken = await runOnce(app.idempotency, s, lease, async (claim) => {
      told = claim.writeMaybeDone
      return { n: 7 }
    })
    t.same(taken, { result: { n: 7 }, replayed: false }, 'the next call takes the key over')
    t.equal(told, true, 'and is told the dead owner may have sent (it asks the org before writing)')
    release()
    await stuck

    const live = scope()
    const slow = runOnce(app.idempotency, live, { ...lease, leaseMs: 150 }, async () => {
      await new Promise((resolve) => setTimeout(resolve, 700))
      return { n: 1 }
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    runs = 0
    const waited = await runOnce(app.idempotency, live, lease, work)
    t.same(waited, { result: { n: 1 }, replayed: true }, 'a beating owner is waited for, not taken over')
    t.equal(runs, 0)
    await slow
  })

  t.test('past the local fence, an owner whose claim was taken over does not send; it answers what the new owner did',
    async (t) => {
      const s = scope()
      const lease = { ...options, leaseMs: 200 }
      let sent = false
      const slow = runOnce(app.idempotency, s, lease, async (claim) => {
        await app.pg.query('UPDATE idempotency_records SET owner = gen_random_uuid() WHERE idempotency_key = $1', [s.key])
        setTimeout(() => {
          void app.pg.query('UPDATE idempotency_records SET response = $2, completed_at = now() WHERE idempotency_key = $1',
            [s.key, { n: 42 }])
        }, 150)
        // Half the lease has passed since the claim was sent: another process may own it by now.
        await new Promise((resolve) => setTimeout(resolve, 110))
        await claim.sending()
        sent = true
        return { n: 1 }
      })
      t.same(await slow, { result: { n: 42 }, replayed: true })
      t.equal(sent, false, 'sending() stopped it')
    })

  /** Statements sent on the app's pool and the writer's connection while `run` runs, by name (unnamed: ''). */
  const counting = async <T>(run: () => Promise<T>): Promise<{ result: T, names: string[] }> => {
    const names: string[] = []
    const pools = [app.pg, app.idempotency.statements]
    const queries = pools.map((pool) => pool.query)
    for (const pool of pools) {
      const query = pool.query.bind(pool)
      pool.query = ((...args: Parameters<typeof query>) => {
        names.push((args[0] as { name?: string }).name ?? '')
        return query(...args)
      }) as typeof pool.query
    }
    try {
      return { result: await run(), names }
    } finally {
      pools.forEach((pool, i) => { pool.query = queries[i] as typeof pool.query })
    }
  }

  t.test('the happy path costs one statement of its own; the answer follows', async (t) => {
    const s = scope()
    const { result, names } = await counting(async () =>
      await runOnce(app.idempotency, s, options, async (claim) => { await claim.sending(); return { n: 1 } }))
    t.same(result, { result: { n: 1 }, replayed: false })
    t.same(names, ['idempotency-claims'], 'the claim; sending() within the local fence costs no statement')
    await app.idempotency.close()
    const { rows } = await app.pg.query('SELECT response FROM idempotency_records WHERE idempotency_key = $1', [s.key])
    t.same(rows[0]?.response, { n: 1 }, 'the answer is written soon after')
  })

  t.test('concurrent claims share statements; answers ride along with the next claims', async (t) => {
    const keys = Array.from({ length: 6 }, () => scope())
    const { names } = await counting(async () => await Promise.all(keys.map(async (s) =>
      await runOnce(app.idempotency, s, options, async () => ({ key: s.key })))))
    t.equal(names.filter((n) => n === 'idempotency-claims').length, 2, 'the first claim, then the five queued behind it')
    const { names: next } = await counting(async () => await runOnce(app.idempotency, scope(), options, work))
    t.same(next, ['idempotency-claims'], 'the next claim carries the six answers')
    const { rows } = await app.pg.query<{ key: string, response: { key: string } }>(
      'SELECT idempotency_key AS key, response FROM idempotency_records WHERE idempotency_key = ANY($1)',
      [keys.map((s) => s.key)])
    t.equal(rows.length, 6)
    t.ok(rows.every((row) => row.response.key === row.key), 'each key with its own answer')
  })

  t.test('a replay during the batch window gets the same answer, in this process or another', async (t) => {
    const s = scope()
    runs = 0
    const first = await runOnce(app.idempotency, s, options, work)
    const other = new IdempotencyWriter(app.pg)
    const [here, there] = await Promise.all([
      runOnce(app.idempotency, s, options, work),
      runOnce(other, s, options, work)
    ])
    t.same(here, { result: first.result, replayed: true }, 'this process')
    t.same(there, { result: first.result, replayed: true }, 'another process, once the answer is written')
    t.equal(runs, 1)
  })

  t.test('closing the app writes the answers still queued', async (t) => {
    const { app: closing } = await buildApp(t)
    const s = scope()
    await runOnce(closing.idempotency, s, options, work)
    await closing.close()
    const { rows } = await app.pg.query('SELECT completed_at FROM idempotency_records WHERE idempotency_key = $1', [s.key])
    t.not(rows[0]?.completed_at, null, 'answered before the pool ended')
  })

  t.test('an answer queued while a slow statement is in flight is written once it ends', async (t) => {
    // Every statement of this writer takes 80 ms: the answer's 20 ms timer fires while a claim is in flight.
    const slow = Object.create(app.pg) as typeof app.pg
    slow.query = (async (...args: Parameters<typeof app.pg.query>) => {
      await new Promise((resolve) => setTimeout(resolve, 80))
      return await (app.pg.query as (...a: unknown[]) => Promise<unknown>)(...args)
    }) as typeof app.pg.query
    const writer = new IdempotencyWriter(app.pg, slow)
    const claimed = writer.claim({ key: ['o', 'u', 'slow', randomUUID()], requestHash: 'h', owner: randomUUID(), opts: options })
    const answered = scope()
    writer.answer([answered.orgId, answered.userId, answered.operationId, answered.key], 'h', '{"n":1}')
    await claimed
    const written = async () => (await app.pg.query(
      'SELECT 1 FROM idempotency_records WHERE idempotency_key = $1 AND completed_at IS NOT NULL', [answered.key])).rowCount
    const deadline = Date.now() + 2000
    while (await written() !== 1 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20))
    t.equal(await written(), 1, 'written without another claim or close() to carry it')
  })

  t.test('an answer refused for another request\'s record leaves that record as it is', async (t) => {
    const s = scope()
    let release = (): void => {}
    const running = runOnce(app.idempotency, s, options, async () => {
      await new Promise<void>((resolve) => { release = resolve })
      return { n: 2 }
    })
    await new Promise((resolve) => setTimeout(resolve, 50))
    const key: [string, string, string, string] = [s.orgId, s.userId, s.operationId, s.key]
    app.idempotency.answer(key, 'another request', '{"n":1}')
    await app.idempotency.close()
    const { rows } = await app.pg.query('SELECT completed_at FROM idempotency_records WHERE idempotency_key = $1', [s.key])
    t.equal(rows[0]?.completed_at, null, 'the live claim is not answered with another request\'s answer')
    release()
    t.same(await running, { result: { n: 2 }, replayed: false })
  })

  t.test('a statement that fails for one entry fails only that one', async (t) => {
    const good = scope()
    const bad = scope({ key: 'nul\u0000byte' })
    const results = await Promise.allSettled([
      runOnce(app.idempotency, scope(), options, work),
      runOnce(app.idempotency, good, options, work),
      runOnce(app.idempotency, bad, options, work)
    ])
    t.equal(results[1]?.status, 'fulfilled', 'the other claim of its statement goes through alone')
    t.equal(results[2]?.status, 'rejected', 'the claim PostgreSQL refuses fails')
  })

  t.test('expired records are purged, live ones kept', async (t) => {
    const old = scope()
    const live = scope()
    await runOnce(app.idempotency, old, options, work)
    await runOnce(app.idempotency, live, options, work)
    await app.pg.query("UPDATE idempotency_records SET completed_at = now() - interval '2 days' WHERE idempotency_key = $1", [old.key])
    const purged = await purgeExpired(app.pg, 86_400_000)
    t.ok(purged.idempotencyRecords >= 1)
    const { rows } = await app.pg.query<{ key: string }>('SELECT idempotency_key AS key FROM idempotency_records WHERE idempotency_key = ANY($1)', [[old.key, live.key]])
    t.same(rows.map((r) => r.key), [live.key])
  })

  t.test('an unfinished claim is purged only once its owner stopped beating for the retention', async (t) => {
    const beating = scope()
    const silent = scope()
    for (const s of [beating, silent]) {
      await app.pg.query(`INSERT INTO idempotency_records (org_id, user_id, operation_id, idempotency_key, request_hash,
        created_at, heartbeat_at) VALUES ($1, $2, $3, $4, 'h', now() - interval '2 days', now() - $5::interval)`,
      [s.orgId, s.userId, s.operationId, s.key, s === beating ? '1 second' : '2 days'])
    }
    await purgeExpired(app.pg, 86_400_000)
    const { rows } = await app.pg.query<{ key: string }>(
      'SELECT idempotency_key AS key FROM idempotency_records WHERE idempotency_key = ANY($1)', [[beating.key, silent.key]])
    t.same(rows.map((r) => r.key), [beating.key], 'a long call still beating keeps its claim')
  })
})
