// SOQL: parse with @jetstreamapp/soql-parser-js, resolve names against the schema, evaluate against
// the store as a given user (sharing applies), using hash indexes for equality filters.
import { parseQuery } from '@jetstreamapp/soql-parser-js'
import { recordAccess, seesAll, maxAccessLevel } from './access.ts'
import type { UserInfo } from './access.ts'
import { dateLiteralRange, fmtDate, parseDateTime } from './dates.ts'
import { SfError } from './errors.ts'
import { normalizeId } from './ids.ts'
import type { ChildRelationship, FieldDef, ObjectDef, Schema } from './schema.ts'
import type { Rec, Store, Value } from './store.ts'

// ---- parser AST (the subset we read) -------------------------------------------------------
interface PFn {
  functionName: string
  parameters?: Array<string | PField>
  rawValue?: string
  alias?: string
  isAggregateFn?: boolean
}
interface PField {
  type: string
  field?: string
  relationships?: string[]
  rawValue?: string
  subquery?: PQuery
  functionName?: string
  parameters?: Array<string | PField>
  alias?: string
  isAggregateFn?: boolean
}
interface PCond {
  field?: string
  fn?: PFn
  operator?: string
  value?: string | string[]
  literalType?: string | string[]
  valueQuery?: PQuery
  openParen?: number
  closeParen?: number
  logicalPrefix?: string
}
interface PWhere { left?: PCond | null; operator?: string; right?: PWhere }
interface POrder { field?: string; fn?: PFn; order?: string; nulls?: string }
interface PGroup { field?: string; fn?: PFn }
interface PQuery {
  fields?: PField[]
  sObject?: string
  sObjectAlias?: string
  relationshipName?: string
  where?: PWhere
  orderBy?: POrder | POrder[]
  groupBy?: PGroup | PGroup[]
  having?: PWhere
  limit?: number
  offset?: number
  usingScope?: string
}

// ---- compiled query -----------------------------------------------------------------------
interface Path { steps: FieldDef[]; field: FieldDef; raw: string }

/** Something a condition can read: a record (WHERE) or a group (HAVING, aggregate ORDER BY). */
interface Group { values: Value[]; recs: Rec[] }
type Target = Rec | Group
type Getter = (t: Target, ctx: ExecCtx) => Value

interface DateRange { range: [Value, Value] }
type Lit = Value | DateRange

interface CondNode {
  kind: 'cond'
  get: Getter
  field: FieldDef
  path?: Path
  op: string
  values: Lit[]
  raw: Value[]
  like?: RegExp
  semi?: Compiled
}
type Node = CondNode | { kind: 'and' | 'or'; items: Node[] } | { kind: 'not'; item: Node }

interface OrderItem {
  get: Getter
  field: FieldDef
  desc: boolean
  nullsFirst: boolean
  /** ORDER BY the record's own Id, ascending: a list already in Id order needs no sort. */
  ownIdAscending?: boolean
}

type SelectItem =
  | { kind: 'field'; path: Path }
  | { kind: 'sub'; rel: ChildRelationship; q: Compiled }
interface AggItem { kind: 'group' | 'agg'; key: string; get: Getter; field: FieldDef }

/**
 * The SELECT list as the answer nests it, built once per query: a parent relationship's fields
 * gathered under it (its record looked up once per answer record), at the place of its first field.
 */
type Shape = Array<
  | { kind: 'field'; name: string; prop: string }
  | { kind: 'parent'; step: FieldDef; prop: string; shape: Shape }
  | { kind: 'sub'; rel: ChildRelationship; q: Compiled; prop: string }
>

export interface Compiled {
  soql: string
  def: ObjectDef
  select: SelectItem[]
  shape: Shape
  where?: Node
  order: OrderItem[]
  limit?: number
  offset: number
  countOnly: boolean
  aggregate?: { groups: Path[]; items: AggItem[]; having?: Node }
  scopeMine: boolean
}

export interface ExecCtx {
  store: Store
  user: UserInfo
  usersById: Map<string, UserInfo>
  includeDeleted: boolean
  now: number
}

export interface QueryResult {
  totalSize: number
  /** Matched records (plain queries) or aggregate rows already projected. */
  recs: Rec[]
  rows?: Array<Record<string, unknown>>
  /** Matched records as an answer's `records` hold them: JSON text, comma-separated, urls at `apiVersion`. */
  json: (recs: Rec[], apiVersion: string) => string
}

// ---- errors -------------------------------------------------------------------------------
function located (code: string, soql: string, token: string, detail: string): SfError {
  let pos = token ? soql.toLowerCase().indexOf(token.toLowerCase()) : -1
  if (pos < 0) pos = 0
  const before = soql.slice(0, pos)
  const row = before.split('\n').length
  const lineStart = before.lastIndexOf('\n') + 1
  const col = pos - lineStart + 1
  const line = soql.split('\n')[row - 1] ?? soql
  return new SfError(400, code, `\n${line}\n${' '.repeat(col - 1)}^\nERROR at Row:${row}:Column:${col}\n${detail}`)
}

const CUSTOM_FIELD_HINT = "If you are attempting to use a custom field, be sure to append the '__c' after the custom field name. Please reference your WSDL or the describe call for the appropriate names."
const CUSTOM_REL_HINT = "If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name. Please reference your WSDL or the describe call for the appropriate names."

function noSuchColumn (soql: string, raw: string, name: string, def: ObjectDef): SfError {
  return located('INVALID_FIELD', soql, raw, `No such column '${name}' on entity '${def.name}'. ${CUSTOM_FIELD_HINT}`)
}

