// Salesforce date and datetime formats, and SOQL date literals as [start, end) ranges in UTC.

const DAY = 86_400_000

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'))
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, '0'))
/** `YYYY-MM-DDT` by day number: a seed writes a few million datetimes over a few hundred days. */
const dayPrefixes = new Map<number, string>()
/**
 * A datetime is copied through these bytes to come out as one flat 28-byte string: concatenated, it
 * would be a chain of ten string pieces, and a million-account seed keeps ten million datetimes.
 */
const dateTimeBytes = Buffer.alloc(28)
/** Years 0000-9999: the ones toISOString writes with four digits (Date.UTC would read year 0 as 1900). */
const FIRST_FOUR_DIGIT_MS = Date.parse('0000-01-01T00:00:00.000Z')
const LAST_FOUR_DIGIT_MS = Date.parse('9999-12-31T23:59:59.999Z')

/** Whether `s` has the one form the org writes datetimes in (fmtDateTime's). */
export function isOwnDateTime (s: string): boolean {
  return s.length === 28 && s[10] === 'T' && s.endsWith('+0000')
}

/** `2024-05-01T12:00:00.000+0000`, as the REST API writes datetimes (toISOString's, made faster). */
export function fmtDateTime (ms: number): string {
  if (!Number.isInteger(ms) || ms < FIRST_FOUR_DIGIT_MS || ms > LAST_FOUR_DIGIT_MS) {
    return new Date(ms).toISOString().replace('Z', '+0000')
  }
  const day = Math.floor(ms / DAY)
  let prefix = dayPrefixes.get(day)
  if (prefix === undefined) {
    prefix = new Date(day * DAY).toISOString().slice(0, 11)
    if (dayPrefixes.size < 100_000) dayPrefixes.set(day, prefix)
  }
  let rest = ms - day * DAY
  const hours = Math.floor(rest / 3_600_000)
  rest -= hours * 3_600_000
  const minutes = Math.floor(rest / 60_000)
  rest -= minutes * 60_000
  const seconds = Math.floor(rest / 1000)
  const text = `${prefix}${TWO_DIGITS[hours] as string}:${TWO_DIGITS[minutes] as string}:` +
    `${TWO_DIGITS[seconds] as string}.${THREE_DIGITS[rest - seconds * 1000] as string}+0000`
  dateTimeBytes.write(text, 0, 'latin1')
  return dateTimeBytes.toString('latin1', 0, 28)
}

export function fmtDate (ms: number): string {
  return new Date(ms).toISOString().slice(0, 10)
}

const DT = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/

/** Parses a date or datetime string into epoch ms (UTC when no zone); NaN when invalid. */
export function parseDateTime (s: string): number {
  // The form the org writes (fmtDateTime), read by Date.parse: several times faster than the pattern.
  // Date.parse rolls 30 February over into March, which is no datetime.
  if (isOwnDateTime(s)) {
    const ms = Date.parse(`${s.slice(0, 23)}Z`)
    if (!Number.isNaN(ms)) return new Date(ms).getUTCDate() === Number(s.slice(8, 10)) ? ms : NaN
  }
  const m = DT.exec(s.trim())
  if (!m) return NaN
  const [, y = '', mo = '', d = '', h = '0', mi = '0', sec = '0', frac = '0', zone] = m
  let ms = Date.UTC(+y, +mo - 1, +d, +h, +mi, +sec, Math.round(Number('0.' + frac) * 1000))
  const check = new Date(ms)
  if (check.getUTCDate() !== +d || check.getUTCMonth() !== +mo - 1) return NaN
  if (zone && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1
    const z = zone.slice(1).replace(':', '')
    ms -= sign * (Number(z.slice(0, 2)) * 60 + Number(z.slice(2))) * 60_000
  }
  return ms
}

export function isDateString (s: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(s) && !Number.isNaN(parseDateTime(s))
}

function startOfDay (ms: number): number {
  return Math.floor(ms / DAY) * DAY
}

function monthStart (y: number, m: number): number {
  return Date.UTC(y, m, 1)
}

