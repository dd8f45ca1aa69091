// What `npm test` says about each test file that failed: read from tap's TAP output (one
// `# Subtest: <file>` block a file, closed by `ok`/`not ok N - <file>` and, for a failure, a YAML
// block with the process's exit code and signal) and from the stderr the files wrote.

export interface FileFailure { file: string, reasons: string[] }

interface Failure { indent: number, name: string, path: string[], diag: Record<string, string> }

const SUBTEST = /^( *)# Subtest: (.*)$/
const RESULT = /^( *)(not ok|ok) \d+ - (.*?)(?: # (?:time|SKIP|TODO).*)?$/
const DIAG = /^ *([A-Za-z]+): (.*)$/
/** The first line Node prints of an error: `TypeError: …`, `Error [ERR_MODULE_NOT_FOUND]: …`. */
const ERROR_LINE = /^(?:Uncaught )?\w*(?:Error|Exception)\b[^:]*: /
const CAUGHT: Record<string, string> = {
  uncaughtException: 'uncaught exception',
  unhandledRejection: 'unhandled rejection',
  returnedPromiseRejection: 'the test\'s promise rejected'
}

/** Collects the failing files of a tap run, one TAP line at a time. */
export class TapReport {
  readonly failures: FileFailure[] = []
  /** Files with a result, passed or failed. */
  readonly finished = new Set<string>()
  /** How many files tap said it would run (its first plan line). */
  planned: number | undefined
  #subtests: string[] = []
  #leaves: Failure[] = []
  #noTests = false
  /** The last `not ok`, until its YAML block (if any) is read. */
  #open: { failure: Failure, file: boolean, yaml: boolean } | undefined

  line (text: string): void {
    if (this.#readDiag(text)) return
    const subtest = SUBTEST.exec(text)
    if (subtest !== null) {
      const level = (subtest[1] ?? '').length / 4
      this.#subtests = [...this.#subtests.slice(0, level), subtest[2] ?? '']
      if (level === 0) { this.#leaves = []; this.#noTests = false }
      return
    }
    if (/^ +1\.\.0 # no tests found/.test(text)) this.#noTests = true
    const plan = /^1\.\.(\d+)/.exec(text)
    if (plan !== null) this.planned ??= Number(plan[1])
    const result = RESULT.exec(text)
    if (result === null) return
    const indent = (result[1] ?? '').length
    const name = result[3] ?? ''
    const level = indent / 4
    const file = indent === 0
    if (file && name !== 'timeout!') this.finished.add(name)
    // A subtest's own result repeats what its children said.
    const isSubtest = !file && this.#subtests[level] === name
    if (result[2] === 'ok' || isSubtest) { this.#open = undefined; return }
    this.#open = { failure: { indent, name, path: this.#subtests.slice(1, level), diag: {} }, file, yaml: false }
  }

  /** The failure of a file whose process wrote nothing tap could read: say what its stderr did. */
  explainFromStderr (stderr: string, root: string): void {
    for (const failure of this.failures) {
      if (failure.reasons.some((r) => !r.startsWith('its process'))) continue
      const error = lastErrorMentioning(stderr, `${root}/${failure.file}`)
      if (error !== undefined) failure.reasons.push(`its stderr: ${error}`)
    }
  }

  /** True while the line belongs to the YAML block of the open failure. */
  #readDiag (text: string): boolean {
    const open = this.#open
    if (open === undefined) return false
    const pad = ' '.repeat(open.failure.indent + 2)
    if (!open.yaml) {
      if (text === `${pad}---`) { open.yaml = true; return true }
      this.#close()
      return false
    }
    if (text === `${pad}...`) { this.#close(); return true }
    const diag = DIAG.exec(text)
    if (diag !== null && text.startsWith(pad) && text[pad.length] !== ' ') open.failure.diag[diag[1] ?? ''] = diag[2] ?? ''
    return true
  }

  #close (): void {
    const open = this.#open
    this.#open = undefined
    if (open === undefined) return
    if (!open.file) { this.#leaves.push(open.failure); return }
    const { name, diag } = open.failure
    if (name === 'timeout!') {
      // tap's own line for a file it stopped: `expired: <file>`, the file's block already said it.
      const file = diag.expired ?? ''
      if (!this.failures.some((f) => f.file === file)) this.failures.push({ file, reasons: ['timed out'] })
      return
    }
    this.failures.push({ file: name, reasons: reasonsOf(this.#leaves, diag, this.#noTests) })
  }
}

function reasonsOf (leaves: Failure[], processDiag: Record<string, string>, noTests: boolean): string[] {
  const reasons = leaves.map(leafReason)
  const signal = processDiag.signal ?? 'null'
  const exitCode = processDiag.exitCode ?? 'null'
  if (signal === 'SIGALRM') {
    if (!reasons.some((r) => r.endsWith('timed out'))) reasons.push('timed out')
    if (leaves.every((l) => l.name === 'timeout!' && l.path.length === 0)) {
      reasons.push('its tests ended but its process did not exit (a server, pool or timer left open)')
    }
  } else if (signal !== 'null') {
    reasons.push(`its process was killed by ${signal}`)
  } else if (exitCode !== 'null' && exitCode !== '0' && reasons.length === 0) {
    reasons.push(`its process exited with code ${exitCode}${noTests ? ' before it reported a test' : ''}`)
  }
  // A subtest's timeout already says what the file's own does.
  const unique = [...new Set(reasons)].filter((r, _, all) => r !== 'timed out' || !all.some((o) => o !== r && o.endsWith(': timed out')))
  return unique.length > 0 ? unique : ['failed']
}

function leafReason ({ name, path, diag }: Failure): string {
  const where = path.length > 0 ? `${path.join(' > ')}: ` : ''
  const caught = diag.tapCaught
  if (caught !== undefined) return `${where}${CAUGHT[caught] ?? caught}: ${name}`
  if (name === 'timeout!') return `${where}timed out`
  if (name === 'test unfinished') return `${where}its process ended before the test finished`
  return `${where}${name}`
}

/** The first line of the last error report on stderr whose stack names `file`. */
function lastErrorMentioning (stderr: string, file: string): string | undefined {
  const lines = stderr.split('\n')
  for (let i = lines.length - 1; i >= 0; i--) {
    if (!(lines[i] ?? '').includes(file)) continue
    // Node prints an error's first line, then its stack, one `    at …` line a frame.
    let j = i
    while (j > 0 && /^ +at /.test(lines[j] ?? '')) j--
    if (ERROR_LINE.test(lines[j] ?? '')) return (lines[j] ?? '').trim()
  }
  return undefined
}