// ---- compile ------------------------------------------------------------------------------
const TEXT = new Set(['id', 'reference', 'string', 'textarea', 'picklist', 'multipicklist', 'email', 'phone', 'url'])
const NUMERIC = new Set(['double', 'currency', 'percent', 'int'])

export class SoqlEngine {
  private readonly cache = new Map<string, Compiled>()
  private readonly schema: Schema

  constructor (schema: Schema) {
    this.schema = schema
  }

  compile (soql: string): Compiled {
    const hit = this.cache.get(soql)
    if (hit) return hit
    let ast: PQuery
    try {
      ast = parseQuery(soql) as unknown as PQuery
    } catch (e) {
      throw new SfError(400, 'MALFORMED_QUERY', parseErrorMessage(soql, (e as Error).message))
    }
    const c = this.compileQuery(ast, soql)
    if (this.cache.size > 2000) this.cache.clear()
    this.cache.set(soql, c)
    return c
  }

  private compileQuery (ast: PQuery, soql: string, childDef?: ObjectDef): Compiled {
    const name = ast.sObject ?? ''
    const def = childDef ?? this.schema.get(name)
    // "You can't query event messages using SOQL" (Platform Events Developer Guide, "Considerations for
    // Defining and Publishing Platform Events"); the exact error text is not recorded, the unknown-type one stands in.
    if (!def || def.event) {
      throw located('INVALID_TYPE', soql, name, `sObject type '${name}' is not supported. If you are attempting to use a custom object, be sure to append the '__c' after the entity name. Please reference your WSDL or the describe call for the appropriate names.`)
    }
    const prefixes = [def.name.toLowerCase()]
    if (ast.sObjectAlias) prefixes.push(ast.sObjectAlias.toLowerCase())
    const resolve = (raw: string): Path => this.resolvePath(def, raw, prefixes, soql)

    if (ast.offset !== undefined && ast.offset > 2000) {
      throw new SfError(400, 'NUMBER_OUTSIDE_VALID_RANGE', 'Maximum SOQL offset allowed is 2000')
    }
    if (ast.limit !== undefined && ast.limit < 0) {
      throw new SfError(400, 'NUMBER_OUTSIDE_VALID_RANGE', 'The limit must be a non-negative integer')
    }

    const fields = ast.fields ?? []
    const groupBy = ast.groupBy === undefined ? [] : Array.isArray(ast.groupBy) ? ast.groupBy : [ast.groupBy]
    const isAgg = groupBy.length > 0 || fields.some(f => f.type === 'FieldFunctionExpression' && f.isAggregateFn === true)
    const f0 = fields[0]
    const countOnly = fields.length === 1 && f0 !== undefined && f0.type === 'FieldFunctionExpression' &&
      f0.functionName?.toUpperCase() === 'COUNT' && (f0.parameters ?? []).length === 0
    if (!countOnly && fields.some(f => f.type === 'FieldFunctionExpression' && f.functionName?.toUpperCase() === 'COUNT' && (f.parameters ?? []).length === 0)) {
      throw new SfError(400, 'MALFORMED_QUERY', 'COUNT() can only be used alone in the SELECT list')
    }

    const c: Compiled = {
      soql,
      def,
      select: [],
      shape: [],
      order: [],
      limit: ast.limit,
      offset: ast.offset ?? 0,
      countOnly,
      scopeMine: ast.usingScope?.toLowerCase() === 'mine'
    }

    if (ast.where) c.where = this.compileWhere(ast.where, def, soql, resolve, false)

    if (countOnly) {
      // nothing else to select
    } else if (isAgg) {
      const groups = groupBy.map(g => {
        if (!g.field) throw new SfError(400, 'MALFORMED_QUERY', 'Unsupported GROUP BY expression')
        return resolve(g.field)
      })
      const items: AggItem[] = []
      let expr = 0
      for (const f of fields) {
        if (f.type === 'FieldFunctionExpression' && f.isAggregateFn) {
          const getter = this.aggGetter(f as PFn, def, soql, resolve)
          const key = f.alias ?? `expr${expr++}`
          items.push({ kind: 'agg', key, get: getter.get, field: getter.field })
        } else if (f.type === 'Field' || f.type === 'FieldRelationship') {
          const raw = f.rawValue ?? f.field ?? ''
          const p = resolve(raw)
          const gi = groups.findIndex(g => samePath(g, p))
          if (gi < 0) throw located('MALFORMED_QUERY', soql, raw, `Field must be grouped or aggregated: ${p.field.name}`)
          items.push({ kind: 'group', key: f.alias ?? p.field.name, get: (t) => (t as Group).values[gi] ?? null, field: p.field })
        } else {
          throw new SfError(400, 'MALFORMED_QUERY', `Unsupported expression in aggregate query: ${f.rawValue ?? f.functionName ?? ''}`)
        }
      }
      const agg: Compiled['aggregate'] = { groups, items }
      if (ast.having) agg.having = this.compileWhere(ast.having, def, soql, resolve, true, groups)
      c.aggregate = agg
    } else {
      for (const f of fields) this.compileSelect(f, def, soql, resolve, c.select)
      if (c.select.length === 0) throw new SfError(400, 'MALFORMED_QUERY', 'unexpected token: FROM')
      c.shape = shapeOf(c.select)
    }

    const orders = ast.orderBy === undefined ? [] : Array.isArray(ast.orderBy) ? ast.orderBy : [ast.orderBy]
    for (const o of orders) {
      const desc = o.order?.toUpperCase() === 'DESC'
      const nullsFirst = o.nulls ? o.nulls.toUpperCase() === 'FIRST' : !desc
      if (o.fn) {
        const g = this.aggGetter(o.fn, def, soql, resolve)
        c.order.push({ get: g.get, field: g.field, desc, nullsFirst })
      } else if (o.field) {
        const p = resolve(o.field)
        if (c.aggregate) {
          const gi = c.aggregate.groups.findIndex(g => samePath(g, p))
          if (gi < 0) throw located('MALFORMED_QUERY', soql, o.field, `Ordered field must be grouped or aggregated: ${p.field.name}`)
          c.order.push({ get: (t) => (t as Group).values[gi] ?? null, field: p.field, desc, nullsFirst })
        } else {
          const ownIdAscending = !desc && p.steps.length === 0 && p.field.type === 'id'
          const get: Getter = (t, ctx) => pathValue(t as Rec, p, ctx.store)
          c.order.push({ get, field: p.field, desc, nullsFirst, ownIdAscending })
        }
      }
    }
    return c
  }

