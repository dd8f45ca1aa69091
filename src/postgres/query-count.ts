import { AsyncLocalStorage } from 'node:async_hooks'
import type pg from 'pg'

/** Database queries made on behalf of the current action invocation, for its log line. */
export const queryCount = new AsyncLocalStorage<{ queries: number }>()

/** Makes `pool.query` count into the current invocation's store (no-op outside one). */
export function countQueries (pool: pg.Pool): void {
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown
  pool.query = ((...args: unknown[]) => {
    const store = queryCount.getStore()
    if (store !== undefined) store.queries++
    return query(...args)
  }) as typeof pool.query
}
