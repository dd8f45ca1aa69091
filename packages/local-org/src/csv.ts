// Reading CSV uploads as Bulk API 2.0 does; writing (and the dialect's settings) is shared with the
// service in @applink-actions/platform/csv, which cites the rules.
import { DELIMITERS, NEWLINES, type ColumnDelimiter, type LineEnding } from '@applink-actions/platform/csv'

export { DELIMITERS, csvLine, type ColumnDelimiter, type LineEnding } from '@applink-actions/platform/csv'

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