  private compileSelect (
    f: PField,
    def: ObjectDef,
    soql: string,
    resolve: (raw: string) => Path,
    out: SelectItem[]
  ): void {
    const push = (p: Path): void => {
      if (!out.some(s => s.kind === 'field' && samePath(s.path, p))) out.push({ kind: 'field', path: p })
    }
    switch (f.type) {
      case 'Field':
      case 'FieldRelationship':
        push(resolve(f.rawValue ?? f.field ?? ''))
        return
      case 'FieldFunctionExpression': {
        const fn = (f.functionName ?? '').toUpperCase()
        const param = f.parameters?.[0]
        if (fn === 'FIELDS') {
          const which = String(param ?? 'ALL').toUpperCase()
          for (const fd of def.fields) {
            if (which === 'CUSTOM' && !fd.custom) continue
            if (which === 'STANDARD' && fd.custom) continue
            push({ steps: [], field: fd, raw: fd.name })
          }
          return
        }
        if ((fn === 'TOLABEL' || fn === 'FORMAT' || fn === 'CONVERTCURRENCY') && typeof param === 'string') {
          push(resolve(param))
          return
        }
        throw new SfError(400, 'MALFORMED_QUERY', `Unsupported function in SELECT: ${f.rawValue ?? fn}`)
      }
      case 'FieldSubquery': {
        const sq = f.subquery as PQuery
        const relName = sq.relationshipName ?? ''
        const rel = def.childRels.get(relName.toLowerCase())
        if (!rel) {
          throw located('INVALID_TYPE', soql, relName, `Didn't understand relationship '${relName}' in FROM part of query call. ${CUSTOM_REL_HINT}`)
        }
        const childDef = this.schema.get(rel.childSObject) as ObjectDef
        const q = this.compileQuery({ ...sq, sObject: childDef.name }, soql, childDef)
        out.push({ kind: 'sub', rel, q })
        return
      }
      default:
        throw new SfError(400, 'MALFORMED_QUERY', `Unsupported field expression: ${f.rawValue ?? f.type}`)
    }
  }

