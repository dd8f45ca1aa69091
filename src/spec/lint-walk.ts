import type { JsonPath } from './lint-path.ts'

export type Obj = Record<string, unknown>

export function isObject (value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const

export interface OperationRef {
  path: JsonPath
  method: (typeof HTTP_METHODS)[number]
  operation: Obj
}

export function operations (doc: Obj): OperationRef[] {
  const found: OperationRef[] = []
  if (!isObject(doc.paths)) return found
  for (const [route, item] of Object.entries(doc.paths)) {
    if (!isObject(item)) continue
    for (const method of HTTP_METHODS) {
      const operation = item[method]
      if (isObject(operation)) found.push({ path: ['paths', route, method], method, operation })
    }
  }
  return found
}

export function isSuccessStatus (status: string): boolean {
  return /^2(\d\d|XX)$/.test(status)
}

/** Visits a schema and every schema nested in it, without following $ref (each is checked where it is defined). */
export function walkSchema (schema: unknown, path: JsonPath, visit: (schema: Obj, path: JsonPath) => void): void {
  if (!isObject(schema)) return
  visit(schema, path)
  if ('$ref' in schema) return
  if (isObject(schema.properties)) {
    for (const [name, child] of Object.entries(schema.properties)) walkSchema(child, [...path, 'properties', name], visit)
  }
  for (const key of ['items', 'additionalProperties', 'not'] as const) walkSchema(schema[key], [...path, key], visit)
  for (const key of ['allOf', 'oneOf', 'anyOf'] as const) {
    const list = schema[key]
    if (Array.isArray(list)) list.forEach((child, i) => walkSchema(child, [...path, key, i], visit))
  }
}

// Example payloads and vendor extensions hold arbitrary data, not OpenAPI objects.
function isOpaque (key: string): boolean {
  return key.startsWith('x-') || key === 'example' || key === 'examples'
}

/** Visits every schema in the document: component schemas and every `schema` of a parameter, media type or header. */
export function walkAllSchemas (doc: Obj, visit: (schema: Obj, path: JsonPath) => void): void {
  const scan = (node: unknown, path: JsonPath): void => {
    if (Array.isArray(node)) {
      node.forEach((child, i) => scan(child, [...path, i]))
      return
    }
    if (!isObject(node)) return
    const inComponentSchemas = path.length === 2 && path[0] === 'components' && path[1] === 'schemas'
    for (const [key, child] of Object.entries(node)) {
      if (isOpaque(key)) continue
      if (inComponentSchemas || key === 'schema') walkSchema(child, [...path, key], visit)
      else scan(child, [...path, key])
    }
  }
  scan(doc, [])
}

/** Visits every value in the document, vendor extensions included (descriptions there are published too). */
export function walkValues (
  node: unknown,
  path: JsonPath,
  visit: (key: string, value: unknown, path: JsonPath) => void
): void {
  if (Array.isArray(node)) {
    node.forEach((child, i) => walkValues(child, [...path, i], visit))
    return
  }
  if (!isObject(node)) return
  for (const [key, child] of Object.entries(node)) {
    if (key === 'example' || key === 'examples') continue
    visit(key, child, [...path, key])
    walkValues(child, [...path, key], visit)
  }
}
