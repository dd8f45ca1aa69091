// npm run local-org -- --port N [--dataset small|large] [--accounts N] [--latency-ms N] [--seed N]
//   [--snapshot-dir D] [--faults SPEC]
// Prints LOCAL_ORG_URL=<url>, then one "CONTEXT <username> <base64 x-client-context>" per user,
// and serves until SIGINT/SIGTERM.
import { parseArgs } from 'node:util'
import { startLocalOrg } from './index.ts'
import { FAULTS_USAGE, parseFaultSpec } from './faults.ts'

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    host: { type: 'string', default: '127.0.0.1' },
    dataset: { type: 'string', default: 'small' },
    accounts: { type: 'string' },
    'latency-ms': { type: 'string' },
    seed: { type: 'string', default: '42' },
    'snapshot-dir': { type: 'string' },
    faults: { type: 'string' },
    help: { type: 'boolean', short: 'h' }
  }
})

if (values.help) {
  process.stdout.write('usage: npm run local-org -- [--port N] [--host H] [--dataset small|large] [--accounts N] ' +
    `[--latency-ms N|MIN-MAX] [--seed N] [--snapshot-dir D] [--faults ${FAULTS_USAGE}]\n`)
  process.exit(0)
}

const dataset = values.dataset
if (dataset !== 'small' && dataset !== 'large') {
  process.stderr.write(`local org: --dataset must be small or large, not ${dataset}\n`)
  process.exit(2)
}
const num = (name: string, v: string): number => {
  const n = Number(v)
  if (!Number.isInteger(n) || n < 0) {
    process.stderr.write(`local org: --${name} must be a non-negative integer, not ${v}\n`)
    process.exit(2)
  }
  return n
}
let latencyMs: number | [number, number] | undefined
const lat = values['latency-ms']
if (lat !== undefined) {
  const range = /^(\d+)-(\d+)$/.exec(lat)
  latencyMs = range ? [Number(range[1]), Number(range[2])] : num('latency-ms', lat)
}

let faults: ReturnType<typeof parseFaultSpec> | undefined
try {
  faults = values.faults === undefined ? undefined : parseFaultSpec(values.faults)
} catch (e) {
  process.stderr.write(`local org: --faults: ${(e as Error).message}\n`)
  process.exit(2)
}

const org = await startLocalOrg({
  port: num('port', values.port),
  host: values.host,
  dataset,
  accounts: values.accounts === undefined ? undefined : num('accounts', values.accounts),
  seed: num('seed', values.seed),
  latencyMs,
  snapshotDir: values['snapshot-dir']
})
if (faults !== undefined) org.setFaults(faults)

const lines = [`LOCAL_ORG_URL=${org.url}`]
for (const u of org.users) lines.push(`CONTEXT ${u.username} ${org.mintContext(u.username)}`)
process.stdout.write(lines.join('\n') + '\n')

let closing = false
const stop = (): void => {
  if (closing) return
  closing = true
  org.close().then(() => process.exit(0), (e: unknown) => {
    process.stderr.write(`local org: ${String(e)}\n`)
    process.exit(1)
  })
}
process.on('SIGINT', stop)
process.on('SIGTERM', stop)