  resolvePath (def: ObjectDef, raw: string, prefixes: string[], soql: string): Path {
    let parts = raw.split('.')
    const first = (parts[0] ?? '').toLowerCase()
    if (parts.length > 1 && prefixes.includes(first) && !def.parentRels.has(first)) {
      parts = parts.slice(1)
    }
    const steps: FieldDef[] = []
    let cur = def
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i] ?? ''
      const rel = cur.parentRels.get(part.toLowerCase())
      const target = rel ? this.schema.get(rel.referenceTo[0] ?? '') : undefined
      if (!rel || !target) {
        throw located('INVALID_FIELD', soql, raw, `Didn't understand relationship '${part}' in field path. ${CUSTOM_REL_HINT}`)
      }
      steps.push(rel)
      cur = target
    }
    const last = parts[parts.length - 1] ?? ''
    const field = cur.fieldMap.get(last.toLowerCase())
    if (!field) throw noSuchColumn(soql, raw, last, cur)
    return { steps, field, raw }
  }

  private aggGetter (
    fn: PFn,
    def: ObjectDef,
    soql: string,
    resolve: (raw: string) => Path
  ): { get: Getter; field: FieldDef } {
    const name = fn.functionName.toUpperCase()
    const param = fn.parameters?.[0]
    if (name === 'COUNT' && param === undefined) {
      return { get: (t) => (t as Group).recs.length, field: def.fieldMap.get('id') as FieldDef }
    }
    if (typeof param !== 'string') throw new SfError(400, 'MALFORMED_QUERY', `Unsupported aggregate: ${fn.rawValue ?? name}`)
    const p = resolve(param)
    const numericOnly = name === 'SUM' || name === 'AVG'
    if (numericOnly && !NUMERIC.has(p.field.type)) {
      throw located('MALFORMED_QUERY', soql, param, `field ${p.field.name} does not support aggregate operator ${name}`)
    }
    const values = (g: Group, ctx: ExecCtx): Value[] =>
      g.recs.map(r => pathValue(r, p, ctx.store)).filter(v => v !== null)
    let get: Getter
    switch (name) {
      case 'COUNT': get = (t, ctx) => values(t as Group, ctx).length; break
      case 'COUNT_DISTINCT': get = (t, ctx) => new Set(values(t as Group, ctx).map(v => typeof v === 'string' ? v.toLowerCase() : v)).size; break
      case 'SUM': get = (t, ctx) => { const v = values(t as Group, ctx); return v.length ? round(v.reduce((a: number, b) => a + Number(b), 0)) : null }; break
      case 'AVG': get = (t, ctx) => { const v = values(t as Group, ctx); return v.length ? v.reduce((a: number, b) => a + Number(b), 0) / v.length : null }; break
      case 'MIN':
      case 'MAX': get = (t, ctx) => {
        const v = values(t as Group, ctx)
        if (v.length === 0) return null
        let best: Value = v[0] ?? null
        for (const x of v) {
          const c = compareValues(norm(p.field, x), norm(p.field, best))
          if (name === 'MIN' ? c < 0 : c > 0) best = x
        }
        return best
      }; break
      default: throw new SfError(400, 'MALFORMED_QUERY', `Unsupported aggregate function: ${name}`)
    }
    const field = name.startsWith('COUNT') ? { ...p.field, type: 'int' as const } : p.field
    return { get, field }
  }

  private compileWhere (
    w: PWhere,
    def: ObjectDef,
    soql: string,
    resolve: (raw: string) => Path,
    having: boolean,
    groups: Path[] = []
  ): Node {
    // The parser gives a flat chain with paren counts; turn it into tokens, then parse precedence.
    const tokens: Array<string | PCond> = []
    let node: PWhere | undefined = w
    while (node) {
      const left = node.left
      if (left) {
        for (let i = 0; i < (left.openParen ?? 0); i++) tokens.push('(')
        if (left.logicalPrefix) tokens.push('NOT')
        if (left.field !== undefined || left.fn !== undefined) tokens.push(left)
        for (let i = 0; i < (left.closeParen ?? 0); i++) tokens.push(')')
      }
      if (node.operator) tokens.push(node.operator.toUpperCase())
      node = node.right
    }
    let i = 0
    const parseOr = (): Node => {
      const items = [parseAnd()]
      while (tokens[i] === 'OR') { i++; items.push(parseAnd()) }
      return items.length === 1 ? items[0] as Node : { kind: 'or', items }
    }
    const parseAnd = (): Node => {
      const items = [parseUnary()]
      while (tokens[i] === 'AND') { i++; items.push(parseUnary()) }
      return items.length === 1 ? items[0] as Node : { kind: 'and', items: items.flatMap(n => n.kind === 'and' ? n.items : [n]) }
    }
    const parseUnary = (): Node => {
      const t = tokens[i++]
      if (t === 'NOT') return { kind: 'not', item: parseUnary() }
      if (t === '(') {
        const n = parseOr()
        if (tokens[i] !== ')') throw new SfError(400, 'MALFORMED_QUERY', 'unexpected token: (')
        i++
        return n
      }
      if (t === undefined || typeof t === 'string') throw new SfError(400, 'MALFORMED_QUERY', `unexpected token: ${t ?? '<EOF>'}`)
      return this.compileCond(t, def, soql, resolve, having, groups)
    }
    const root = parseOr()
    if (i < tokens.length) throw new SfError(400, 'MALFORMED_QUERY', `unexpected token: ${String(tokens[i])}`)
    return root
  }

  private compileCond (
    cond: PCond,
    def: ObjectDef,
    soql: string,
    resolve: (raw: string) => Path,
    having: boolean,
    groups: Path[]
  ): CondNode {
    let get: Getter
    let field: FieldDef
    let path: Path | undefined
    if (cond.fn) {
      if (!having) throw new SfError(400, 'MALFORMED_QUERY', `Aggregate functions are not allowed in the WHERE clause: ${cond.fn.rawValue ?? ''}`)
      const g = this.aggGetter(cond.fn, def, soql, resolve)
      get = g.get
      field = g.field
    } else {
      const raw = cond.field ?? ''
      path = resolve(raw)
      field = path.field
      if (having) {
        const p = path
        const gi = groups.findIndex(g => samePath(g, p))
        if (gi < 0) throw located('MALFORMED_QUERY', soql, raw, `Field must be grouped or aggregated: ${p.field.name}`)
        get = (t) => (t as Group).values[gi] ?? null
      } else {
        const p = path
        get = (t, ctx) => pathValue(t as Rec, p, ctx.store)
      }
    }
    const op = (cond.operator ?? '=').toUpperCase()
    const n: CondNode = { kind: 'cond', get, field, path, op: op === '<>' ? '!=' : op, values: [], raw: [] }
    if (cond.valueQuery) {
      if (op !== 'IN' && op !== 'NOT IN') throw new SfError(400, 'MALFORMED_QUERY', 'A semi-join needs IN or NOT IN')
      const sub = this.compileQuery(cond.valueQuery, soql)
      if (sub.select.length !== 1 || sub.select[0]?.kind !== 'field') {
        throw new SfError(400, 'MALFORMED_QUERY', 'The inner select field of a semi-join must be a single field')
      }
      n.semi = sub
      return n
    }
    const rawValues = Array.isArray(cond.value) ? cond.value : [cond.value ?? 'NULL']
    const types = Array.isArray(cond.literalType) ? cond.literalType : rawValues.map(() => (cond.literalType as string | undefined) ?? 'STRING')
    for (let k = 0; k < rawValues.length; k++) {
      const lit = literal(field, types[k] ?? types[0] ?? 'STRING', rawValues[k] ?? 'NULL', soql, cond.field ?? field.name)
      n.raw.push(lit.raw)
      n.values.push(lit.value)
    }
    if (op === 'LIKE') {
      const pattern = n.raw[0]
      if (typeof pattern !== 'string') throw new SfError(400, 'INVALID_QUERY_FILTER_OPERATOR', `invalid operator on field ${field.name}`)
      n.like = likeRegex(pattern)
    }
    return n
  }

  // ---- execute ----------------------------------------------------------------------------
  execute (c: Compiled, ctx: ExecCtx): QueryResult {
    const semis = new Map<CondNode, Set<Value>>()
    const recs: Iterable<Rec> = this.candidates(c, ctx, semis)
    const where = c.where ? buildPred(c.where, ctx, semis, this) : undefined
    const all = seesAll(ctx.user)
    const out: Rec[] = []
    // Without ORDER BY, a LIMIT lets the scan stop early (the store is in creation order).
    const cap = c.order.length === 0 && !c.aggregate && c.limit !== undefined ? c.offset + c.limit : Infinity
    for (const r of recs) {
      if (out.length >= cap) break
      if (!ctx.includeDeleted && r.f.IsDeleted === true) continue
      if (c.scopeMine && r.f.OwnerId !== ctx.user.id) continue
      if (!all && !recordAccess(ctx.user, r, ctx.store).read) continue
      if (where && !where(r)) continue
      out.push(r)
    }
    let matched = out

    if (c.countOnly) {
      const total = c.limit !== undefined ? Math.min(c.limit, matched.length) : matched.length
      return { totalSize: total, recs: [], rows: [], json: () => '{}' }
    }

    if (c.aggregate) {
      const agg = c.aggregate
      const groups = new Map<string, Group>()
      if (agg.groups.length === 0) {
        groups.set('', { values: [], recs: matched })
      } else {
        for (const r of matched) {
          const values = agg.groups.map(p => pathValue(r, p, ctx.store))
          const key = JSON.stringify(values.map((v, k) => norm((agg.groups[k] as Path).field, v)))
          const g = groups.get(key)
          if (g) g.recs.push(r)
          else groups.set(key, { values, recs: [r] })
        }
      }
      let list = [...groups.values()]
      if (agg.having) {
        const having = buildPred(agg.having, ctx, semis, this)
        list = list.filter(g => having(g))
      }
      list = this.sortAndSlice(list, c, ctx)
      const rows = list.map(g => {
        const row: Record<string, unknown> = { attributes: { type: 'AggregateResult' } }
        for (const it of agg.items) row[it.key] = it.get(g, ctx)
        return row
      })
      return { totalSize: rows.length, recs: [], rows, json: () => '{}' }
    }

    matched = this.sortAndSlice(matched, c, ctx)
    const json = (recs: Rec[], apiVersion: string) => {
      const base = sobjectsBase(apiVersion)
      return recs.map((r) => this.json(c.shape, r, ctx, base)).join(',')
    }
    return { totalSize: matched.length, recs: matched, json }
  }

  private sortAndSlice<T extends Target> (list: T[], c: Compiled, ctx: ExecCtx): T[] {
    if (c.order.length > 0 && !inIdOrder(list, c.order)) {
      const keyed = list.map(t => ({ t, k: c.order.map(o => norm(o.field, o.get(t, ctx))) }))
      keyed.sort((a, b) => {
        for (let i = 0; i < c.order.length; i++) {
          const o = c.order[i] as OrderItem
          const x = a.k[i] ?? null
          const y = b.k[i] ?? null
          if (x === null && y === null) continue
          if (x === null) return o.nullsFirst ? -1 : 1
          if (y === null) return o.nullsFirst ? 1 : -1
          const cmp = compareValues(x, y)
          if (cmp !== 0) return o.desc ? -cmp : cmp
        }
        return 0
      })
      list = keyed.map(k => k.t)
    }
    const start = c.offset
    const end = c.limit !== undefined ? start + c.limit : undefined
    return start > 0 || end !== undefined ? list.slice(start, end) : list
  }

  /**
   * Records to test: from an index when a top-level AND term is an equality on an indexed field, or
   * a lower bound on SystemModstamp (Store.stampedSince).
   */
  private candidates (c: Compiled, ctx: ExecCtx, semis: Map<CondNode, Set<Value>>): Iterable<Rec> {
    if (c.def.sharing === 'virtual') return this.userRecordAccess(c, ctx)
    const terms = !c.where ? [] : c.where.kind === 'and' ? c.where.items : [c.where]
    let best: Rec[] | undefined
    for (const t of terms) {
      if (t.kind !== 'cond' || !t.path || t.path.steps.length > 0) continue
      const from = t.values[0]
      if (t.field.name === 'SystemModstamp' && (t.op === '>=' || t.op === '>') && typeof from === 'number') {
        const found = ctx.store.stampedSince(c.def.name, from)
        if (!best || found.length < best.length) best = found
        continue
      }
      if (t.op !== '=' && t.op !== 'IN') continue
      if (!ctx.store.isIndexed(c.def.name, t.field.name)) continue
      let keys: Value[]
      if (t.semi) {
        keys = [...this.semiValues(t, ctx, semis, true)]
      } else {
        if (t.values.some(v => v !== null && typeof v === 'object')) continue
        keys = t.raw
      }
      if (keys.includes(null)) continue
      let found: Rec[]
      if (keys.length === 1) {
        found = [...ctx.store.matching(c.def.name, t.field.name, keys[0] as Value)]
      } else {
        const seen = new Set<Rec>()
        for (const k of keys) for (const r of ctx.store.matching(c.def.name, t.field.name, k)) seen.add(r)
        found = [...seen]
      }
      if (!best || found.length < best.length) best = found
    }
    if (best) {
      // Keep the store's (creation) order, as a full scan would.
      return best.length > 1 ? best.sort(byId) : best
    }
    return ctx.store.all(c.def.name)
  }

  semiValues (n: CondNode, ctx: ExecCtx, semis: Map<CondNode, Set<Value>>, raw = false): Set<Value> {
    let s = semis.get(n)
    if (!s) {
      const sub = n.semi as Compiled
      const res = this.execute(sub, { ...ctx, includeDeleted: false })
      const item = sub.select[0] as { kind: 'field'; path: Path }
      s = new Set(res.recs.map(r => pathValue(r, item.path, ctx.store)).filter(v => v !== null))
      semis.set(n, s)
    }
    if (raw) return s
    return new Set([...s].map(v => norm(n.field, v)))
  }

  private userRecordAccess (c: Compiled, ctx: ExecCtx): Rec[] {
    const terms = !c.where ? [] : c.where.kind === 'and' ? c.where.items : [c.where]
    let userIds: Value[] | undefined
    let recordIds: Value[] | undefined
    for (const t of terms) {
      if (t.kind !== 'cond' || !t.path || (t.op !== '=' && t.op !== 'IN')) continue
      if (t.field.name === 'UserId') userIds = t.raw
      if (t.field.name === 'RecordId') recordIds = t.raw
    }
    if (!userIds || userIds.length !== 1 || !recordIds) {
      throw new SfError(400, 'MALFORMED_QUERY', 'UserRecordAccess queries must filter on a single UserId and on RecordId (= or IN)')
    }
    if (recordIds.length > 200) throw new SfError(400, 'MALFORMED_QUERY', 'A UserRecordAccess query can ask about at most 200 record ids')
    const uid = String(userIds[0])
    const user = ctx.usersById.get(uid)
    const out: Rec[] = []
    for (const rid of recordIds) {
      const id = normalizeId(rid)
      if (!id) continue
      const rec = ctx.store.get(id)
      const live = rec && rec.f.IsDeleted !== true
      const m = user && live ? maxAccessLevel(user, rec, ctx.store) : { access: { read: false, edit: false }, level: 'None' }
      const all = m.level === 'All'
      out.push({
        type: 'UserRecordAccess',
        f: {
          Id: id,
          UserId: uid,
          RecordId: id,
          HasReadAccess: m.access.read,
          HasEditAccess: m.access.edit,
          HasDeleteAccess: m.access.edit && (all || m.level === 'Edit'),
          HasTransferAccess: all,
          HasAllAccess: all,
          MaxAccessLevel: m.level
        }
      })
    }
    return out
  }

  /**
   * `rec`'s fields in `shape` as JSON text, parents nested, subqueries answered: written straight
   * from the store, without an object per record for JSON.stringify to walk again (issue 16).
   * Types and ids are the org's own identifiers, safe inside quotes as they are.
   */
  private json (shape: Shape, rec: Rec, ctx: ExecCtx, base: string): string {
    let out = '{"attributes":{"type":"' + rec.type + '","url":"' + base + rec.type + '/' + (rec.f.Id as string) + '"}'
    for (const n of shape) {
      if (n.kind === 'field') {
        out += n.prop + jsonValue(rec.f[n.name])
      } else if (n.kind === 'parent') {
        const parentId = rec.f[n.step.name]
        const parent = typeof parentId === 'string' ? ctx.store.get(parentId) : undefined
        out += n.prop + (parent ? this.json(n.shape, parent, ctx, base) : 'null')
      } else {
        out += n.prop + this.children(n.rel, n.q, rec, ctx, base)
      }
    }
    return out + '}'
  }

  /** A subquery's answer for one parent record: its visible children, or null when there are none. */
  private children (rel: ChildRelationship, sub: Compiled, rec: Rec, ctx: ExecCtx, base: string): string {
    const pred = sub.where ? buildPred(sub.where, ctx, new Map<CondNode, Set<Value>>(), this) : undefined
    const all = seesAll(ctx.user)
    let list: Rec[] = []
    // Through the parent-id index, as the store holds it (no copy of the bucket).
    for (const k of ctx.store.matching(rel.childSObject, rel.field, rec.f.Id as string)) {
      if (k.f.IsDeleted === true) continue
      if (!all && !recordAccess(ctx.user, k, ctx.store).read) continue
      if (pred && !pred(k)) continue
      list.push(k)
    }
    if (list.length > 1) list.sort(byId)
    list = this.sortAndSlice(list, sub, ctx)
    if (list.length === 0) return 'null'
    let records = ''
    for (const k of list) records += (records === '' ? '' : ',') + this.json(sub.shape, k, ctx, base)
    return '{"totalSize":' + String(list.length) + ',"done":true,"records":[' + records + ']}'
  }
}

