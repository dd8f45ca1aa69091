// npm test: runs tap and ends with the plain line `N passed, N failed` that CI reads, exiting
// non-zero on any failure. Without DATABASE_URL it starts one embedded PostgreSQL for the run.
// Before that line it names each test file that failed and why: a failed assertion, an uncaught
// exception or unhandled rejection, its process killed or ending early, a timeout; and, should tap
// or this script itself crash, what it was doing and which files had no result.
import { spawn } from 'node:child_process'
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { startEmbeddedPostgres } from '../src/postgres/embedded.ts'
import { TapReport } from './test-report.ts'

const root = path.resolve(import.meta.dirname, '..')
const require = createRequire(import.meta.url)
/** tap's command, run by this Node (`npm test` puts it on the PATH, `node scripts/test.ts` does not). */
const tapBin = path.join(path.dirname(require.resolve('tap/package.json')), 'dist/esm/run.mjs')
const args = process.argv.slice(2)
const env = { ...process.env }
const report = new TapReport()
let phase = 'starting'
let passed = 0
let failed = 0
let stop: (() => Promise<void>) | undefined
let dataDir: string | undefined

process.on('uncaughtException', (err) => { void crashed(err) })
process.on('unhandledRejection', (err) => { void crashed(err) })

phase = 'building tap for the plugins of .taprc'
await buildTapIfStale()
if (env.DATABASE_URL === undefined || env.DATABASE_URL === '') {
  phase = 'starting the embedded PostgreSQL'
  dataDir = await mkdtemp(path.join(tmpdir(), 'applink-test-pg-'))
  // As root the package runs PostgreSQL as its own user, which must reach the data folder.
  await chmod(dataDir, 0o755)
  const embedded = await startEmbeddedPostgres(path.join(dataDir, 'pg'))
  env.DATABASE_URL = embedded.url
  env.TEST_EMBEDDED_POSTGRES = '1'
  stop = embedded.stop
  process.stdout.write(`# DATABASE_URL unset: tests run on an embedded PostgreSQL (${embedded.url.replace(/:[^:@/]*@/, ':***@')})\n`)
}

phase = 'running tap'
const tap = await runTap()
passed = tap.passed
failed = tap.failed
if (!tap.summarised) {
  // tap itself stopped: say how, and which files it left without a result.
  const how = tap.signal !== null ? `was killed by ${tap.signal}` : `exited with code ${tap.code}`
  const error = tap.stderr.split('\n').reverse().find((l) => /^\w*(?:Error|Exception)\b[^:]*: /.test(l))
  process.stdout.write(`\ntap ${how} before its summary${error !== undefined ? `: ${error}` : ''}\n`)
  const pending = await withoutResult()
  if (pending.length > 0) {
    process.stdout.write(`files without a result (tap runs them in this order, 2 at a time): ${listed(pending)}\n`)
  }
  failed = Math.max(failed, 1)
} else if (report.planned !== undefined && report.finished.size < report.planned) {
  // tap may end a run without the result of a file it planned (seen after another file timed out).
  const missing = await withoutResult()
  for (const file of missing) report.failures.push({ file, reasons: ['tap reported no result for it'] })
  if (missing.length === 0) {
    const reasons = [`tap planned ${report.planned} files and gave ${report.finished.size} a result`]
    report.failures.push({ file: '(tap)', reasons })
  }
  failed = Math.max(failed, 1)
}
report.explainFromStderr(tap.stderr, root)
if (report.failures.length > 0) process.stdout.write(`\n${report.failures.length} test file(s) failed:\n`)
for (const { file, reasons } of report.failures) process.stdout.write(`  ${file}: ${listed(reasons.map(short), '; ')}\n`)
if (tap.code !== 0 && failed === 0) failed = 1
const code = tap.code !== 0 || failed > 0 ? Math.max(tap.code, 1) : 0
phase = 'stopping the embedded PostgreSQL'
await cleanUp()
process.stdout.write(`\n${passed} passed, ${failed} failed\n`)
process.exit(code)

interface TapRun {
  code: number
  signal: NodeJS.Signals | null
  summarised: boolean
  passed: number
  failed: number
  stderr: string
}

