// Helpers for the local org tests: start an org per test file, call its REST API over HTTP.
import { createRequire } from 'node:module'
import type { Test } from 'tap'
import { startLocalOrg } from '../src/index.ts'
import type { LocalOrg, LocalOrgOptions } from '../src/index.ts'

export const require = createRequire(import.meta.url)

export interface Tap { teardown: (fn: () => unknown) => void }

export async function orgFor (t: Tap, opts: LocalOrgOptions = {}): Promise<LocalOrg> {
  const org = await startLocalOrg(opts)
  t.teardown(() => org.close())
  return org
}

export interface Res { status: number; headers: Headers; body: any }

export async function call (
  org: LocalOrg,
  username: string | null,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {}
): Promise<Res> {
  const h: Record<string, string> = { ...headers }
  if (username) h.Authorization = `Bearer ${org.user(username).accessToken}`
  if (body !== undefined) h['Content-Type'] = 'application/json'
  const url = path.startsWith('http') ? path : `${org.url}${path.startsWith('/services') ? '' : `/services/data/v${org.apiVersion}`}${path}`
  const r = await fetch(url, { method, headers: h, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) })
  const text = await r.text()
  let parsed: unknown = text
  try { parsed = text ? JSON.parse(text) : undefined } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, body: parsed }
}

export function soql (org: LocalOrg, username: string, q: string, headers: Record<string, string> = {}): Promise<Res> {
  return call(org, username, 'GET', `/query?q=${encodeURIComponent(q)}`, undefined, headers)
}

/** The real SDK, loaded the way the service loads it (CommonJS). */
export function applink (): any {
  return require('@heroku/applink')
}

/** jsforce's Connection, imported from its module directly (the top-level export can be undefined). */
export function jsforceConnection (): any {
  return require('jsforce/lib/connection.js').Connection
}

export const ADMIN = 'admin@acme.local'
export const REP1 = 'rep1@acme.local'
export const REP2 = 'rep2@acme.local'
export const REP3 = 'rep3@acme.local'
export const READONLY = 'readonly@acme.local'
export const INTEGRATION = 'integration@acme.local'

/** Asserts that the promise rejects with an error carrying the given Salesforce errorCode. */
export async function rejectsCode (t: Test, p: Promise<unknown>, code: string): Promise<void> {
  try {
    await p
    t.fail(`expected ${code}, but it resolved`)
  } catch (e) {
    t.equal((e as { errorCode?: string }).errorCode, code, `rejects with ${code}`)
  }
}