/** Where an API version's record urls start. */
const sobjectsBase = (apiVersion: string): string => `/services/data/v${apiVersion}/sobjects/`

/** Characters JSON.stringify would escape in a string: quote, backslash, controls, surrogates. */
// eslint-disable-next-line no-control-regex -- control characters are what JSON escapes
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/

/** A field's value as JSON.stringify writes it; plain text and numbers without the call. */
function jsonValue (v: unknown): string {
  if (typeof v === 'string') return NEEDS_ESCAPE.test(v) ? JSON.stringify(v) : '"' + v + '"'
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : 'null'
  if (v === undefined || v === null) return 'null'
  return JSON.stringify(v)
}

/** The SELECT list nested as the answer is: see Shape. */
function shapeOf (select: SelectItem[]): Shape {
  const root: Shape = []
  for (const item of select) {
    if (item.kind === 'sub') {
      root.push({ ...item, prop: jsonProp(item.rel.relationshipName) })
      continue
    }
    let level = root
    for (const step of item.path.steps) {
      let node = level.find(n => n.kind === 'parent' && n.step === step)
      if (node === undefined) {
        node = { kind: 'parent', step, prop: jsonProp(step.relationshipName as string), shape: [] }
        level.push(node)
      }
      level = (node as { shape: Shape }).shape
    }
    level.push({ kind: 'field', name: item.path.field.name, prop: jsonProp(item.path.field.name) })
  }
  return oneNodePerProp(root)
}

