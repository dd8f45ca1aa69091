// In-memory record store: records by id and by type, hash indexes on indexed fields, and an undo
// journal so that a composite graph or an allOrNone collection rolls back as one transaction.
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

export class Store {
  readonly byId = new Map<string, Rec>()
  readonly byType = new Map<string, Map<string, Rec>>()
  /** `${type}.${field}` → key → records. */
  private readonly indexes = new Map<string, Map<Value, Set<Rec>>>()
  private readonly indexedFields = new Map<string, string[]>()
  /** `${type}.${field}` of case-sensitive unique fields: their index keeps values as they are. */
  private readonly caseSensitive = new Set<string>()
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
    if (!this.byType.has(o.name)) this.byType.set(o.name, new Map())
    const fields = o.fields.filter(f => f.indexed && f.name !== 'Id').map(f => f.name)
    this.indexedFields.set(o.name, fields)
    for (const f of fields) {
      const k = `${o.name}.${f}`
      if (!this.indexes.has(k)) this.indexes.set(k, new Map())
    }
    for (const f of o.fields) if (f.caseSensitive) this.caseSensitive.add(`${o.name}.${f.name}`)
  }

  private keyOf (type: string, field: string, v: Value | undefined): Value | undefined {
    return this.caseSensitive.has(`${type}.${field}`) && typeof v === 'string' ? v : indexKey(v)
  }

  isIndexed (type: string, field: string): boolean {
    return field === 'Id' || this.indexes.has(`${type}.${field}`)
  }

  /** Records of `type` whose indexed `field` equals `value` (case-insensitive for text). */
  lookup (type: string, field: string, value: Value): Rec[] {
    if (field === 'Id') {
      const r = typeof value === 'string' ? this.byId.get(value) : undefined
      return r && r.type === type ? [r] : []
    }
    const idx = this.indexes.get(`${type}.${field}`)
    if (!idx) throw new Error(`field ${type}.${field} is not indexed`)
    const k = this.keyOf(type, field, value)
    if (k === undefined) return []
    const set = idx.get(k)
    return set ? [...set] : []
  }

  count (type: string, field: string, value: Value): number {
    const idx = this.indexes.get(`${type}.${field}`)
    const k = this.keyOf(type, field, value)
    if (!idx || k === undefined) return 0
    return idx.get(k)?.size ?? 0
  }

  all (type: string): IterableIterator<Rec> {
    const m = this.byType.get(type)
    return (m ?? new Map<string, Rec>()).values()
  }

  size (type: string): number {
    return this.byType.get(type)?.size ?? 0
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
    this.byType.get(rec.type)?.set(id, rec)
    for (const f of this.indexedFields.get(rec.type) ?? []) this.addIndex(rec, f, rec.f[f])
    this.touch(id)
    this.record(() => this.remove(rec))
  }

  /** Removes a record entirely (used by rollback; deletes are soft). */
  remove (rec: Rec): void {
    const id = rec.f.Id as string
    this.byId.delete(id)
    this.byType.get(rec.type)?.delete(id)
    for (const f of this.indexedFields.get(rec.type) ?? []) this.dropIndex(rec, f, rec.f[f])
    this.touch(id)
  }

  set (rec: Rec, changes: Record<string, Value>): void {
    const before: Record<string, Value> = {}
    const indexed = this.indexedFields.get(rec.type) ?? []
    for (const [k, v] of Object.entries(changes)) {
      const old = rec.f[k] === undefined ? null : rec.f[k]
      before[k] = old
      if (indexed.includes(k)) {
        this.dropIndex(rec, k, old)
        this.addIndex(rec, k, v)
      }
      rec.f[k] = v
    }
    this.touch(rec.f.Id as string)
    this.record(() => {
      for (const [k, v] of Object.entries(before)) {
        if (indexed.includes(k)) {
          this.dropIndex(rec, k, rec.f[k])
          this.addIndex(rec, k, v)
        }
        rec.f[k] = v
      }
    })
  }

  private addIndex (rec: Rec, field: string, v: Value | undefined): void {
    const k = this.keyOf(rec.type, field, v)
    if (k === undefined) return
    const idx = this.indexes.get(`${rec.type}.${field}`)
    if (!idx) return
    let set = idx.get(k)
    if (!set) { set = new Set(); idx.set(k, set) }
    set.add(rec)
  }

  private dropIndex (rec: Rec, field: string, v: Value | undefined): void {
    const k = this.keyOf(rec.type, field, v)
    if (k === undefined) return
    const idx = this.indexes.get(`${rec.type}.${field}`)
    const set = idx?.get(k)
    if (!set) return
    set.delete(rec)
    if (set.size === 0) idx?.delete(k)
  }
}
