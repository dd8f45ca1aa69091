import { InvalidRequest } from '../errors.ts'
import { normalizeId } from '@applink-actions/platform/ids'

/** A value already rendered as SOQL, passed through `soql` unchanged. */
export class SoqlFragment {
  readonly text: string
  constructor (text: string) { this.text = text }
  toString (): string { return this.text }
}

export type SoqlValue = string | number | boolean | null | Date | SoqlFragment | ReadonlyArray<string | number>

const ESCAPES: Record<string, string> = {
  '\\': '\\\\', "'": "\\'", '"': '\\"', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\b': '\\b', '\f': '\\f'
}

/** A SOQL string literal: the complete escape table of the SOQL reference, in quotes. */
export function quoteLiteral (value: string): string {
  return `'${value.replace(/[\\'"\n\r\t\b\f]/g, (c) => ESCAPES[c] ?? c)}'`
}

/** A LIKE pattern that matches `value` literally: `%` and `_` escaped as well. */
export function likeLiteral (value: string, mode: 'contains' | 'startsWith' | 'exact' = 'contains'): SoqlFragment {
  const escaped = quoteLiteral(value).slice(1, -1).replace(/[%_]/g, (c) => `\\${c}`)
  return new SoqlFragment(`'${mode === 'contains' ? '%' : ''}${escaped}${mode === 'exact' ? '' : '%'}'`)
}

/** The 18-character form of a 15- or 18-character id; a malformed one is the caller's error. */
export function toId18 (id: string, field?: string): string {
  const normalized = normalizeId(id)
  if (normalized === undefined) throw new InvalidRequest(`${id.slice(0, 40)} is not a valid Salesforce id (its last 3 characters do not match the first 15)`, field === undefined ? [] : [field])
  return normalized
}

function render (value: SoqlValue): string {
  if (value instanceof SoqlFragment) return value.text
  if (value === null) return 'null'
  if (typeof value === 'boolean') return value ? 'true' : 'false'
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidRequest('a number in a query must be finite')
    return String(value)
  }
  if (value instanceof Date) return value.toISOString().replace(/\.\d{3}Z$/, 'Z')
  if (Array.isArray(value)) {
    if (value.length === 0) throw new InvalidRequest('a list in a query must not be empty')
    return `(${value.map((v) => render(v)).join(', ')})`
  }
  return quoteLiteral(value as string)
}

/**
 * The one way to build SOQL: identifiers are written in the template by the developer, and every
 * interpolated value becomes an escaped literal, never query text.
 *
 *   soql`SELECT Id FROM Opportunity WHERE Id = ${id} AND StageName IN ${stages}`
 */
export function soql (strings: TemplateStringsArray, ...values: SoqlValue[]): string {
  return strings.reduce((query, part, i) => query + part + (i < values.length ? render(values[i] as SoqlValue) : ''), '')
}
