// What Salesforce External Services rejects, renames or silently drops when it registers the spec,
// and what Flow cannot use of what it registers. Each rule's document is in lint-rules.ts.
import { apexName } from './lint-apex.ts'
import type { JsonPath } from './lint-path.ts'
import type { Report } from './lint-report.ts'
import { isObject, isSuccessStatus, operations, walkAllSchemas, walkValues, type Obj } from './lint-walk.ts'

export const MAX_DESCRIPTION_CHARS = 1333
export const MAX_YAML_CHARS = 3_000_000

function warnIfRenamed (name: string, path: JsonPath, what: string, report: Report): void {
  const generated = apexName(name)
  if (generated !== name) report('name-renamed', path, `${what} "${name}" is not a usable Apex name; Salesforce generates "${generated}"`)
}

export function lintOperationIds (doc: Obj, report: Report): void {
  const seen = new Map<string, string>()
  for (const { path, operation } of operations(doc)) {
    const id = operation.operationId
    if (typeof id !== 'string' || id === '') {
      report('operation-id-missing', path, 'without an operationId Salesforce derives the Apex method and Flow action name from the path')
      continue
    }
    const idPath = [...path, 'operationId']
    warnIfRenamed(id, idPath, 'operationId', report)
    const first = seen.get(id)
    if (first) report('operation-id-duplicate', idPath, `operationId "${id}" is already used by ${first}`)
    else seen.set(id, `${path[2]?.toString().toUpperCase()} ${path[1]}`)
  }
}

export function lintNames (doc: Obj, report: Report): void {
  const schemas = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {}
  for (const name of Object.keys(schemas)) warnIfRenamed(name, ['components', 'schemas', name], 'schema name', report)
  walkAllSchemas(doc, (schema, path) => {
    if (!isObject(schema.properties)) return
    for (const name of Object.keys(schema.properties)) warnIfRenamed(name, [...path, 'properties', name], 'property', report)
  })
}

const COMPOSITIONS = ['$ref', 'allOf', 'oneOf', 'anyOf'] as const

export function lintSchemas (doc: Obj, report: Report): void {
  walkAllSchemas(doc, (schema, path) => {
    if ('not' in schema) report('schema-not', [...path, 'not'], '`not` is not among the constructs External Services supports')
    if (!COMPOSITIONS.some((key) => key in schema) && typeof schema.type !== 'string') {
      report('schema-untyped', path, 'a schema without a type becomes an Apex Object, which Flow cannot use: declare its type')
    }
    if (isObject(schema.items) && schema.items.type === 'array') {
      report('flow-nested-array', [...path, 'items'], 'an array of arrays becomes List<List<T>>, which Flow cannot use')
    }
    const extra = schema.additionalProperties
    if (extra === true || isObject(extra)) {
      report('flow-map', [...path, 'additionalProperties'], 'additionalProperties becomes an Apex Map, which Flow cannot use')
    }
  })
}

export function lintOperations (doc: Obj, report: Report): void {
  for (const { path, method, operation } of operations(doc)) {
    if (method === 'get' && 'requestBody' in operation) {
      report('get-request-body', [...path, 'requestBody'], 'a GET operation must not have a request body')
    }
    const responses = isObject(operation.responses) ? operation.responses : {}
    if (!Object.keys(responses).some(isSuccessStatus)) {
      report('success-response-missing', [...path, 'responses'], 'without a 2xx response the action has no outputs')
    }
    if ('callbacks' in operation) {
      report('callbacks-apex-only', [...path, 'callbacks'], 'an operation with callbacks can be called from Apex only, not from Flow')
    }
  }
}

export function lintParametersAndHeaders (doc: Obj, report: Report): void {
  walkValues(doc, [], (key, value, path) => {
    // Responses live under `responses` maps (operations and components alike).
    if (path.at(-3) === 'responses' && key === 'headers') {
      report('response-headers', path, 'External Services ignores response headers; move the data into the body')
    }
    if (key === 'in' && value === 'cookie') {
      report('cookie-parameter', path.slice(0, -1), 'cookie parameters are not among those External Services supports')
    }
  })
}

export function lintSizes (doc: Obj, yamlText: string, report: Report): void {
  walkValues(doc, [], (key, value, path) => {
    if (key === 'description' && typeof value === 'string' && value.length > MAX_DESCRIPTION_CHARS) {
      report('description-too-long', path, `description has ${value.length} characters; Salesforce cuts it at ${MAX_DESCRIPTION_CHARS}`)
    }
  })
  if (yamlText.length >= MAX_YAML_CHARS) {
    report('document-too-large', [], `the YAML document has ${yamlText.length} characters; the limit is under ${MAX_YAML_CHARS}`)
  }
}
