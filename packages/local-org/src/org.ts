// The org itself, without HTTP: schema, records, users, SOQL and DML with Salesforce's validation
// and sharing rules. The HTTP layer (server.ts) maps REST resources onto these methods.
import { randomUUID } from 'node:crypto'
import { canCreate, recordAccess } from './access.ts'
import type { UserInfo } from './access.ts'
import { fmtDate, fmtDateTime, isDateString, parseDateTime } from './dates.ts'
import { SfError, notFound } from './errors.ts'
import { IdGenerator, normalizeId } from './ids.ts'
import { AUTONUMBER, STAGE_PROBABILITY, buildSchema } from './schema.ts'
import type { FieldDef, ObjectDef, ObjectSpec, Schema } from './schema.ts'
import { SoqlEngine } from './soql.ts'
import type { ExecCtx, QueryResult } from './soql.ts'
import { Store } from './store.ts'
import type { Rec, Value } from './store.ts'

/** A platform event message the org accepted: its publish result id and every field it carries. */
export interface PublishedEvent {
  type: string
  /** The id the publish answered with (not part of the delivered message). */
  id: string
  /** Custom fields and the system fields ReplayId, EventUuid, CreatedDate, CreatedById. */
  fields: Record<string, Value>
}

/** Published events kept readable for tests (Salesforce keeps high-volume events 72 hours). */
const EVENTS_KEPT = 10_000

export interface WriteOptions {
  /** Test and seed access: allows Id and system fields, skips permission checks. */
  system?: boolean
}

const TEXT_TYPES = new Set(['string', 'textarea', 'picklist', 'multipicklist', 'email', 'phone', 'url'])
const NUMBER_TYPES = new Set(['double', 'currency', 'percent', 'int'])
const SYSTEM_WRITABLE = new Set(['Id', 'CreatedDate', 'CreatedById', 'LastModifiedDate', 'LastModifiedById', 'SystemModstamp', 'IsDeleted'])

export class OrgCore {
  readonly schema: Schema
  readonly store: Store
  readonly ids: IdGenerator
  readonly soql: SoqlEngine
  readonly orgId: string
  readonly apiVersion: string
  readonly users: UserInfo[] = []
  readonly usersById = new Map<string, UserInfo>()
  readonly usersByName = new Map<string, UserInfo>()
  autonumbers: Record<string, number> = {}
  /** Platform events published, oldest first (not records: never queried, never in a snapshot). */
  readonly events: PublishedEvent[] = []
  private replayId = 0
  private clock = 0
  private readonly blanks = new WeakMap<ObjectDef, Record<string, Value>>()

  constructor (opts: {
    extraObjects?: ObjectSpec[]; orgId: string; apiVersion: string; idStart?: number; idPod?: string
  }) {
    this.schema = buildSchema(opts.extraObjects)
    this.store = new Store(this.schema)
    this.ids = new IdGenerator(opts.idStart ?? 1, opts.idPod)
    this.soql = new SoqlEngine(this.schema)
    this.orgId = opts.orgId
    this.apiVersion = opts.apiVersion
  }

  addUser (u: UserInfo): void {
    this.users.push(u)
    this.usersById.set(u.id, u)
    this.usersByName.set(u.username.toLowerCase(), u)
  }

  /** Monotonic clock (ms) for write timestamps. */
  tick (): number {
    this.clock = Math.max(Date.now(), this.clock + 1)
    return this.clock
  }

  nextAutonumber (type: string): number {
    const n = (this.autonumbers[type] ?? 0) + 1
    this.autonumbers[type] = n
    return n
  }

  objectOr404 (type: string): ObjectDef {
    const def = this.schema.get(type)
    if (!def) throw notFound()
    return def
  }

  // ---- reads --------------------------------------------------------------------------------
  query (user: UserInfo, soql: string, includeDeleted: boolean): QueryResult {
    const c = this.soql.compile(soql)
    return this.soql.execute(c, this.execCtx(user, includeDeleted))
  }

