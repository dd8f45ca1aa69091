// Salesforce record ids: 15 case-sensitive characters (3-character key prefix) plus a 3-character
// case-insensitive checksum suffix that makes the 18-character form.

const SUFFIX_CHARS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ012345'
/** 15 or 18 letters and digits: the shape of an id, for JSON Schema `pattern` and for code. */
export const SALESFORCE_ID_PATTERN = '^[a-zA-Z0-9]{15}(?:[a-zA-Z0-9]{3})?$'
const ID_SHAPE = new RegExp(SALESFORCE_ID_PATTERN)

/** The 3-character checksum of a 15-character id: one character per block of 5, from the case of each. */
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

/** True for a 15-character id, or an 18-character id whose suffix matches its first 15 characters. */
export function isValidId (id: unknown): id is string {
  if (typeof id !== 'string' || !ID_SHAPE.test(id)) return false
  if (id.length === 15) return true
  return idChecksum(id.slice(0, 15)) === id.slice(15).toUpperCase()
}

/** The canonical 18-character form of a valid id; undefined if malformed. */
export function normalizeId (id: unknown): string | undefined {
  if (!isValidId(id)) return undefined
  return id.slice(0, 15) + idChecksum(id.slice(0, 15))
}
