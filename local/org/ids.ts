// Salesforce record ids: 15 case-sensitive characters (3-character key prefix) plus a 3-character
// case-insensitive checksum suffix that makes the 18-character form.

const SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'
const ID_SHAPE = /^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$/

/** The 3-character checksum of a 15-character id. */
export function idChecksum (id15: string): string {
  let out = ''
  for (let chunk = 0; chunk < 3; chunk++) {
    let bits = 0
    for (let i = 0; i < 5; i++) {
      const c = id15.charCodeAt(chunk * 5 + i)
      if (c >= 65 && c <= 90) bits |= 1 << i
    }
    out += SUFFIX_CHARS[bits]
  }
  return out
}

/** Adds the checksum to a 15-character id; returns an 18-character id unchanged. */
export function to18 (id: string): string {
  return id.length === 15 ? id + idChecksum(id) : id
}

/** True for a 15-character id, or an 18-character id whose suffix matches its first 15 characters. */
export function isValidId (id: unknown): id is string {
  if (typeof id !== 'string' || !ID_SHAPE.test(id)) return false
  if (id.length === 15) return true
  return idChecksum(id.slice(0, 15)) === id.slice(15).toUpperCase()
}

/** Normalises a valid id (15 or 18) to its canonical 18-character form; undefined if malformed. */
export function normalizeId (id: unknown): string | undefined {
  if (!isValidId(id)) return undefined
  return id.length === 15 ? id + idChecksum(id) : id.slice(0, 15) + idChecksum(id.slice(0, 15))
}

/** Generates ids: prefix + 2-character pod + 10-character base62 counter + checksum. */
export class IdGenerator {
  counter: number
  readonly pod: string

  constructor (start = 1, pod = 'Lo') {
    this.counter = start
    this.pod = pod
  }

  next (prefix: string): string {
    let n = this.counter++
    let body = ''
    for (let i = 0; i < 10; i++) {
      body = BASE62[n % 62] + body
      n = Math.floor(n / 62)
    }
    const id15 = prefix + this.pod + body
    return id15 + idChecksum(id15)
  }
}
