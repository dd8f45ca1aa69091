// operationIds, schema names and property names become Apex identifiers in the generated
// HerokuAppLink.<Client> classes, so they must obey Apex's naming rules.

// The Apex Developer Guide's "Reserved Keywords" table (words usable only as keywords).
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
])

const MAX_APEX_IDENTIFIER = 255

/** Why `name` cannot be an Apex identifier, or undefined when it can. Reserved words are checked separately. */
export function apexIdentifierProblem (name: string): string | undefined {
  if (name.length === 0) return 'is empty'
  if (name.length > MAX_APEX_IDENTIFIER) return `is longer than ${MAX_APEX_IDENTIFIER} characters`
  if (!/^[A-Za-z]/.test(name)) return 'must start with a letter'
  if (!/^[A-Za-z0-9_]+$/.test(name)) return 'may contain only letters, digits and underscores'
  if (name.includes('__')) return 'must not contain two consecutive underscores'
  if (name.endsWith('_')) return 'must not end with an underscore'
  return undefined
}

export function isApexReserved (name: string): boolean {
  return APEX_RESERVED_WORDS.has(name.toLowerCase())
}
