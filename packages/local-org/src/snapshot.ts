// Optional persistence: the org's records in a directory (meta.json + records.jsonl), written
// atomically after changes and on close, read back on start instead of seeding.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs'
import { join } from 'node:path'
import type { OrgCore } from './org.ts'
import type { Rec } from './store.ts'

export interface SnapshotMeta {
  format: 1
  orgId: string
  seed: number
  dataset: string
  idCounter: number
  autonumbers: Record<string, number>
  savedAt: string
  records: number
}

const META = 'meta.json'
const RECORDS = 'records.jsonl'

export function snapshotExists (dir: string): boolean {
  return existsSync(join(dir, META)) && existsSync(join(dir, RECORDS))
}

export function readSnapshotMeta (dir: string): SnapshotMeta {
  return JSON.parse(readFileSync(join(dir, META), 'utf8')) as SnapshotMeta
}

export function loadSnapshot (org: OrgCore, dir: string): SnapshotMeta {
  const meta = readSnapshotMeta(dir)
  const text = readFileSync(join(dir, RECORDS), 'utf8')
  let start = 0
  while (start < text.length) {
    let end = text.indexOf('\n', start)
    if (end < 0) end = text.length
    const line = text.slice(start, end)
    start = end + 1
    if (!line.trim()) continue
    const rec = JSON.parse(line) as Rec
    if (org.schema.get(rec.type)) org.store.insert(rec)
  }
  org.ids.counter = meta.idCounter
  org.autonumbers = { ...meta.autonumbers }
  return meta
}

export function saveSnapshot (org: OrgCore, dir: string, info: { seed: number; dataset: string }): void {
  mkdirSync(dir, { recursive: true })
  const lines: string[] = []
  for (const o of org.schema.all()) {
    for (const r of org.store.all(o.name)) lines.push(JSON.stringify(r))
  }
  const meta: SnapshotMeta = {
    format: 1, orgId: org.orgId, seed: info.seed, dataset: info.dataset, idCounter: org.ids.counter,
    autonumbers: org.autonumbers, savedAt: new Date().toISOString(), records: lines.length
  }
  const recTmp = join(dir, RECORDS + '.tmp')
  const metaTmp = join(dir, META + '.tmp')
  writeFileSync(recTmp, lines.join('\n') + '\n')
  writeFileSync(metaTmp, JSON.stringify(meta, null, 2))
  renameSync(recTmp, join(dir, RECORDS))
  renameSync(metaTmp, join(dir, META))
}
