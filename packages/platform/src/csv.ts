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

/** One field, quoted when it holds the delimiter, a quote or a line break (RFC 4180). */
export function csvField (value: string, delimiter: ColumnDelimiter): string {
  const sep = DELIMITERS[delimiter]
  return value.includes(sep) || /["\r\n]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value
}

export function csvLine (values: string[], delimiter: ColumnDelimiter, lineEnding: LineEnding): string {
  return values.map((v) => csvField(v, delimiter)).join(DELIMITERS[delimiter]) + NEWLINES[lineEnding]
}
