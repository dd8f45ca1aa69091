import { execFile } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { promisify } from 'node:util'
import { fileURLToPath } from 'node:url'

const run = promisify(execFile)

export interface LoadOptions {
  url: string
  method?: 'GET' | 'POST'
  headers?: Record<string, string>
  body?: string
  connections?: number
  durationS: number
  /** A new AppLink request id in x-client-context for every call. */
  freshRequestId?: boolean
  /** Requests per second across all connections (an open load); unset, each connection sends as fast as answered. */
  rate?: number
  /** Callers taking turns, one request each: its x-client-context and body replace `headers`' and `body`. */
  callers?: Caller[]
}

/** One caller of a load: its x-client-context and the body it sends. */
export interface Caller { context: string, body: string }

/** Throughput and latency of one measurement; latencies in ms. */
export interface LoadResult { rps: number, p50: number, p99: number, requests: number, failures: number }

/** HTTP load from a child process (autocannon); the server under test stays alone in this one. */
export async function httpLoad (opts: LoadOptions): Promise<LoadResult> {
  const script = fileURLToPath(new URL('./load.ts', import.meta.url))
  // One argument holds at most 128 KB (Linux): many callers' contexts go through a file.
  const json = JSON.stringify(opts)
  const file = json.length > 64 * 1024 ? join(await mkdtemp(join(tmpdir(), 'bench-load-')), 'options.json') : undefined
  if (file !== undefined) await writeFile(file, json)
  const { stdout } = await run(process.execPath, [script, file === undefined ? json : `@${file}`], { maxBuffer: 1 << 20 })
    .finally(async () => { if (file !== undefined) await rm(dirname(file), { recursive: true, force: true }) })
  const result = JSON.parse(stdout) as LoadResult
  if (result.failures > 0) throw new Error(`${opts.url}: ${result.failures} of ${result.requests} requests failed`)
  return result
}

export function percentile (sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number
}

/**
 * `concurrency` loops calling `fn` for `durationMs`: the in-process counterpart of httpLoad,
 * for baselines that skip HTTP (a pg pool, a direct fetch).
 */
export async function loop (
  fn: () => Promise<unknown>,
  opts: { concurrency: number, durationMs: number }
): Promise<LoadResult> {
  const times: number[] = []
  const started = performance.now()
  const end = started + opts.durationMs
  await Promise.all(Array.from({ length: opts.concurrency }, async () => {
    while (performance.now() < end) {
      const t0 = performance.now()
      await fn()
      times.push(performance.now() - t0)
    }
  }))
  const elapsed = (performance.now() - started) / 1000
  times.sort((a, b) => a - b)
  return {
    rps: times.length / elapsed,
    p50: percentile(times, 50),
    p99: percentile(times, 99),
    requests: times.length,
    failures: 0
  }
}

/** Sequential timings of `fn` (after `warmup` untimed calls), sorted, in ms. */
export async function sample (fn: () => Promise<unknown>, runs: number, warmup = 3): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn()
  const times: number[] = []
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    await fn()
    times.push(performance.now() - t0)
  }
  return times.sort((a, b) => a - b)
}

export const median = (sorted: number[]): number => percentile(sorted, 50)

/** Progress for the person waiting; stdout is kept for the summary. */
export function progress (message: string): void {
  process.stderr.write(`bench: ${message}\n`)
}

/**
 * Measures a baseline and a subject in alternating rounds, so a load that comes and goes on the
 * machine (other processes) weighs on both alike; round i of each forms a pair. Throughput over
 * all rounds; p50/p99 the median of the rounds'.
 */
export async function compare (
  baseline: (seconds: number) => Promise<LoadResult>,
  subject: (seconds: number) => Promise<LoadResult>,
  opts: { seconds: number, rounds: number }
): Promise<{ baseline: LoadResult, subject: LoadResult, ratio: number }> {
  const [b, s] = await compareAll([baseline, subject], opts) as [LoadResult, LoadResult]
  return { baseline: b, subject: s, ratio: s.rps / b.rps }
}

/**
 * `compare` for any number of sides: each warmed up for 1 s, then each round runs every side once,
 * the order turning by one each round (with two: baseline, subject, subject, baseline, …), so no side
 * always runs under what another left behind (the local org's garbage from its calls, a checkpoint
 * of its writes), and every side has served the same load before each round.
 */
export async function compareAll (
  sides: Array<(seconds: number) => Promise<LoadResult>>, opts: { seconds: number, rounds: number }
): Promise<LoadResult[]> {
  for (const side of sides) await side(1)
  const rounds: LoadResult[][] = sides.map(() => [])
  const each = opts.seconds / opts.rounds
  for (let i = 0; i < opts.rounds; i++) {
    for (let j = 0; j < sides.length; j++) {
      const k = (i + j) % sides.length
      rounds[k]?.push(await (sides[k] as (seconds: number) => Promise<LoadResult>)(each))
    }
  }
  const merge = (results: LoadResult[]): LoadResult => {
    const by = (key: 'p50' | 'p99') => median(results.map((r) => r[key]).sort((a, b) => a - b))
    const requests = results.reduce((n, r) => n + r.requests, 0)
    return { rps: requests / (each * results.length), p50: by('p50'), p99: by('p99'), requests, failures: results.reduce((n, r) => n + r.failures, 0) }
  }
  return rounds.map(merge)
}