/**
 * One node per property name, so the answer never repeats a key (two subqueries on one
 * relationship, or a field named like a relationship): the first one's place, the last one's
 * value, as assigning to an object would give.
 */
function oneNodePerProp (shape: Shape): Shape {
  const at = new Map<string, number>()
  const out: Shape = []
  for (const n of shape) {
    const node = n.kind === 'parent' ? { ...n, shape: oneNodePerProp(n.shape) } : n
    const i = at.get(node.prop)
    if (i === undefined) {
      at.set(node.prop, out.length)
      out.push(node)
    } else {
      out[i] = node
    }
  }
  return out
}

/** `,"name":`, written before a value in an answer record. */
const jsonProp = (name: string): string => ',' + JSON.stringify(name) + ':'

function samePath (a: Path, b: Path): boolean {
  return a.field === b.field && a.steps.length === b.steps.length && a.steps.every((s, i) => s === b.steps[i])
}

export function pathValue (rec: Rec, p: Path, store: Store): Value {
  let cur: Rec | undefined = rec
  for (const step of p.steps) {
    const id: Value | undefined = cur.f[step.name]
    cur = typeof id === 'string' ? store.get(id) : undefined
    if (!cur) return null
  }
  const v = cur.f[p.field.name]
  return v === undefined ? null : v
}

