import { InvalidRequest } from '../errors.ts'

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

const ID = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/
const CHECKSUM_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'

/** The 18-character form of a 15- or 18-character id (checksum of the case of each block of 5). */
export function toId18 (id: string): string {
  if (!ID.test(id)) throw new InvalidRequest(`${id.slice(0, 40)} is not a Salesforce id`)
  if (id.length === 18) return id
  let suffix = ''
  for (let block = 0; block < 3; block++) {
    let bits = 0
    for (let i = 0; i < 5; i++) {
      const c = id.charCodeAt(block * 5 + i)
      if (c >= 65 && c <= 90) bits |= 1 << i
    }
    suffix += CHECKSUM_CHARS[bits]
  }
  return id + suffix
}

/** True when an 18-character id's checksum matches its first 15 characters. */
export function isValidId (id: string): boolean {
  return ID.test(id) && (id.length === 15 || toId18(id.slice(0, 15)) === id.slice(0, 15) + id.slice(15).toUpperCase())
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

/** A date literal (`YYYY-MM-DD`) for date fields. */
export const dateLiteral = (date: Date): SoqlFragment => new SoqlFragment(date.toISOString().slice(0, 10))