  execCtx (user: UserInfo, includeDeleted = false): ExecCtx {
    return {
      store: this.store,
      user,
      usersById: this.usersById,
      includeDeleted,
      now: Date.now()
    }
  }

  /** The JSON form of a record, as GET /sobjects/Type/Id returns it. */
  toJson (rec: Rec, apiVersion: string, fields?: FieldDef[]): Record<string, unknown> {
    const def = this.schema.get(rec.type) as ObjectDef
    const out: Record<string, unknown> = { attributes: { type: def.name, url: `/services/data/v${apiVersion}/sobjects/${def.name}/${rec.f.Id as string}` } }
    for (const f of fields ?? def.fields) {
      const v = rec.f[f.name]
      out[f.name] = v === undefined ? null : v
    }
    return out
  }

  retrieve (user: UserInfo, type: string, id: string, fieldList?: string): Rec {
    const def = this.objectOr404(type)
    const nid = normalizeId(id)
    const rec = nid ? this.store.get(nid) : undefined
    if (!nid) throw new SfError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${id}`)
    if (!rec || rec.type !== def.name || rec.f.IsDeleted === true) throw notFound()
    if (!recordAccess(user, rec, this.store).read) throw notFound()
    void fieldList
    return rec
  }

  fieldsParam (def: ObjectDef, param: string): FieldDef[] {
    return param.split(',').map(s => s.trim()).filter(Boolean).map(name => {
      const f = def.fieldMap.get(name.toLowerCase())
      if (!f) throw new SfError(400, 'INVALID_FIELD', `No such column '${name}' on entity '${def.name}'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names.`)
      return f
    })
  }

  // ---- writes -------------------------------------------------------------------------------
  /**
   * Publishes a platform event message, validated like an insert of the event's sObject (unknown
   * field → INVALID_FIELD, required and typed fields as on any insert) and kept for tests.
   */
  publish (user: UserInfo, type: string, body: Record<string, unknown>): PublishedEvent {
    const def = this.objectOr404(type)
    if (!def.event) throw new Error(`local org: ${def.name} is not a platform event`)
    if (!canCreate(user, def)) {
      throw new SfError(400, 'INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id', [])
    }
    const values = this.coerce(user, def, body, 'create', {})
    requireFields(requiredMissing(def, values))
    this.checkRules(def, values)
    const fields: Record<string, Value> = {}
    for (const fd of def.fields) fields[fd.name] = null
    Object.assign(fields, values, {
      ReplayId: String(++this.replayId),
      EventUuid: randomUUID(),
      CreatedDate: fmtDateTime(this.tick()),
      CreatedById: user.id
    })
    const event: PublishedEvent = { type: def.name, id: this.ids.next(def.keyPrefix), fields }
    this.events.push(event)
    if (this.events.length > EVENTS_KEPT) this.events.splice(0, this.events.length - EVENTS_KEPT)
    return event
  }

  /** The platform events published so far, oldest first; only those of `type` (any case) when given. */
  eventsOf (type?: string): PublishedEvent[] {
    const wanted = type?.toLowerCase()
    return wanted === undefined ? this.events : this.events.filter(e => e.type.toLowerCase() === wanted)
  }

  create (user: UserInfo, type: string, body: Record<string, unknown>, opts: WriteOptions = {}): Rec {
    const def = this.objectOr404(type)
    if (def.event) {
      throw new SfError(400, 'INVALID_TYPE', `local org: publish ${def.name} with POST /sobjects/${def.name}`)
    }
    if (!opts.system && !canCreate(user, def)) {
      throw new SfError(400, 'INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id', [])
    }
    const values = this.coerce(user, def, body, 'create', opts)
    const missing = requiredMissing(def, values)
    this.derive(def, values, undefined)
    requireFields(missing.filter(n => values[n] === undefined || values[n] === null))
    this.checkRules(def, values)
    this.checkUnique(def, values, undefined)
    const now = this.tick()
    const ts = fmtDateTime(now)
    const f: Record<string, Value> = { ...this.blank(def) }
    Object.assign(f, {
      Id: this.ids.next(def.keyPrefix),
      IsDeleted: false,
      CreatedDate: ts,
      CreatedById: user.id,
      LastModifiedDate: ts,
      LastModifiedById: user.id,
      SystemModstamp: ts
    })
    if (def.fieldMap.has('ownerid')) f.OwnerId = user.id
    const auto = AUTONUMBER[def.name]
    if (auto) f[auto.field] = auto.format(this.nextAutonumber(def.name))
    Object.assign(f, values)
    if (opts.system && typeof values.Id === 'string') {
      const nid = normalizeId(values.Id)
      if (!nid) throw new SfError(400, 'MALFORMED_ID', `Record ID: id value of incorrect type: ${values.Id}`, ['Id'])
      if (this.store.get(nid)) throw new SfError(400, 'DUPLICATE_VALUE', `duplicate value found: Id duplicates value on record with id: ${nid}`, [])
      f.Id = nid
    }
    const rec: Rec = { type: def.name, f }
    this.store.insert(rec)
    this.afterWrite(rec, undefined)
    return rec
  }

  update (user: UserInfo, type: string, id: string, body: Record<string, unknown>, opts: WriteOptions = {}): Rec {
    const def = this.objectOr404(type)
    // Salesforce reads the body against the object's fields before it looks at the id.
    for (const key of Object.keys(body ?? {})) {
      if (key !== 'attributes' && !def.fieldMap.has(key.toLowerCase()) && !def.parentRels.has(key.toLowerCase())) {
        throw new SfError(400, 'INVALID_FIELD', `No such column '${key}' on sobject of type ${def.name}`)
      }
    }
    const rec = this.writable(user, def, id, opts)
    const values = this.coerce(user, def, body, 'update', opts, rec)
    delete values.Id
    const nulled = Object.keys(values)
      .filter(k => values[k] === null && !(def.fieldMap.get(k.toLowerCase())?.nillable ?? true))
    requireFields(nulled)
    this.derive(def, values, rec)
    this.checkRules(def, values)
    this.checkUnique(def, values, rec)
    const before = { ...rec.f }
    const ts = fmtDateTime(this.tick())
    const changes: Record<string, Value> = { ...values }
    if (!opts.system || values.LastModifiedDate === undefined) changes.LastModifiedDate = ts
    if (!opts.system || values.SystemModstamp === undefined) changes.SystemModstamp = ts
    if (!opts.system || values.LastModifiedById === undefined) changes.LastModifiedById = user.id
    this.store.set(rec, changes)
    this.afterWrite(rec, before)
    return rec
  }

  delete (user: UserInfo, type: string, id: string, opts: WriteOptions = {}): Rec {
    const def = this.objectOr404(type)
    const rec = this.writable(user, def, id, opts)
    this.softDelete(rec, user)
    return rec
  }

  /** PATCH /sobjects/Type/ExtField/value. */
  upsert (
    user: UserInfo,
    type: string,
    extField: string,
    extValue: string,
    body: Record<string, unknown>
  ): { rec: Rec; created: boolean } {
    const def = this.objectOr404(type)
    const f = def.fieldMap.get(extField.toLowerCase())
    if (!f || !(f.externalId || f.name === 'Id')) {
      throw new SfError(404, 'NOT_FOUND', `Provided external ID field does not exist or is not accessible: ${extField}`)
    }
    if (f.name === 'Id') {
      const nid = normalizeId(extValue)
      const existing = nid ? this.store.get(nid) : undefined
      if (existing && existing.type === def.name && existing.f.IsDeleted !== true) {
        return { rec: this.update(user, def.name, existing.f.Id as string, body), created: false }
      }
      return { rec: this.create(user, def.name, body), created: true }
    }
    const matches = this.store.lookup(def.name, f.name, extValue).filter(r => r.f.IsDeleted !== true)
    if (matches.length > 1) {
      throw new SfError(300, 'MULTIPLE_CHOICES', matches.map(r => `/services/data/v${this.apiVersion}/sobjects/${def.name}/${r.f.Id as string}`).join(','))
    }
    const bodyValue = Object.entries(body).find(([k]) => k.toLowerCase() === f.name.toLowerCase())
    if (bodyValue && String(bodyValue[1]) !== extValue) {
      throw new SfError(400, 'INVALID_FIELD', `The value of the field '${f.name}' in the request body doesn't match the value in the URL.`)
    }
    const match = matches[0]
    if (match) {
      const rest = Object.fromEntries(Object.entries(body).filter(([k]) => k.toLowerCase() !== f.name.toLowerCase()))
      return { rec: this.update(user, def.name, match.f.Id as string, rest), created: false }
    }
    return { rec: this.create(user, def.name, { ...body, [f.name]: extValue }), created: true }
  }

  /** A new record's fields before its values: every field null, checkboxes false, in the object's order. */
  blank (def: ObjectDef): Readonly<Record<string, Value>> {
    let f = this.blanks.get(def)
    if (f === undefined) {
      f = {}
      for (const fd of def.fields) f[fd.name] = fd.type === 'boolean' ? false : null
      this.blanks.set(def, f)
    }
    return f
  }

  private writable (user: UserInfo, def: ObjectDef, id: string, opts: WriteOptions): Rec {
    const nid = normalizeId(id)
    if (!nid) throw new SfError(400, 'MALFORMED_ID', `Record ID: id value of incorrect type: ${id}`, ['Id'])
    const rec = this.store.get(nid)
    if (!rec || rec.type !== def.name) throw notFound()
    if (rec.f.IsDeleted === true) throw new SfError(404, 'ENTITY_IS_DELETED', 'entity is deleted', [])
    if (!opts.system) {
      if (!def.updateable) throw new SfError(400, 'INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id', [])
      if (!recordAccess(user, rec, this.store).edit) {
        throw new SfError(400, 'INSUFFICIENT_ACCESS_OR_READONLY', 'insufficient access rights on object id', [])
      }
    }
    return rec
  }

  private softDelete (rec: Rec, user: UserInfo): void {
    const def = this.schema.get(rec.type) as ObjectDef
    const ts = fmtDateTime(this.tick())
    const before = { ...rec.f }
    this.store.set(rec, { IsDeleted: true, SystemModstamp: ts, LastModifiedDate: ts, LastModifiedById: user.id })
    for (const rel of def.childRelationships) {
      if (!rel.cascadeDelete) continue
      for (const child of this.store.lookup(rel.childSObject, rel.field, rec.f.Id as string)) {
        if (child.f.IsDeleted !== true) this.softDelete(child, user)
      }
    }
    this.afterWrite(rec, before)
  }

  /** Validates and converts a request body into canonical field names and stored values. */
  coerce (user: UserInfo, def: ObjectDef, body: Record<string, unknown>, mode: 'create' | 'update', opts: WriteOptions, rec?: Rec): Record<string, Value> {
    const out: Record<string, Value> = {}
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new SfError(400, 'JSON_PARSER_ERROR', 'The request body must be a JSON object')
    }
    const readOnly: string[] = []
    for (const [key, raw] of Object.entries(body)) {
      if (key === 'attributes') continue
      const f = def.fieldMap.get(key.toLowerCase())
      if (!f) {
        const rel = def.parentRels.get(key.toLowerCase())
        if (rel && raw !== null && typeof raw === 'object') {
          out[rel.name] = this.resolveForeignKey(rel, raw as Record<string, unknown>)
          continue
        }
        throw new SfError(400, 'INVALID_FIELD', `No such column '${key}' on sobject of type ${def.name}`)
      }
      const systemOk = opts.system === true && (SYSTEM_WRITABLE.has(f.name) || f.calculated || f.autoNumber)
      if (f.name === 'Id' && mode === 'update' && rec && normalizeId(raw) === rec.f.Id) continue
      if (!systemOk && (mode === 'create' ? !f.createable : !f.updateable) && !(f.name === 'OwnerId')) {
        readOnly.push(f.name)
        continue
      }
      out[f.name] = this.coerceValue(user, f, raw, opts)
    }
    if (readOnly.length > 0) {
      throw new SfError(400, 'INVALID_FIELD_FOR_INSERT_UPDATE', `Unable to create/update fields: ${readOnly.join(', ')}. Please check the security settings of this field and verify that it is read/write for your profile or permission set.`, readOnly)
    }
    return out
  }

  private resolveForeignKey (rel: FieldDef, spec: Record<string, unknown>): Value {
    const target = this.schema.get(rel.referenceTo[0] ?? '') as ObjectDef
    const entries = Object.entries(spec).filter(([k]) => k !== 'attributes')
    const [key, value] = entries[0] ?? ['', null]
    const f = target.fieldMap.get(key.toLowerCase())
    if (!f || !(f.externalId || f.name === 'Id')) {
      throw new SfError(400, 'INVALID_FIELD', `Field name provided, ${key} is not an External ID or indexed field for ${target.name}`)
    }
    const found = this.store.lookup(target.name, f.name, f.name === 'Id' ? (normalizeId(value) ?? '') : String(value)).filter(r => r.f.IsDeleted !== true)
    if (found.length === 0) throw new SfError(400, 'INVALID_FIELD', `Foreign key external ID: ${String(value)} not found for field ${f.name} in entity ${target.name}`)
    if (found.length > 1) throw new SfError(400, 'INVALID_FIELD', `More than 1 record found for External ID field: ${f.name} in entity ${target.name}`)
    return (found[0] as Rec).f.Id as string
  }

  private coerceValue (user: UserInfo, f: FieldDef, raw: unknown, opts: WriteOptions): Value {
    if (raw === undefined || raw === null) return null
    if (raw === '' && !TEXT_TYPES.has(f.type)) return null
    const bad = (kind: string): SfError => new SfError(400, 'JSON_PARSER_ERROR', `Cannot deserialize instance of ${kind} from ${typeof raw === 'string' ? 'VALUE_STRING' : 'JSON'} value ${typeof raw === 'object' ? JSON.stringify(raw) : String(raw)} or request may be missing a required field`)
    switch (f.type) {
      case 'id':
      case 'reference': {
        const id = normalizeId(raw)
        if (!id) throw new SfError(400, 'MALFORMED_ID', `${f.label} ID: id value of incorrect type: ${String(raw)}`, [f.name])
        if (f.type === 'id') return id
        const target = this.store.get(id)
        const wanted = f.referenceTo
        if (target && !wanted.includes(target.type)) {
          throw new SfError(400, 'FIELD_INTEGRITY_EXCEPTION', `${f.label} ID: id value of incorrect type: ${id}`, [f.name])
        }
        if (!target || target.f.IsDeleted === true) {
          if (opts.system) return id
          throw new SfError(400, 'INVALID_CROSS_REFERENCE_KEY', 'invalid cross reference id', [f.name])
        }
        if (!opts.system && !recordAccess(user, target, this.store).read) {
          throw new SfError(400, 'INSUFFICIENT_ACCESS_ON_CROSS_REFERENCE_ENTITY', `insufficient access rights on cross-reference id: ${id}`, [f.name])
        }
        if (f.name === 'OwnerId' && target.f.IsActive === false) {
          throw new SfError(400, 'INACTIVE_OWNER_OR_USER', 'operation performed with inactive user', [f.name])
        }
        return id
      }
      case 'boolean':
        if (typeof raw === 'boolean') return raw
        if (raw === 'true' || raw === 'false') return raw === 'true'
        throw bad('boolean')
      case 'double': case 'currency': case 'percent': case 'int': {
        const n = typeof raw === 'number' ? raw : typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : NaN
        if (!Number.isFinite(n)) throw bad(f.type === 'int' ? 'int' : 'double')
        const intDigits = Math.max(0, f.precision - f.scale)
        if (Math.abs(Math.trunc(n)) >= 10 ** intDigits) {
          throw new SfError(400, 'NUMBER_OUTSIDE_VALID_RANGE', `${f.label}: value outside of valid range on numeric field: ${n}`, [f.name])
        }
        const scaled = f.type === 'int' ? Math.round(n) : Math.round(n * 10 ** f.scale) / 10 ** f.scale
        return scaled
      }
      case 'date': {
        if (typeof raw !== 'string') throw bad('date')
        const ms = parseDateTime(raw)
        if (Number.isNaN(ms)) throw bad('date')
        return isDateString(raw) ? raw : fmtDate(ms)
      }
      case 'datetime': {
        if (typeof raw !== 'string') throw bad('datetime')
        const ms = parseDateTime(raw)
        if (Number.isNaN(ms)) throw bad('datetime')
        return fmtDateTime(ms)
      }
      case 'picklist': {
        const s = String(raw)
        if (f.restrictedPicklist) {
          const match = f.picklistValues.find(v => v === s) ??
            f.picklistValues.find(v => v.toLowerCase() === s.toLowerCase())
          if (match === undefined) {
            throw new SfError(400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${f.label}: bad value for restricted picklist field: ${s}`, [f.name])
          }
          return match
        }
        return this.checkLength(f, s)
      }
      case 'multipicklist': {
        const parts = String(raw).split(';').map(s => s.trim()).filter(Boolean)
        const canon = parts.map(p => {
          const m = f.picklistValues.find(v => v.toLowerCase() === p.toLowerCase())
          if (m === undefined && f.restrictedPicklist) {
            throw new SfError(400, 'INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST', `${f.label}: bad value for restricted picklist field: ${p}`, [f.name])
          }
          return m ?? p
        })
        return canon.length ? canon.join(';') : null
      }
      default: {
        if (typeof raw === 'object') throw bad('String')
        return this.checkLength(f, String(raw))
      }
    }
  }

  private checkLength (f: FieldDef, s: string): string {
    if (s.length > f.length) {
      throw new SfError(400, 'STRING_TOO_LONG', `${f.label}: data value too large: ${s.length > 120 ? s.slice(0, 117) + '...' : s} (max length=${f.length})`, [f.name])
    }
    return s
  }

  private checkRules (def: ObjectDef, values: Record<string, Value>): void {
    for (const f of def.fields) {
      const v = values[f.name]
      if (typeof v !== 'number') continue
      if ((f.min !== undefined && v < f.min) || (f.max !== undefined && v > f.max)) {
        throw new SfError(400, 'FIELD_CUSTOM_VALIDATION_EXCEPTION', `${f.label} must be between ${f.min ?? '-∞'} and ${f.max ?? '∞'}`, [f.name])
      }
    }
  }

  private checkUnique (def: ObjectDef, values: Record<string, Value>, rec: Rec | undefined): void {
    for (const f of def.fields) {
      if (!f.unique) continue
      const v = values[f.name]
      if (v === undefined || v === null) continue
      const clash = this.store.lookup(def.name, f.name, v).find(r => r !== rec && r.f.IsDeleted !== true)
      if (clash) {
        throw new SfError(400, 'DUPLICATE_VALUE', `duplicate value found: ${f.name} duplicates value on record with id: ${clash.f.Id as string}`, [])
      }
    }
  }

  /** Derived and defaulted fields (IsClosed, IsWon, Probability, prices, names). */
  private derive (def: ObjectDef, v: Record<string, Value>, rec: Rec | undefined): void {
    const cur = (k: string): Value => (v[k] !== undefined ? v[k] as Value : rec ? (rec.f[k] ?? null) : null)
    switch (def.name) {
      case 'Opportunity': {
        if (v.StageName !== undefined) {
          const stage = String(v.StageName)
          v.IsClosed = stage.startsWith('Closed')
          v.IsWon = stage === 'Closed Won'
          if (v.Probability === undefined) v.Probability = STAGE_PROBABILITY[stage] ?? null
        }
        break
      }
      case 'Case': {
        if (!rec && v.Status === undefined) v.Status = 'New'
        if (!rec && v.Priority === undefined) v.Priority = 'Medium'
        if (v.Status !== undefined) v.IsClosed = v.Status === 'Closed'
        break
      }
      case 'Contact':
      case 'User': {
        if (v.FirstName !== undefined || v.LastName !== undefined) {
          v.Name = [cur('FirstName'), cur('LastName')].filter(x => x !== null && x !== '').join(' ')
        }
        break
      }
      case 'PricebookEntry': {
        if (!rec) {
          const product = this.store.get(String(v.Product2Id ?? ''))
          if (product) { v.Name = product.f.Name ?? null; v.ProductCode = product.f.ProductCode ?? null }
          const dup = this.store.lookup('PricebookEntry', 'Product2Id', String(v.Product2Id ?? ''))
            .find(r => r.f.IsDeleted !== true && r.f.Pricebook2Id === v.Pricebook2Id)
          if (dup) throw new SfError(400, 'DUPLICATE_VALUE', 'This price definition already exists in this price book', [])
        }
        break
      }
      case 'Quote': {
        if (!rec && v.Status === undefined) v.Status = 'Draft'
        if (!rec && (v.Pricebook2Id === undefined || v.Pricebook2Id === null) && typeof v.OpportunityId === 'string') {
          v.Pricebook2Id = this.store.get(v.OpportunityId)?.f.Pricebook2Id ?? null
        }
        break
      }
      case 'OpportunityLineItem':
      case 'QuoteLineItem': {
        const isOli = def.name === 'OpportunityLineItem'
        if (!rec) {
          const pbeId = v.PricebookEntryId
          if (typeof pbeId !== 'string') throw new SfError(400, 'REQUIRED_FIELD_MISSING', 'Required fields are missing: [PricebookEntryId]', ['PricebookEntryId'])
          const pbe = this.store.get(pbeId) as Rec
          if (pbe.f.IsActive !== true) {
            throw new SfError(400, 'FIELD_INTEGRITY_EXCEPTION', 'field integrity exception: PricebookEntryId (pricebook entry is inactive)', ['PricebookEntryId'])
          }
          const parentId = String(isOli ? v.OpportunityId : v.QuoteId)
          const parent = this.store.get(parentId)
          if (parent) {
            const pb = parent.f.Pricebook2Id
            if (pb && pb !== pbe.f.Pricebook2Id) {
              throw new SfError(400, 'FIELD_INTEGRITY_EXCEPTION', `field integrity exception: PricebookEntryId (pricebook entry is in a different pricebook than the one assigned to the ${isOli ? 'opportunity' : 'quote'})`, ['PricebookEntryId'])
            }
          }
          v.Product2Id = pbe.f.Product2Id ?? null
          v.ListPrice = pbe.f.UnitPrice ?? null
          if (isOli) {
            v.ProductCode = pbe.f.ProductCode ?? null
            v.Name = `${String(parent?.f.Name ?? '')} ${String(pbe.f.Name ?? '')}`.trim()
            if (
              v.UnitPrice !== undefined && v.TotalPrice !== undefined &&
              v.UnitPrice !== null && v.TotalPrice !== null
            ) {
              throw new SfError(400, 'FIELD_INTEGRITY_EXCEPTION', 'field integrity exception: TotalPrice (cannot specify both unit price and total price)', ['TotalPrice'])
            }
            if (
              (v.UnitPrice === undefined || v.UnitPrice === null) &&
              (v.TotalPrice === undefined || v.TotalPrice === null)
            ) {
              throw new SfError(400, 'FIELD_INTEGRITY_EXCEPTION', 'field integrity exception: UnitPrice, TotalPrice (must specify either UnitPrice or TotalPrice)', ['UnitPrice', 'TotalPrice'])
            }
          }
        }
        const qty = Number(cur('Quantity') ?? 0)
        const discount = Number(cur('Discount') ?? 0)
        if (isOli && v.TotalPrice !== undefined && v.TotalPrice !== null && v.UnitPrice === undefined) {
          v.UnitPrice = qty ? round2(Number(v.TotalPrice) / qty / (1 - discount / 100 || 1)) : 0
        } else if (cur('UnitPrice') !== null) {
          const sub = round2(qty * Number(cur('UnitPrice')))
          if (!isOli) v.Subtotal = sub
          v.TotalPrice = round2(sub * (1 - discount / 100))
        }
        break
      }
    }
  }

  /** Roll-ups onto parents after a write: Opportunity Amount, Quote totals. */
  private afterWrite (rec: Rec, before: Record<string, Value> | undefined): void {
    if (rec.type === 'OpportunityLineItem') {
      this.rollUpOpportunity(String(rec.f.OpportunityId))
      if (before && before.OpportunityId !== rec.f.OpportunityId) this.rollUpOpportunity(String(before.OpportunityId))
      const opp = this.store.get(String(rec.f.OpportunityId))
      if (opp && !opp.f.Pricebook2Id && rec.f.PricebookEntryId) {
        const pbe = this.store.get(String(rec.f.PricebookEntryId))
        if (pbe) this.store.set(opp, { Pricebook2Id: pbe.f.Pricebook2Id ?? null })
      }
    } else if (rec.type === 'QuoteLineItem') {
      this.rollUpQuote(String(rec.f.QuoteId))
    } else if (rec.type === 'Opportunity' && before && before.Name !== rec.f.Name) {
      // OpportunityLineItem.Name follows the opportunity's name; leave as created (Salesforce recalculates lazily).
    }
  }

  rollUpOpportunity (oppId: string): void {
    const opp = this.store.get(oppId)
    if (!opp) return
    const items = this.store.lookup('OpportunityLineItem', 'OpportunityId', oppId).filter(r => r.f.IsDeleted !== true)
    const changes: Record<string, Value> = { HasOpportunityLineItem: items.length > 0 }
    if (items.length > 0) changes.Amount = round2(items.reduce((s, r) => s + Number(r.f.TotalPrice ?? 0), 0))
    this.store.set(opp, changes)
  }

  rollUpQuote (quoteId: string): void {
    const q = this.store.get(quoteId)
    if (!q) return
    const items = this.store.lookup('QuoteLineItem', 'QuoteId', quoteId).filter(r => r.f.IsDeleted !== true)
    const subtotal = round2(items.reduce((s, r) => s + Number(r.f.Subtotal ?? 0), 0))
    const total = round2(items.reduce((s, r) => s + Number(r.f.TotalPrice ?? 0), 0))
    const discount = Number(q.f.Discount ?? 0)
    this.store.set(q, {
      Subtotal: subtotal,
      TotalPrice: total,
      GrandTotal: round2(total * (1 - discount / 100)),
      LineItemCount: items.length
    })
  }

  userByName (username: string): UserInfo | undefined {
    return this.usersByName.get(username.toLowerCase())
  }
}

/** The fields a new record must be given: required on create, not defaulted, and absent or null in `values`. */
function requiredMissing (def: ObjectDef, values: Record<string, Value>): string[] {
  return def.fields
    .filter(f => !f.nillable && f.createable && !f.defaultedOnCreate &&
      (values[f.name] === undefined || values[f.name] === null))
    .map(f => f.name)
}

/** Salesforce's answer to a write leaving required fields empty. */
function requireFields (missing: string[]): void {
  if (missing.length > 0) {
    throw new SfError(400, 'REQUIRED_FIELD_MISSING', `Required fields are missing: [${missing.join(', ')}]`, missing)
  }
}

function round2 (n: number): number {
  return Math.round(n * 100) / 100
}

export { NUMBER_TYPES }
