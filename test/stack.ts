import { MAPPING } from '../src/postgres/mapping.ts'
import type { Test } from 'tap'
import type pg from 'pg'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { startLocalOrg, type LocalOrg } from '@applink-actions/local-org'
import { startLocalSync, type LocalSync } from '@applink-actions/local-connect'
import { seedAppData } from '../scripts/app-data.ts'
import { actionPath } from '../src/actions/define.ts'
import { buildApp, testDatabase } from './helper.ts'

export interface Stack {
  app: FastifyInstance
  org: LocalOrg
  pool: pg.Pool
  sync: LocalSync
  logs: string[]
  /** Calls an action as a local-org user, through the real context header. */
  call: (operationId: string, body: unknown, username?: string) => Promise<LightMyRequestResponse>
}

/**
 * The whole thing for an end-to-end test: a local org, a fresh database with the mirror filled
 * by the local sync, the app's tables seeded, and the real app on top.
 */
export interface StackOptions {
  env?: Record<string, string> | ((org: LocalOrg) => Record<string, string>)
  seed?: number
}

export async function startStack (t: Test, opts: StackOptions = {}): Promise<Stack> {
  const org = await startLocalOrg({ port: 0, dataset: 'small', seed: opts.seed ?? 7 })
  t.teardown(() => org.close())
  const { url, pool } = await testDatabase(t, 'stack')
  const sync = await startLocalSync({ mapping: MAPPING, pool, schema: 'salesforce', orgUrl: org.url, accessToken: org.user('integration@acme.local').accessToken, intervalMs: 300 })
  t.teardown(() => sync.stop())
  // A function gets the running org, for settings minted from it (contexts).
  const env = typeof opts.env === 'function' ? opts.env(org) : opts.env
  const { app, logs } = await buildApp(t, { env: { DATABASE_URL: url, ...env } })
  await seedAppData(pool, 'salesforce')
  org.resetStats()
  return {
    app,
    org,
    pool,
    sync,
    logs,
    call: async (operationId, body, username = 'rep1@acme.local') => await app.inject({
      method: 'POST',
      url: actionPath(operationId),
      headers: { 'x-client-context': org.mintContext(username) },
      payload: body as object
    })
  }
}
