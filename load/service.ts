// The service as production runs it (`node src/server.ts`, its own process), so its RSS, its exit
// code and its behaviour on SIGTERM are the real ones. Its JSON log is read line by line.
import { spawn, type ChildProcessByStdio } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'

export interface LogLine { level?: number, time?: number, msg?: string, requestId?: string, [key: string]: unknown }

/** What the service's own log says, for checks the client side cannot make. */
export interface LogTally {
  lines: number
  /** Requests Fastify routed ("incoming request") and has not answered yet ("request completed"). */
  open: Map<string, number>
  accepted: number
  completed: number
  /** error and fatal lines by `msg / err.type / errorCode`. */
  errors: Map<string, number>
  /** Lines containing one of `secrets`. */
  secretHits: number
  /** Live heap (MB) after each full (mark-compact) GC, from --trace-gc: the leak signal RSS is not. */
  heapAfterGc: Array<{ at: number, mb: number }>
  /** Time of the "shutting down" line and the requests open at that moment. */
  shutdownAt?: number
  openAtShutdown: string[]
}

export interface Service {
  url: string
  pid: number
  log: LogTally
  /** Lines matching a predicate, kept when asked for (jobs, shutdown). */
  watch: (predicate: (line: LogLine) => boolean) => LogLine[]
  rssMb: () => number
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>
}

const LISTENING = 'AppLink Actions listening'

export async function startService (
  env: Record<string, string>,
  secrets: string[],
  say: (line: string) => void
): Promise<Service> {
  const child: ChildProcessByStdio<null, Readable, Readable> = spawn(process.execPath, ['--trace-gc', 'src/server.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const log: LogTally = {
    lines: 0,
    open: new Map(),
    accepted: 0,
    completed: 0,
    errors: new Map(),
    secretHits: 0,
    heapAfterGc: [],
    openAtShutdown: []
  }
  const watchers: Array<{ predicate: (line: LogLine) => boolean, lines: LogLine[] }> = []
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => { resolve(code ?? signal ?? 'unknown') })
  })
  createInterface({ input: child.stderr }).on('line', (line) => { say(`service stderr: ${line}`) })

  const url = await new Promise<string>((resolve, reject) => {
    void exited.then((code) => { reject(new Error(`the service exited (${code}) before listening`)) })
    createInterface({ input: child.stdout }).on('line', (text) => {
      log.lines++
      if (secrets.some((s) => text.includes(s))) log.secretHits++
      let line: LogLine
      if (!text.startsWith('{')) {
        const gc = /Mark-Compact(?: \(reduce\))? [\d.]+ \([\d.]+\) -> ([\d.]+) \(/.exec(text)
        if (gc?.[1] !== undefined) log.heapAfterGc.push({ at: Date.now(), mb: Number(gc[1]) })
        return
      }
      try { line = JSON.parse(text) as LogLine } catch { say(`service: ${text}`); return }
      const id = line.requestId
      if (line.msg === 'incoming request' && id !== undefined) { log.accepted++; log.open.set(id, line.time ?? Date.now()) }
      if (line.msg === 'request completed' && id !== undefined) { log.completed++; log.open.delete(id) }
      if ((line.level ?? 0) >= 50) {
        const err = (line.err ?? {}) as { type?: string, code?: string, errorCode?: string, message?: string }
        const key = `${line.msg} / ${err.type ?? '-'} / ${err.errorCode ?? err.code ?? err.message?.slice(0, 60) ?? '-'}`
        log.errors.set(key, (log.errors.get(key) ?? 0) + 1)
      }
      if (line.msg === 'shutting down') { log.shutdownAt = line.time ?? Date.now(); log.openAtShutdown = [...log.open.keys()] }
      for (const w of watchers) if (w.predicate(line)) w.lines.push(line)
      if (line.msg === LISTENING && typeof line.address === 'string') resolve(line.address)
    })
  })
  const pid = child.pid as number
  return {
    url,
    pid,
    log,
    exited,
    watch: (predicate) => {
      const lines: LogLine[] = []
      watchers.push({ predicate, lines })
      return lines
    },
    rssMb: () => {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8')
      const kb = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1] ?? NaN)
      return kb / 1024
    }
  }
}

/** SIGTERM, then SIGKILL if the process outlives `graceMs` (so a hang cannot hang the run). */
export async function stopService (service: Service, graceMs: number): Promise<{ code: number | string, ms: number }> {
  const started = performance.now()
  try { process.kill(service.pid, 'SIGTERM') } catch { /* already gone */ }
  const timer = setTimeout(() => { try { process.kill(service.pid, 'SIGKILL') } catch { /* gone */ } }, graceMs)
  const code = await service.exited
  clearTimeout(timer)
  return { code, ms: performance.now() - started }
}
