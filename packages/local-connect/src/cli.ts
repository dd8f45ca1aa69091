// Usage: node packages/local-connect/src/cli.ts <mapping module>
//   Runs the local sync for the `MAPPING` the module exports (the product's: src/postgres/mapping.ts).
//   Environment: DATABASE_URL, ORG_URL, ORG_ACCESS_TOKEN; optional CONNECT_SCHEMA (salesforce),
//   ORG_API_VERSION (62.0), SYNC_INTERVAL_MS (2000).
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import type { MappingDecl } from '@applink-actions/platform/connect-mapping'
import { startLocalSync } from './index.ts'

const need = (name: string): string => {
  const value = process.env[name]
  if (value === undefined || value === '') throw new Error(`${name} is required`)
  return value
}
const modulePath = process.argv[2]
if (modulePath === undefined) throw new Error('usage: cli.ts <module exporting MAPPING>')
const { MAPPING } = await import(pathToFileURL(path.resolve(modulePath)).href) as { MAPPING?: MappingDecl }
if (MAPPING === undefined) throw new Error(`${modulePath} exports no MAPPING`)
const sync = await startLocalSync({
  mapping: MAPPING,
  databaseUrl: need('DATABASE_URL'),
  orgUrl: need('ORG_URL'),
  accessToken: need('ORG_ACCESS_TOKEN'),
  schema: process.env.CONNECT_SCHEMA ?? 'salesforce',
  apiVersion: process.env.ORG_API_VERSION ?? '62.0',
  intervalMs: Number(process.env.SYNC_INTERVAL_MS ?? 2000)
})
process.stdout.write('local sync running; Ctrl-C stops it\n')
const stop = (): void => { sync.stop().then(() => process.exit(0), () => process.exit(1)) }
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
