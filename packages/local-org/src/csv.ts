// CSV as Bulk API 2.0 reads and writes it: RFC 4180 with the job's column delimiter and line ending.
//
// Bulk API 2.0 Developer Guide, "Valid CSV Record Rows": "If a field value contains a comma, a new
// line, or a double quote, the field value must be contained within double quotes" and "If a field
// value contains a double quote, the double quote must be escaped by preceding it with another double
// quote". "Prepare CSV Files": "specify a line ending that matches the line ending used to create the
// CSV file using the lineEnding request field. Bulk API 2.0 supports two line-ending formats:
// linefeed (LF), and carriage-return plus linefeed (CRLF)."

export const DELIMITERS = { BACKQUOTE: '`', CARET: '^', COMMA: ',', PIPE: '|', SEMICOLON: ';', TAB: '\t' } as const
export type ColumnDelimiter = keyof typeof DELIMITERS
export type LineEnding = 'LF' | 'CRLF'

export const NEWLINES: Record<LineEnding, string> = { LF: '\n', CRLF: '\r\n' }

/** The upload cannot be read at all: the job fails with this message. */
export class CsvError extends Error {}

/**
 * Rows of fields. A quoted field may hold the delimiter, quotes (doubled) and line breaks; outside
 * quotes a line break other than the job's line ending is an error, as Salesforce answers
 * "ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is LF".
 */
export function parseCsv (text: string, delimiter: ColumnDelimiter, lineEnding: LineEnding): string[][] {
  const sep = DELIMITERS[delimiter]
  const eol = NEWLINES[lineEnding]
  const rows: string[][] = []
  let row: string[] = []
  let i = 0
  const badEnding = (): CsvError =>
    new CsvError(`ClientInputError : LineEnding is invalid on user data. Current LineEnding setting is ${lineEnding}`)
  while (i < text.length) {
    let value = ''
    if (text[i] === '"') {
      i++
      for (;;) {
        const quote = text.indexOf('"', i)
        if (quote < 0) throw new CsvError(`ClientInputError : unterminated quoted field in row ${rows.length + 1}`)
        value += text.slice(i, quote)
        if (text[quote + 1] === '"') {
          value += '"'
          i = quote + 2
          continue
        }
        i = quote + 1
        break
      }
      // "A space before or after a double quote generates an error for the row."
      if (i < text.length && text[i] !== sep && !text.startsWith(eol, i)) {
        throw new CsvError(`ClientInputError : unexpected character after a quoted field in row ${rows.length + 1}`)
      }
    } else {
      let end = i
      while (end < text.length && text[end] !== sep && text[end] !== '\n' && text[end] !== '\r') end++
      value = text.slice(i, end)
      i = end
      if (i < text.length && text[i] !== sep && !text.startsWith(eol, i)) throw badEnding()
    }
    row.push(value)
    if (i >= text.length) break
    if (text[i] === sep) {
      i++
      if (i >= text.length) row.push('')
      continue
    }
    i += eol.length
    rows.push(row)
    row = []
  }
  if (row.length > 0) rows.push(row)
  return rows
}

/** One field, quoted when it holds the delimiter, a quote or a line break (RFC 4180). */
export function csvField (value: string, delimiter: ColumnDelimiter): string {
  const sep = DELIMITERS[delimiter]
  return value.includes(sep) || /["\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value
}

export function csvLine (values: string[], delimiter: ColumnDelimiter, lineEnding: LineEnding): string {
  return values.map((v) => csvField(v, delimiter)).join(DELIMITERS[delimiter]) + NEWLINES[lineEnding]
}
