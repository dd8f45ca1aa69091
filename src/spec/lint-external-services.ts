// What Salesforce External Services rejects or silently drops when it registers the spec.
import { apexIdentifierProblem, isApexReserved } from './lint-apex.ts'
import type { Report } from './lint-report.ts'
import { isObject, isSuccessStatus, operations, walkAllSchemas, walkValues, type Obj } from './lint-walk.ts'

export const MAX_DESCRIPTION_CHARS = 1333
export const MAX_YAML_CHARS = 3_000_000

export function lintOperationIds (doc: Obj, report: Report): void {
  const seen = new Map<string, string>()
  for (const { path, operation } of operations(doc)) {
    const id = operation.operationId
    if (typeof id !== 'string' || id === '') {
      report('operation-id-missing', path, 'every operation needs an operationId: it names the Apex method and the Flow action')
      continue
    }
    const idPath = [...path, 'operationId']
    const problem = apexIdentifierProblem(id)
    if (problem) report('operation-id-apex-identifier', idPath, `operationId "${id}" ${problem}, so it cannot be an Apex identifier`)
    if (isApexReserved(id)) report('operation-id-apex-reserved', idPath, `operationId "${id}" is an Apex reserved word`)
    const first = seen.get(id)
    if (first) report('operation-id-duplicate', idPath, `operationId "${id}" is already used by ${first}`)
    else seen.set(id, `${path[2]?.toString().toUpperCase()} ${path[1]}`)
  }
}

export function lintNames (doc: Obj, report: Report): void {
  const schemas = isObject(doc.components) && isObject(doc.components.schemas) ? doc.components.schemas : {}
  for (const name of Object.keys(schemas)) {
    const problem = apexIdentifierProblem(name)
    if (problem) report('schema-name-apex-identifier', ['components', 'schemas', name], `schema name "${name}" ${problem}; it becomes the Apex class <Client>_${name}`)
  }
  walkAllSchemas(doc, (schema, path) => {
    if (!isObject(schema.properties)) return
    for (const name of Object.keys(schema.properties)) {
      const propertyPath = [...path, 'properties', name]
      const problem = apexIdentifierProblem(name)
      if (problem) report('property-name-apex-identifier', propertyPath, `property "${name}" ${problem}, so it cannot be an Apex field`)
      else if (isApexReserved(name)) report('property-name-apex-reserved', propertyPath, `property "${name}" is an Apex reserved word; the generated field gets renamed`, 'warning')
    }
  })
}

export function lintSchemas (doc: Obj, report: Report): void {
  walkAllSchemas(doc, (schema, path) => {
    if ('not' in schema) report('schema-not', [...path, 'not'], 'External Services does not support `not` in schemas')
    for (const key of ['allOf', 'oneOf', 'anyOf'] as const) {
      if (key in schema && !isObject(schema.discriminator)) {
        report('composition-without-discriminator', [...path, key], `${key} is supported only together with a discriminator`)
      }
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
      report('success-response-missing', [...path, 'responses'], 'an operation needs at least one 2xx response; its outputs come from it')
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
      report('cookie-parameter', path.slice(0, -1), 'cookie parameters are not supported')
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
