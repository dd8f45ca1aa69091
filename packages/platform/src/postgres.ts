import type pg from 'pg'

/** A Postgres identifier in double quotes, inner quotes doubled: safe for any schema or table name. */
export const quoteIdent = (identifier: string): string => `"${identifier.replaceAll('"', '""')}"`

/**
 * A client of `pool` for statements spread over time, and the function that gives it back. A
 * connection the server drops between two statements emits 'error' on the checked-out client:
 * without a listener that would crash the process; the client is discarded on release instead.
 */
export async function borrow (pool: pg.Pool): Promise<{ client: pg.PoolClient, release: () => void }> {
  const client = await pool.connect()
  let broken: Error | undefined
  const onError = (err: Error): void => { broken = err }
  client.on('error', onError)
  return {
    client,
    release: () => {
      client.off('error', onError)
      client.release(broken)
    }
  }
}

/**
 * Runs `work` on one client inside BEGIN … COMMIT, rolled back if it throws. `begin` may add
 * statements that open the transaction in the same round trip (a transaction-local setting).
 */
export async function inTransaction<R> (
  pool: pg.Pool, work: (client: pg.PoolClient) => Promise<R>, begin = 'BEGIN'
): Promise<R> {
  const { client, release } = await borrow(pool)
  try {
    await client.query(begin)
    const result = await work(client)
    await client.query('COMMIT')
    return result
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {})
    throw err
  } finally {
    release()
  }
}