function round (n: number): number {
  return Math.round(n * 1e6) / 1e6
}

/** Records in Id order, which is the store's creation order. */
const byId = (a: Rec, b: Rec): number => ((a.f.Id as string) < (b.f.Id as string) ? -1 : 1)

/**
 * Whether `list` is already in the order of an ORDER BY of the record's own Id ascending: subquery
 * children and index lookups come in Id order, and sorting them again through the generic keyed
 * sort was most of a subquery's cost (issue 16). Ids compare exactly, as compareValues does.
 */
function inIdOrder (list: Target[], order: OrderItem[]): boolean {
  if (order.length !== 1 || order[0]?.ownIdAscending !== true) return false
  for (let i = 1; i < list.length; i++) {
    if (!(((list[i - 1] as Rec).f.Id as string) < ((list[i] as Rec).f.Id as string))) return false
  }
  return true
}

/** A comparable form of a stored value: text lower-cased, datetimes as ms, dates as strings. */
function norm (f: FieldDef, v: Value): Value {
  if (v === null || v === undefined) return null
  if (f.type === 'datetime') return typeof v === 'string' ? parseDateTime(v) : v
  if (f.type === 'id' || f.type === 'reference') return v // canonical 18-character ids: exact
  if (typeof v === 'string') return v.toLowerCase()
  return v
}

function compareValues (a: Value, b: Value): number {
  if (a === b) return 0
  if (a === null) return -1
  if (b === null) return 1
  if (typeof a === 'number' && typeof b === 'number') return a - b
  if (typeof a === 'boolean' && typeof b === 'boolean') return a ? 1 : -1
  const x = String(a)
  const y = String(b)
  return x < y ? -1 : x > y ? 1 : 0
}

function unquote (s: string): string {
  const body = s.startsWith("'") && s.endsWith("'") ? s.slice(1, -1) : s
  return body.replace(/\\(.)/g, (_, ch: string) => ({ n: '\n', r: '\r', t: '\t', b: '\b', f: '\f' } as Record<string, string>)[ch] ?? ch)
}

function typeMismatch (field: FieldDef, raw: string, soql: string, quoted: boolean): SfError {
  const t = field.type === 'datetime' ? 'dateTime' : NUMERIC.has(field.type) ? (field.type === 'int' ? 'int' : 'double') : field.type === 'boolean' ? 'boolean' : field.type === 'date' ? 'date' : 'string'
  const hint = t === 'string' ? 'should be enclosed in quotes' : 'should not be enclosed in quotes'
  void quoted
  return located('INVALID_QUERY_FILTER_OPERATOR', soql, raw, `value of filter criterion for field '${field.name}' must be of type ${t} and ${hint}`)
}

function literal (
  field: FieldDef,
  type: string,
  rawText: string,
  soql: string,
  fieldRaw: string
): { value: Lit; raw: Value } {
  const t = type.toUpperCase()
  if (t === 'NULL' || rawText.toUpperCase() === 'NULL') return { value: null, raw: null }
  const ft = field.type
  switch (t) {
    case 'STRING': {
      if (!TEXT.has(ft)) throw typeMismatch(field, rawText, soql, true)
      let s = unquote(rawText)
      if (ft === 'id' || ft === 'reference') {
        const id = normalizeId(s)
        if (!id) {
          if (ft === 'id' || s.length > 0) {
            throw located('INVALID_QUERY_FILTER_OPERATOR', soql, rawText, `invalid ID field: ${s}`)
          }
        } else s = id
      }
      return { value: ft === 'id' || ft === 'reference' ? s : s.toLowerCase(), raw: s }
    }
    case 'INTEGER':
    case 'DECIMAL':
    case 'INTEGER_WITH_CURRENCY_PREFIX':
    case 'DECIMAL_WITH_CURRENCY_PREFIX': {
      if (!NUMERIC.has(ft)) throw typeMismatch(field, rawText, soql, false)
      const n = Number(rawText.replace(/^[A-Z]{3}/, ''))
      return { value: n, raw: n }
    }
    case 'BOOLEAN': {
      if (ft !== 'boolean') throw typeMismatch(field, rawText, soql, false)
      const b = rawText.toLowerCase() === 'true'
      return { value: b, raw: b }
    }
    case 'DATE': {
      if (ft !== 'date') throw typeMismatch(field, rawText, soql, false)
      return { value: rawText, raw: rawText }
    }
    case 'DATETIME': {
      if (ft !== 'datetime') throw typeMismatch(field, rawText, soql, false)
      const ms = parseDateTime(rawText)
      if (Number.isNaN(ms)) throw located('MALFORMED_QUERY', soql, rawText, `line 1:0 no viable alternative at character '${rawText}'`)
      return { value: ms, raw: rawText }
    }
    case 'DATE_LITERAL':
    case 'DATE_N_LITERAL': {
      if (ft !== 'date' && ft !== 'datetime') throw typeMismatch(field, rawText, soql, false)
      const r = dateLiteralRange(rawText, Date.now())
      if (!r) throw located('MALFORMED_QUERY', soql, rawText, `unexpected token: ${rawText}`)
      const range: [Value, Value] = ft === 'date' ? [fmtDate(r[0]), fmtDate(r[1])] : [r[0], r[1]]
      return { value: { range }, raw: rawText }
    }
    default:
      throw located('MALFORMED_QUERY', soql, fieldRaw, `unsupported value in filter: ${rawText}`)
  }
}