/** Runs tap, passing its output on, reading its TAP as it comes and keeping the end of its stderr. */
async function runTap (): Promise<TapRun> {
  const child = spawn(process.execPath, [tapBin, '--reporter=tap', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let partial = ''
  let tail = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => {
    process.stdout.write(chunk)
    const text = partial + chunk.toString('utf8')
    const lines = text.split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) report.line(line)
    tail = (tail + text).slice(-4096)
  })
  child.stderr.on('data', (chunk: Buffer) => {
    process.stderr.write(chunk)
    stderr = (stderr + chunk.toString('utf8')).slice(-1_000_000)
  })
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
    child.on('error', reject)
    // Its output ends with it; but should tap die, test processes it left running still hold stderr.
    child.on('exit', (c, s) => { setTimeout(() => { resolve([c, s]) }, 2000).unref() })
    child.on('close', (c, s) => { resolve([c, s]) })
  })
  report.line(partial)
  report.line('')
  // tap's closing summary: `# { total: N, pass: N, fail: N, ... }`.
  const summary = /^# \{ total.*$/m.exec(tail.slice(tail.lastIndexOf('# { total')))?.[0]
  const count = (key: string): number => Number(new RegExp(`\\b${key}: (\\d+)`).exec(summary ?? '')?.[1] ?? 0)
  return { code: code ?? 1, signal, summarised: summary !== undefined, passed: count('pass'), failed: count('fail'), stderr }
}

/** The files of this run that tap gave no result for, in its order. */
async function withoutResult (): Promise<string[]> {
  const files = (await tapOutput(['list', ...args.filter((a) => !a.startsWith('-'))]).catch(() => '')).split('\n')
  return files.filter((f) => f !== '' && !report.finished.has(f))
}

/**
 * tap's Test class is generated for a set of plugins, and npm ci generates it for tap's defaults. A
 * run whose .taprc names others regenerates it, but that run's own files still load with the old
 * one's loaders (the TypeScript loader .taprc turns off): a fresh clone's first run would not run as
 * every later one does. So it is regenerated here, before the run, when it differs.
 */
async function buildTapIfStale (): Promise<void> {
  const testPackage = require.resolve('@tapjs/test/package.json')
  const built = await readFile(path.join(path.dirname(testPackage), 'test-built/src/index.ts'), 'utf8').catch(() => '')
  const signature = /export const signature = `([^`]*)`/.exec(built)?.[1]?.trim()
  if (signature === (await tapOutput(['plugin', 'list'])).trim()) return
  process.stdout.write('# building tap for the plugins of .taprc\n')
  await tapOutput(['build'])
}

/** What a tap command prints, failing with its stderr when it fails. */
async function tapOutput (commandArgs: string[]): Promise<string> {
  const child = spawn(process.execPath, [tapBin, ...commandArgs], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString('utf8') })
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString('utf8') })
  const code = await new Promise((resolve, reject) => { child.on('error', reject); child.on('close', resolve) })
  if (code !== 0) throw new Error(`tap ${commandArgs.join(' ')} failed (${String(code)}): ${err.trim()}`)
  return out
}

function listed (items: string[], separator = ', ', most = 6): string {
  const more = items.length > most ? `${separator}and ${items.length - most} more` : ''
  return items.slice(0, most).join(separator) + more
}

function short (text: string): string {
  return text.length > 300 ? `${text.slice(0, 300)}…` : text
}

async function cleanUp (): Promise<void> {
  const stopping = stop
  stop = undefined
  await stopping?.()
  if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true })
}

/** This script itself failed: say while doing what, and stop what it started. */
async function crashed (err: unknown): Promise<void> {
  const reason = err instanceof Error ? (err.stack ?? err.message) : String(err)
  process.stdout.write(`\nnpm test crashed while ${phase}: ${reason}\n`)
  await cleanUp().catch((e: unknown) => { process.stdout.write(`and could not clean up: ${String(e)}\n`) })
  process.stdout.write(`\n${passed} passed, ${failed + 1} failed\n`)
  process.exit(1)
}
