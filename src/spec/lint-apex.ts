// operationIds, schema names and property names become Apex identifiers in the generated
// HerokuAppLink.<Client> classes. Salesforce does not reject a name Apex cannot use: it renames it.

// The Apex Developer Guide's "Reserved Keywords" table: "The following words can only be used as keywords."
export const APEX_RESERVED_WORDS: ReadonlySet<string> = new Set([
  'abstract', 'activate', 'and', 'any', 'array', 'as', 'asc', 'autonomous', 'begin', 'bigdecimal',
  'blob', 'boolean', 'break', 'bulk', 'by', 'byte', 'case', 'cast', 'catch', 'char', 'class',
  'collect', 'commit', 'const', 'continue', 'currency', 'date', 'datetime', 'decimal', 'default',
  'delete', 'desc', 'do', 'double', 'else', 'end', 'enum', 'exception', 'exit', 'export', 'extends',
  'false', 'final', 'finally', 'float', 'for', 'from', 'global', 'goto', 'group', 'having', 'hint',
  'if', 'implements', 'import', 'in', 'inner', 'insert', 'instanceof', 'int', 'integer',
  'interface', 'into', 'join', 'like', 'limit', 'list', 'long', 'loop', 'map', 'merge', 'new',
  'not', 'null', 'nulls', 'number', 'object', 'of', 'on', 'or', 'outer', 'override', 'package',
  'parallel', 'pragma', 'private', 'protected', 'public', 'retrieve', 'return', 'rollback',
  'select', 'set', 'short', 'sobject', 'sort', 'static', 'string', 'super', 'switch',
  'synchronized', 'system', 'testmethod', 'then', 'this', 'throw', 'time', 'transaction',
  'trigger', 'true', 'try', 'undelete', 'update', 'upsert', 'using', 'virtual', 'void',
  'webservice', 'when', 'where', 'while',
  // Not in the table, but renamed all the same: `type` became `z0type` (issue 13).
  'type',
])

export function isApexReserved (name: string): boolean {
  return APEX_RESERVED_WORDS.has(name.toLowerCase())
}

/**
 * The Apex name External Services generates for a name from the spec. INFERRED, not documented:
 * from the renames observed in generated classes (issue 13: `type` → `z0type`, `_` → `x5f`), every
 * character other than a letter or digit becomes `x` and its hex code, and a reserved word or a name
 * that does not start with a letter gets the prefix `z0`.
 */
export function apexName (name: string): string {
  const hex = (c: string) => `x${(c.codePointAt(0) ?? 0).toString(16)}`
  const encoded = [...name].map((c) => (/[A-Za-z0-9]/.test(c) ? c : hex(c))).join('')
  return isApexReserved(encoded) || !/^[A-Za-z]/.test(encoded) ? `z0${encoded}` : encoded
}
