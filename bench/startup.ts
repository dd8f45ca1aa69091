import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import { httpLoad, median, type LoadResult } from './measure.ts'
import { LOCAL_ORG_DOMAINS } from './env.ts'

export interface ProcessFigures { startMs: number, idleRssMb: number, loadRssMb: number, load: LoadResult }
export interface StartupResults { app: ProcessFigures, bare: ProcessFigures, starts: number, seconds: number }

const rssMb = (pid: number): number => {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
  return match === null ? NaN : Number(match[1]) / 1024
}

interface Started { child: ChildProcess, ms: number, address: string }

/** Spawns a server and times it from spawn to the log line that says it listens. */
async function start (script: string, env: Record<string, string>, marker: string): Promise<Started> {
  const t0 = performance.now()
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  return await new Promise((resolve, reject) => {
    let buffered = ''
    let stderr = ''
    let found = false
    child.stderr?.on('data', (chunk: Buffer) => { stderr += chunk.toString('utf8') })
    // The pipe is read to the end (request logs under load), or the child would block on it.
    child.stdout?.on('data', (chunk: Buffer) => {
      if (found) return
      buffered += chunk.toString('utf8')
      for (const line of buffered.split('\n')) {
        if (!line.includes(marker)) continue
        found = true
        const { address } = JSON.parse(line) as { address: string }
        resolve({ child, ms: performance.now() - t0, address })
        return
      }
    })
    child.on('exit', (code) => { if (!found) reject(new Error(`${script} exited with ${code}: ${stderr.slice(-2000)}`)) })
  })
}

async function stop (child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGTERM')
  await exited
}

/** Start-up time (median of `starts`), then RSS idle and under HTTP load, of one server. */
async function measure (
  script: string,
  env: Record<string, string>,
  marker: string,
  request: { path: string, headers: Record<string, string> },
  seconds: number,
  starts: number
): Promise<ProcessFigures> {
  const times: number[] = []
  for (let i = 1; ; i++) {
    const started = await start(script, env, marker)
    times.push(started.ms)
    if (i < starts) { await stop(started.child); continue }
    try {
      const pid = started.child.pid as number
      await sleep(1000)
      const idleRssMb = rssMb(pid)
      let loadRssMb = idleRssMb
      const sampler = setInterval(() => { loadRssMb = Math.max(loadRssMb, rssMb(pid)) }, 200)
      try {
        const load = await httpLoad({ url: `${started.address}${request.path}`, method: 'POST', headers: request.headers, body: '{}', connections: 10, durationS: seconds })
        return { startMs: median(times.sort((a, b) => a - b)), idleRssMb, loadRssMb, load }
      } finally {
        clearInterval(sampler)
      }
    } finally {
      await stop(started.child)
    }
  }
}

/**
 * 6. `node src/server.ts` with DATABASE_URL (an already migrated database, as on a dyno restart)
 * against a bare Fastify server started the same way.
 */
export async function measureStartup (opts: {
  databaseUrl: string
  context: string
  seconds: number
  starts?: number
}): Promise<StartupResults> {
  const starts = opts.starts ?? 3
  const headers = { 'content-type': 'application/json', 'x-client-context': opts.context }
  const root = (path: string) => fileURLToPath(new URL(path, import.meta.url))
  const bare = await measure(root('./bare-server.ts'), {}, 'bare Fastify listening', { path: '/bare', headers }, opts.seconds, starts)
  const app = await measure(root('../src/server.ts'), {
    DATABASE_URL: opts.databaseUrl,
    APP_PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    NODE_ENV: 'development',
    WORKER_IN_WEB: 'false',
    JOB_ENCRYPTION_KEYS: `bench:${randomBytes(32).toString('base64')}`,
    // The context's org is a local one, on loopback.
    ORG_DOMAINS: LOCAL_ORG_DOMAINS
  }, 'AppLink Actions listening', { path: '/actions/whoAmI', headers }, opts.seconds, starts)
  return { app, bare, starts, seconds: opts.seconds }
}