/** [start, end) in epoch ms for a SOQL date literal such as TODAY or LAST_N_DAYS:30; undefined if unknown. */
export function dateLiteralRange (literal: string, now: number): [number, number] | undefined {
  const [rawName = '', rawN] = literal.toUpperCase().split(':')
  const name = rawName.trim()
  const n = rawN === undefined ? 0 : Number(rawN)
  const today = startOfDay(now)
  const d = new Date(today)
  const y = d.getUTCFullYear()
  const mo = d.getUTCMonth()
  const weekStart = today - d.getUTCDay() * DAY // weeks start on Sunday (en_US)
  const q = Math.floor(mo / 3)
  switch (name) {
    case 'YESTERDAY': return [today - DAY, today]
    case 'TODAY': return [today, today + DAY]
    case 'TOMORROW': return [today + DAY, today + 2 * DAY]
    case 'LAST_WEEK': return [weekStart - 7 * DAY, weekStart]
    case 'THIS_WEEK': return [weekStart, weekStart + 7 * DAY]
    case 'NEXT_WEEK': return [weekStart + 7 * DAY, weekStart + 14 * DAY]
    case 'LAST_MONTH': return [monthStart(y, mo - 1), monthStart(y, mo)]
    case 'THIS_MONTH': return [monthStart(y, mo), monthStart(y, mo + 1)]
    case 'NEXT_MONTH': return [monthStart(y, mo + 1), monthStart(y, mo + 2)]
    case 'LAST_90_DAYS': return [today - 90 * DAY, today + DAY]
    case 'NEXT_90_DAYS': return [today + DAY, today + 91 * DAY]
    case 'LAST_N_DAYS': return [today - n * DAY, today + DAY]
    case 'NEXT_N_DAYS': return [today + DAY, today + (n + 1) * DAY]
    case 'N_DAYS_AGO': return [today - n * DAY, today - (n - 1) * DAY]
    case 'N_DAYS_FROM_NOW': return [today + n * DAY, today + (n + 1) * DAY]
    case 'LAST_N_WEEKS': return [weekStart - 7 * n * DAY, weekStart]
    case 'NEXT_N_WEEKS': return [weekStart + 7 * DAY, weekStart + 7 * (n + 1) * DAY]
    case 'N_WEEKS_AGO': return [weekStart - 7 * n * DAY, weekStart - 7 * (n - 1) * DAY]
    case 'LAST_N_MONTHS': return [monthStart(y, mo - n), monthStart(y, mo)]
    case 'NEXT_N_MONTHS': return [monthStart(y, mo + 1), monthStart(y, mo + 1 + n)]
    case 'N_MONTHS_AGO': return [monthStart(y, mo - n), monthStart(y, mo - n + 1)]
    case 'THIS_QUARTER': return [monthStart(y, q * 3), monthStart(y, q * 3 + 3)]
    case 'LAST_QUARTER': return [monthStart(y, q * 3 - 3), monthStart(y, q * 3)]
    case 'NEXT_QUARTER': return [monthStart(y, q * 3 + 3), monthStart(y, q * 3 + 6)]
    case 'LAST_N_QUARTERS': return [monthStart(y, q * 3 - 3 * n), monthStart(y, q * 3)]
    case 'NEXT_N_QUARTERS': return [monthStart(y, q * 3 + 3), monthStart(y, q * 3 + 3 + 3 * n)]
    case 'THIS_YEAR': return [Date.UTC(y, 0, 1), Date.UTC(y + 1, 0, 1)]
    case 'LAST_YEAR': return [Date.UTC(y - 1, 0, 1), Date.UTC(y, 0, 1)]
    case 'NEXT_YEAR': return [Date.UTC(y + 1, 0, 1), Date.UTC(y + 2, 0, 1)]
    case 'LAST_N_YEARS': return [Date.UTC(y - n, 0, 1), Date.UTC(y, 0, 1)]
    case 'NEXT_N_YEARS': return [Date.UTC(y + 1, 0, 1), Date.UTC(y + 1 + n, 0, 1)]
    case 'N_YEARS_AGO': return [Date.UTC(y - n, 0, 1), Date.UTC(y - n + 1, 0, 1)]
    default: return undefined
  }
}
