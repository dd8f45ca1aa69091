// npm test: runs tap and ends with the plain line `N passed, N failed` that CI reads, keeping
// tap's exit code. Without DATABASE_URL it starts one embedded PostgreSQL for the whole run.
import { spawn } from 'node:child_process'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startEmbeddedPostgres } from '../src/postgres/embedded.ts'

const env = { ...process.env }
let stop: (() => Promise<void>) | undefined
let dataDir: string | undefined
if (env.DATABASE_URL === undefined || env.DATABASE_URL === '') {
  dataDir = await mkdtemp(path.join(tmpdir(), 'applink-test-pg-'))
  // As root the package runs PostgreSQL as its own user, which must reach the data folder.
  await chmod(dataDir, 0o755)
  const embedded = await startEmbeddedPostgres(path.join(dataDir, 'pg'))
  env.DATABASE_URL = embedded.url
  env.TEST_EMBEDDED_POSTGRES = '1'
  stop = embedded.stop
  process.stdout.write(`# DATABASE_URL unset: tests run on an embedded PostgreSQL (${embedded.url.replace(/:[^:@/]*@/, ':***@')})\n`)
}

const args = ['--reporter=tap', ...process.argv.slice(2)]
const child = spawn('tap', args, { env, stdio: ['ignore', 'pipe', 'inherit'] })
let passed = 0
let failed = 0
let tail = ''
child.stdout.on('data', (chunk: Buffer) => {
  process.stdout.write(chunk)
  tail = (tail + chunk.toString('utf8')).slice(-4096)
})
const code: number = await new Promise((resolve) => child.on('close', (c) => { resolve(c ?? 1) }))
// tap's closing summary: `# { total: N, pass: N, fail: N, ... }`.
const summary = tail.slice(tail.lastIndexOf('# { total')).split('\n')[0] ?? ''
const count = (key: string): number => Number(new RegExp(`\\b${key}: (\\d+)`).exec(summary)?.[1] ?? 0)
passed = count('pass')
failed = count('fail')
if (code !== 0 && failed === 0) failed = 1
await stop?.()
if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
process.stdout.write(`\n${passed} passed, ${failed} failed\n`)
process.exit(code)
