// In-memory record store: records by id and by type, hash indexes on indexed fields, and an undo
// journal so that a composite graph or an allOrNone collection rolls back as one transaction.
import { fmtDateTime, isOwnDateTime, parseDateTime } from './dates.ts'
import type { ObjectDef, Schema } from './schema.ts'

export type Value = string | number | boolean | null
export interface Rec {
  type: string
  f: Record<string, Value>
}

export function indexKey (v: Value | undefined): Value | undefined {
  if (v === null || v === undefined) return undefined
  return typeof v === 'string' ? v.toLowerCase() : v
}

/**
 * One hash index: key → the record, or the records when several share the key (a set per key
 * would cost a million sets for a million nearly unique names). Case-sensitive unique fields keep
 * their values as they are. An index is built when it is first read (`keys` undefined until then):
 * seeding a million-account org would otherwise keep a dozen indexes nothing reads (CreatedById,
 * LastModifiedById, line item names …), a third of its time.
 */
interface Index { type: string; field: string; caseSensitive: boolean; keys?: Map<Value, Rec | Set<Rec>> }

const NO_RECORDS: ReadonlySet<Rec> = new Set()

/**
 * A type's records by the hour of their SystemModstamp, for `SystemModstamp >= t` (each poll of
 * Heroku Connect). "Best Practices for Deployments with Large Data Volumes", Indexes: "The platform
 * maintains indexes on the following fields for most objects. … Systemmodstamp (LastModifiedDate)".
 * Built when first read; a record stamped again joins its new hour and is skipped in its old one,
 * until `restamped` says it is time to build afresh.
 */
interface StampHours { hours: Map<string, Rec[]>, records: number, restamped: number }

/** `YYYY-MM-DDTHH` of a datetime, as the org writes them (fmtDateTime); undefined for no datetime. */
function hourOf (stamp: Value | undefined): string | undefined {
  if (typeof stamp !== 'string') return undefined
  if (isOwnDateTime(stamp)) return stamp.slice(0, 13)
  const ms = parseDateTime(stamp)
  return Number.isNaN(ms) ? undefined : fmtDateTime(ms).slice(0, 13)
}

export class Store {
  readonly byId = new Map<string, Rec>()
  /**
   * Records of each type in insertion order. An array, not a map by id (byId is that): a million
   * inserts into a second map took a tenth of seeding a million-account org.
   */
  private readonly byType = new Map<string, Rec[]>()
  /** type → indexed field → its index. */
  private readonly indexes = new Map<string, Map<string, Index>>()
  private readonly stampHours = new Map<string, StampHours>()
  private readonly journal: Array<() => void> = []
  private readonly savepoints: number[] = []
  /** Ids of records inserted, changed or removed since snapshot persistence last saved them. */
  readonly changed = new Set<string>()
  /** Set by snapshot persistence: without it nobody empties `changed`. */
  trackChanges = false

  readonly schema: Schema

  constructor (schema: Schema) {
    this.schema = schema
    for (const o of schema.all()) this.registerType(o)
  }

  registerType (o: ObjectDef): void {
    if (!this.byType.has(o.name)) this.byType.set(o.name, [])
    const indexes = this.indexes.get(o.name) ?? new Map<string, Index>()
    this.indexes.set(o.name, indexes)
    for (const f of o.fields) {
      if (!f.indexed || f.name === 'Id') continue
      const idx = indexes.get(f.name)
      if (idx) {
        idx.caseSensitive = f.caseSensitive
        idx.keys = undefined
      } else {
        indexes.set(f.name, { type: o.name, field: f.name, caseSensitive: f.caseSensitive })
      }
    }
  }

  private keyOf (idx: Index, v: Value | undefined): Value | undefined {
    return idx.caseSensitive && typeof v === 'string' ? v : indexKey(v)
  }

  isIndexed (type: string, field: string): boolean {
    return field === 'Id' || this.indexes.get(type)?.has(field) === true
  }

  /** Records of `type` whose indexed `field` equals `value` (case-insensitive for text). */
  lookup (type: string, field: string, value: Value): Rec[] {
    return [...this.matching(type, field, value)]
  }

  /**
   * As lookup, without copying: an index's own set, in insertion order, to read at once (a write
   * to the store may change it).
   */
  matching (type: string, field: string, value: Value): Iterable<Rec> {
    if (field === 'Id') {
      const r = typeof value === 'string' ? this.byId.get(value) : undefined
      return r && r.type === type ? [r] : NO_RECORDS
    }
    const idx = this.indexes.get(type)?.get(field)
    if (!idx) throw new Error(`field ${type}.${field} is not indexed`)
    const k = this.keyOf(idx, value)
    const hit = k === undefined ? undefined : this.keysOf(idx).get(k)
    return hit === undefined ? NO_RECORDS : hit instanceof Set ? hit : [hit]
  }

  count (type: string, field: string, value: Value): number {
    const idx = this.indexes.get(type)?.get(field)
    const k = idx && this.keyOf(idx, value)
    if (!idx || k === undefined) return 0
    const hit = this.keysOf(idx).get(k)
    return hit === undefined ? 0 : hit instanceof Set ? hit.size : 1
  }

