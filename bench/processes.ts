// Servers in processes of their own, as a dyno runs them, and the CPU time they spend.
import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync, readFileSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { setTimeout as sleep } from 'node:timers/promises'
import type pg from 'pg'

/** Clock ticks per second of /proc/<pid>/stat's utime and stime (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100

/** User + system CPU time of a process so far, in ms (Linux /proc). */
export function cpuMs (pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
  // Fields after the command name (which may hold spaces) start at its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
  return (Number(fields[11]) + Number(fields[12])) * 1000 / TICKS_PER_S
}

/** This process's own CPU time so far, in ms (µs resolution). */
export function ownCpuMs (): number {
  const { user, system } = process.cpuUsage()
  return (user + system) / 1000
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const address = server.address()
  await new Promise((resolve) => server.close(resolve))
  if (address === null || typeof address === 'string') throw new Error('no port')
  return address.port
}

export interface ServerProcess { child: ChildProcess, pid: number, url: string, stop: () => Promise<void> }

/**
 * Starts `node <script>` with stdout (its logs) to /dev/null, as a dyno's logs leave the process,
 * and waits until its port answers HTTP. `portVariable` names the env variable it listens on.
 */
export async function startServerProcess (
  script: string, env: Record<string, string>, portVariable: string, nodeArgs: string[] = []
): Promise<ServerProcess> {
  const port = await freePort()
  const devNull = openSync('/dev/null', 'w')
  const child = spawn(process.execPath, [...nodeArgs, script], {
    env: { ...process.env, ...env, [portVariable]: String(port) },
    stdio: ['ignore', devNull, 'pipe']
  })
  closeSync(devNull)
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => { stderr = (stderr + chunk.toString('utf8')).slice(-4000) })
  const url = `http://127.0.0.1:${port}`
  for (let waited = 0; ; waited += 50) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}: ${stderr}`)
    const answered = await fetch(url, { method: 'HEAD' })
      .then(async (res) => { await res.arrayBuffer(); return true }, () => false)
    if (answered) break
    if (waited > 30_000) {
      child.kill('SIGKILL')
      throw new Error(`${script} did not listen within 30 s: ${stderr}`)
    }
    await sleep(50)
  }
  const stop = async () => {
    if (child.exitCode !== null) return
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
  return { child, pid: child.pid as number, url, stop }
}

/** CPU time so far (ms) of each PostgreSQL backend serving one database, by pid (pg_stat_activity, /proc). */
export async function backendCpu (pool: pg.Pool, database: string): Promise<Map<number, number>> {
  const { rows } = await pool.query<{ pid: number }>(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()', [database])
  const out = new Map<number, number>()
  for (const { pid } of rows) {
    try { out.set(pid, cpuMs(pid)) } catch { /* the backend ended meanwhile */ }
  }
  return out
}

/** CPU the backends spent between two snapshots (a backend that started in between counts from 0). */
export function backendCpuSpent (before: Map<number, number>, after: Map<number, number>): number {
  let total = 0
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0)
  return total
}

/**
 * Starts the worker (`npm run worker`'s script) with `env` as its whole environment, its logs read
 * until it says it is ready (LOG_LEVEL info or lower), then dropped.
 */
export async function startWorkerProcess (env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const child = spawn(process.execPath, [fileURLToPath(new URL('../src/jobs/worker.ts', import.meta.url))], {
    env,
    stdio: ['ignore', 'pipe', 'pipe']
  })
  child.stderr?.resume()
  return await new Promise((resolve, reject) => {
    let ready = false
    child.stdout?.on('data', (chunk: Buffer) => {
      if (!ready && chunk.toString('utf8').includes('worker ready')) { ready = true; resolve(child) }
    })
    child.on('exit', (code) => { if (!ready) reject(new Error(`worker exited with ${code}`)) })
  })
}
