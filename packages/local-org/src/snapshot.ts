// Optional persistence: the org's records in a directory, read back on start instead of seeding.
// A base file of every record (records-<generation>.jsonl) plus a journal of the records changed
// since (journal-<generation>.jsonl, appended): saving costs what changed, not the whole store.
// When the journal has grown to a share of the base, the two are compacted into a new base.
// meta.json names the current generation and is replaced last (atomically): it is the commit point.
import {
  appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync
} from 'node:fs'
import { join } from 'node:path'
import type { OrgCore } from './org.ts'
import type { Rec } from './store.ts'

export interface SnapshotMeta {
  format: 1 | 2
  orgId: string
  seed: number
  dataset: string
  idCounter: number
  autonumbers: Record<string, number>
  savedAt: string
  /** Records in the base file. */
  records: number
  /** Format 2: the base and journal files in use. */
  generation?: number
  /** Format 2: lines appended to the journal since the base. */
  journalLines?: number
}

export interface SnapshotInfo { seed: number, dataset: string }

/** A removed record in the journal (a create rolled back after it was journaled). */
interface Tombstone { removed: string }

const META = 'meta.json'
/** The single file of format 1, still read. */
const LEGACY_RECORDS = 'records.jsonl'
/** The journal is compacted once it has this many lines and as many as half the base's records. */
const MIN_COMPACT_LINES = 5_000

const baseFile = (generation: number): string => `records-${generation}.jsonl`
const journalFile = (generation: number): string => `journal-${generation}.jsonl`

export function snapshotExists (dir: string): boolean {
  if (!existsSync(join(dir, META))) return false
  const meta = readSnapshotMeta(dir)
  return existsSync(join(dir, meta.format === 1 ? LEGACY_RECORDS : baseFile(meta.generation ?? 0)))
}

export function readSnapshotMeta (dir: string): SnapshotMeta {
  return JSON.parse(readFileSync(join(dir, META), 'utf8')) as SnapshotMeta
}

/** Calls `each` for every complete JSON line; a torn last line (a crash mid-append) is skipped. */
function readLines (file: string, each: (value: unknown) => void): void {
  if (!existsSync(file)) return
  const text = readFileSync(file, 'utf8')
  let start = 0
  while (start < text.length) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    const line = text.slice(start, end)
    start = end + 1
    if (!line.trim()) continue
    let value: unknown
    try { value = JSON.parse(line) } catch { continue }
    each(value)
  }
}

export function loadSnapshot (org: OrgCore, dir: string): SnapshotMeta {
  const meta = readSnapshotMeta(dir)
  const generation = meta.generation ?? 0
  readLines(join(dir, meta.format === 1 ? LEGACY_RECORDS : baseFile(generation)), (value) => {
    const rec = value as Rec
    if (org.schema.get(rec.type)) org.store.insert(rec)
  })
  if (meta.format === 2) {
    readLines(join(dir, journalFile(generation)), (value) => {
      const removed = (value as Partial<Tombstone>).removed
      const id = removed ?? ((value as Rec).f.Id as string)
      const existing = org.store.get(id)
      if (existing !== undefined) org.store.remove(existing)
      if (removed === undefined && org.schema.get((value as Rec).type)) org.store.insert(value as Rec)
    })
  }
  org.ids.counter = meta.idCounter
  org.autonumbers = { ...meta.autonumbers }
  org.store.changed.clear()
  return meta
}

interface BaseInfo { generation: number, records: number, journalLines: number }

function writeMeta (org: OrgCore, dir: string, info: SnapshotInfo, base: BaseInfo): void {
  const meta: SnapshotMeta = {
    format: 2,
    orgId: org.orgId,
    seed: info.seed,
    dataset: info.dataset,
    idCounter: org.ids.counter,
    autonumbers: org.autonumbers,
    savedAt: new Date().toISOString(),
    ...base
  }
  const tmp = join(dir, META + '.tmp')
  writeFileSync(tmp, JSON.stringify(meta, null, 2))
  renameSync(tmp, join(dir, META))
}

/** Writes every record as a new base generation and drops the older files. */
export function saveSnapshot (org: OrgCore, dir: string, info: SnapshotInfo): void {
  mkdirSync(dir, { recursive: true })
  const previous = existsSync(join(dir, META)) ? readSnapshotMeta(dir).generation ?? 0 : 0
  const generation = previous + 1
  const lines: string[] = []
  for (const o of org.schema.all()) {
    for (const r of org.store.all(o.name)) lines.push(JSON.stringify(r))
  }
  writeFileSync(join(dir, baseFile(generation)), lines.join('\n') + '\n')
  writeMeta(org, dir, info, { generation, records: lines.length, journalLines: 0 })
  org.store.changed.clear()
  for (const name of readdirSync(dir)) {
    const older = /^(records|journal)-\d+\.jsonl$/.test(name) && !name.endsWith(`-${generation}.jsonl`)
    if (name === LEGACY_RECORDS || older) {
      rmSync(join(dir, name), { force: true })
    }
  }
}

/**
 * Appends the records changed since the last save to the journal (their whole current state,
 * or a tombstone), or compacts when the journal has grown large. Costs what changed.
 */
export function saveChanges (org: OrgCore, dir: string, info: SnapshotInfo): void {
  const changed = org.store.changed
  if (changed.size === 0) return
  const meta = existsSync(join(dir, META)) ? readSnapshotMeta(dir) : undefined
  if (meta?.format !== 2) {
    saveSnapshot(org, dir, info)
    return
  }
  const journalLines = (meta.journalLines ?? 0) + changed.size
  if (journalLines >= Math.max(MIN_COMPACT_LINES, meta.records / 2)) {
    saveSnapshot(org, dir, info)
    return
  }
  const lines: string[] = []
  for (const id of changed) {
    const rec = org.store.get(id)
    lines.push(JSON.stringify(rec ?? { removed: id }))
  }
  const generation = meta.generation ?? 0
  // Meta first: its id counter may run ahead of the journal, never behind it.
  writeMeta(org, dir, info, { generation, records: meta.records, journalLines })
  appendFileSync(join(dir, journalFile(generation)), lines.join('\n') + '\n')
  changed.clear()
}