  /**
   * Records of `type` that may have SystemModstamp ≥ `from` (ms): every one that does, and others
   * stamped in the same hour. The caller applies its filter as it would on a scan.
   */
  stampedSince (type: string, from: number): Rec[] {
    let order = this.stampHours.get(type)
    if (order === undefined || order.restamped > Math.max(10_000, order.records / 4)) {
      order = this.byStampHour(type)
      this.stampHours.set(type, order)
    }
    const fromHour = hourOf(fmtDateTime(from)) ?? ''
    const found = new Set<Rec>()
    for (const [hour, recs] of order.hours) {
      if (hour < fromHour) continue
      for (const rec of recs) {
        if (this.byId.get(rec.f.Id as string) === rec && hourOf(rec.f.SystemModstamp) === hour) found.add(rec)
      }
    }
    return [...found]
  }

  private byStampHour (type: string): StampHours {
    const order: StampHours = { hours: new Map(), records: 0, restamped: 0 }
    for (const rec of this.all(type)) this.addStampHour(order, rec)
    return order
  }

  private addStampHour (order: StampHours, rec: Rec): void {
    const hour = hourOf(rec.f.SystemModstamp)
    if (hour === undefined) return
    const recs = order.hours.get(hour)
    if (recs === undefined) order.hours.set(hour, [rec])
    else recs.push(rec)
    order.records++
  }

  /** A record inserted or stamped again joins the hour of its new stamp, once the hours are built. */
  private restamp (rec: Rec): void {
    const order = this.stampHours.get(rec.type)
    if (order === undefined) return
    this.addStampHour(order, rec)
    order.restamped++
  }

  all (type: string): IterableIterator<Rec> {
    return (this.byType.get(type) ?? []).values()
  }

  size (type: string): number {
    return this.byType.get(type)?.length ?? 0
  }

  get (id: string): Rec | undefined {
    return this.byId.get(id)
  }

  // -- transactions ---------------------------------------------------------------------------
  begin (): void {
    this.savepoints.push(this.journal.length)
  }

  commit (): void {
    this.savepoints.pop()
    if (this.savepoints.length === 0) this.journal.length = 0
  }

  rollback (): void {
    const sp = this.savepoints.pop() ?? 0
    while (this.journal.length > sp) {
      const undo = this.journal.pop()
      undo?.()
    }
  }

  private touch (id: string): void {
    if (this.trackChanges) this.changed.add(id)
  }

  private record (undo: () => void): void {
    if (this.savepoints.length > 0) this.journal.push(undo)
  }

  // -- mutations ------------------------------------------------------------------------------
  insert (rec: Rec): void {
    const id = rec.f.Id as string
    this.byId.set(id, rec)
    this.byType.get(rec.type)?.push(rec)
    this.restamp(rec)
    for (const idx of this.indexesOf(rec.type)) this.addIndex(idx, rec, rec.f[idx.field])
    this.touch(id)
    this.record(() => this.remove(rec))
  }

  /** Removes a record entirely (used by rollback; deletes are soft). */
  remove (rec: Rec): void {
    const id = rec.f.Id as string
    this.byId.delete(id)
    const ofType = this.byType.get(rec.type)
    // A rollback removes the records it inserted last: found from the end.
    const at = ofType?.lastIndexOf(rec) ?? -1
    if (at >= 0) ofType?.splice(at, 1)
    for (const idx of this.indexesOf(rec.type)) this.dropIndex(idx, rec, rec.f[idx.field])
    this.touch(id)
  }

  set (rec: Rec, changes: Record<string, Value>): void {
    const before: Record<string, Value> = {}
    const indexes = this.indexes.get(rec.type)
    for (const [k, v] of Object.entries(changes)) {
      const old = rec.f[k] === undefined ? null : rec.f[k]
      before[k] = old
      const idx = indexes?.get(k)
      if (idx) {
        this.dropIndex(idx, rec, old)
        this.addIndex(idx, rec, v)
      }
      rec.f[k] = v
    }
    if ('SystemModstamp' in changes) this.restamp(rec)
    this.touch(rec.f.Id as string)
    this.record(() => {
      for (const [k, v] of Object.entries(before)) {
        const idx = indexes?.get(k)
        if (idx) {
          this.dropIndex(idx, rec, rec.f[k])
          this.addIndex(idx, rec, v)
        }
        rec.f[k] = v
      }
    })
  }

  /** The indexes of `type` built so far: the others are built from the records when first read. */
  private * indexesOf (type: string): Iterable<Index> {
    for (const idx of this.indexes.get(type)?.values() ?? []) if (idx.keys !== undefined) yield idx
  }

  private keysOf (idx: Index): Map<Value, Rec | Set<Rec>> {
    if (idx.keys === undefined) {
      idx.keys = new Map()
      for (const rec of this.all(idx.type)) this.addIndex(idx, rec, rec.f[idx.field])
    }
    return idx.keys
  }

  private addIndex (idx: Index, rec: Rec, v: Value | undefined): void {
    const k = this.keyOf(idx, v)
    if (k === undefined || idx.keys === undefined) return
    const hit = idx.keys.get(k)
    if (hit === undefined) idx.keys.set(k, rec)
    else if (hit instanceof Set) hit.add(rec)
    else if (hit !== rec) idx.keys.set(k, new Set([hit, rec]))
  }

  private dropIndex (idx: Index, rec: Rec, v: Value | undefined): void {
    const k = this.keyOf(idx, v)
    if (k === undefined || idx.keys === undefined) return
    const hit = idx.keys.get(k)
    if (hit === rec) {
      idx.keys.delete(k)
    } else if (hit instanceof Set) {
      hit.delete(rec)
      if (hit.size === 1) idx.keys.set(k, hit.values().next().value as Rec)
    }
  }
}