function likeRegex (pattern: string): RegExp {
  let re = ''
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i] ?? ''
    if (ch === '\\' && i + 1 < pattern.length) { re += (pattern[++i] ?? '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&'); continue }
    if (ch === '%') re += '[\\s\\S]*'
    else if (ch === '_') re += '[\\s\\S]'
    else re += ch.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
  }
  return new RegExp(`^${re}$`, 'i')
}

function isRange (v: Lit): v is DateRange {
  return v !== null && typeof v === 'object'
}

function buildPred (
  n: Node,
  ctx: ExecCtx,
  semis: Map<CondNode, Set<Value>>,
  engine: SoqlEngine
): (t: Target) => boolean {
  switch (n.kind) {
    case 'and': { const ps = n.items.map(i => buildPred(i, ctx, semis, engine)); return (t) => ps.every(p => p(t)) }
    case 'or': { const ps = n.items.map(i => buildPred(i, ctx, semis, engine)); return (t) => ps.some(p => p(t)) }
    case 'not': { const p = buildPred(n.item, ctx, semis, engine); return (t) => !p(t) }
    case 'cond': return condPred(n, ctx, semis, engine)
  }
}

function condPred (
  n: CondNode,
  ctx: ExecCtx,
  semis: Map<CondNode, Set<Value>>,
  engine: SoqlEngine
): (t: Target) => boolean {
  const f = n.field
  const get = (t: Target): Value => norm(f, n.get(t, ctx))
  if (n.semi) {
    const set = engine.semiValues(n, ctx, semis)
    return n.op === 'IN' ? (t) => { const v = get(t); return v !== null && set.has(v) } : (t) => { const v = get(t); return v === null || !set.has(v) }
  }
  const lit: Lit = n.values[0] ?? null
  switch (n.op) {
    case '=':
      if (isRange(lit)) {
        return (t) => {
          const v = get(t)
          return v !== null && compareValues(v, lit.range[0]) >= 0 && compareValues(v, lit.range[1]) < 0
        }
      }
      return (t) => get(t) === lit
    case '!=':
      if (isRange(lit)) {
        return (t) => {
          const v = get(t)
          return v === null || compareValues(v, lit.range[0]) < 0 || compareValues(v, lit.range[1]) >= 0
        }
      }
      return (t) => get(t) !== lit
    case '<': case '<=': case '>': case '>=': {
      const op = n.op
      return (t) => {
        const v = get(t)
        if (v === null || lit === null) return false
        if (isRange(lit)) {
          if (op === '<') return compareValues(v, lit.range[0]) < 0
          if (op === '<=') return compareValues(v, lit.range[1]) < 0
          if (op === '>') return compareValues(v, lit.range[1]) >= 0
          return compareValues(v, lit.range[0]) >= 0
        }
        const c = compareValues(v, lit)
        return op === '<' ? c < 0 : op === '<=' ? c <= 0 : op === '>' ? c > 0 : c >= 0
      }
    }
    case 'LIKE': {
      const re = n.like as RegExp
      return (t) => { const v = n.get(t, ctx); return v !== null && re.test(String(v)) }
    }
    case 'IN': case 'NOT IN': {
      const set = new Set(n.values.filter(v => !isRange(v)))
      return n.op === 'IN' ? (t) => { const v = get(t); return v !== null && set.has(v) } : (t) => !set.has(get(t))
    }
    case 'INCLUDES': case 'EXCLUDES': {
      const wanted = n.values.map(v => String(v).split(';').map(s => s.trim().toLowerCase()))
      const match = (t: Target): boolean => {
        const v = n.get(t, ctx)
        if (v === null) return false
        const have = new Set(String(v).toLowerCase().split(';'))
        return wanted.some(all => all.every(w => have.has(w)))
      }
      return n.op === 'INCLUDES' ? match : (t) => !match(t)
    }
    default:
      throw new SfError(400, 'MALFORMED_QUERY', `unexpected token: ${n.op}`)
  }
}

function parseErrorMessage (soql: string, msg: string): string {
  const m = /but found --> '(.*?)' <--/s.exec(msg) ?? /but found: '(.*?)'/s.exec(msg)
  const tok = m ? m[1] : ''
  if (tok === '') return 'unexpected token: <EOF>'
  void soql
  return `unexpected token: ${tok}`
}
