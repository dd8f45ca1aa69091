// JSON paths in the form people paste into jq / JSONPath tools: $.paths['/actions/x'].post.operationId
export type PathSegment = string | number
export type JsonPath = readonly PathSegment[]

const PLAIN_KEY = /^[A-Za-z_$][A-Za-z0-9_$]*$/

export function formatPath (path: JsonPath): string {
  let out = '$'
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`
    else if (PLAIN_KEY.test(segment)) out += `.${segment}`
    else out += `['${segment.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}']`
  }
  return out
}

// swagger-parser (Ajv) reports JSON Pointers (/paths/~1actions~1x/post). A digit segment is an
// array index only where `doc` holds an array; elsewhere ('200' under responses) it is a key.
export function pointerToPath (pointer: string, doc: unknown): JsonPath {
  const path: PathSegment[] = []
  let node = doc
  for (const raw of pointer.replace(/^#/, '').split('/').slice(1)) {
    const key = raw.replaceAll('~1', '/').replaceAll('~0', '~')
    const segment = Array.isArray(node) && /^\d+$/.test(key) ? Number(key) : key
    path.push(segment)
    node = typeof node === 'object' && node !== null ? (node as Record<PathSegment, unknown>)[segment] : undefined
  }
  return path
}
