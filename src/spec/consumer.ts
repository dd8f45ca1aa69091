// What Salesforce generates from the spec when AppLink publishes it as the External Service
// <Client>: the Apex classes and members of HerokuAppLink.<Client>, and which of them Flow can use.
// test/spec/consumer.test.ts holds the Apex and Flows in salesforce/ to exactly this.
//
// Where each name comes from:
// - HerokuAppLink.<Client>, a method per operation taking <op>_Request (its request body in `body`)
//   and answering with Code200, and component schemas as HerokuAppLink.<Client>_<Schema>: Heroku's
//   sample heroku-applink-pattern-org-action (src-apex/GenerateQuote.apex): `HerokuAppLink.GenerateQuote
//   service = new HerokuAppLink.GenerateQuote();`, `HerokuAppLink.GenerateQuote.generateQuote_Request`,
//   `HerokuAppLink.GenerateQuote_QuoteGenerationRequest body = ...; request.body = body;` and
//   `service.generateQuote(request).Code200.quoteId`.
// - <op>_Response and <op>_ResponseException (non-2xx answers, Code<status>): names listed in issue 13
//   (QuoteService.cls catches the exception); their members are INFERRED by analogy with Code200.
// - Inline schemas: <Client>_<op>_IN_body for a request body (the name docs/publishing.md records),
//   <Client>_<op>_OUT_<status> for a response and <Parent>_<property> for a nested object: INFERRED,
//   not confirmed against an org.
// - Renamed members: apexName (lint-apex.ts), INFERRED.
// - Types: Salesforce Help, "Schema Definitions" (supported data types; "any type (as Apex Object)";
//   "Nested anonymous arrays generate a List<List<T>> Apex type, which isn't supported as a field on an
//   Apex-defined variable in Flow"), and "Structure Data Using properties and additionalProperties"
//   ("grouped as the Apex property with name properties and type Map<String, Type>").
// - Flow: "External Services' asynchronous callback operations are supported in Apex but not in Flow."
//   (Salesforce Help, "Callouts and Callbacks: Limits and Usage"); Flow names an Apex-defined type of the
//   service herokuapplink__<Class> (the example Flow's variable), INFERRED.
import { apexName } from './lint-apex.ts'
import { isObject, isSuccessStatus, operations, type Obj } from './lint-walk.ts'

export const APEX_NAMESPACE = 'HerokuAppLink'
export const FLOW_NAMESPACE = 'herokuapplink__'

export interface GeneratedClass {
  /** Apex name, e.g. HerokuAppLink.AppLinkActions_ErrorBody */
  name: string
  /** Field name → Apex type (`String`, `List<HerokuAppLink.X>`, `Map<String, Integer>`, `Object`) */
  fields: Map<string, string>
  /** Method name → Apex return type */
  methods: Map<string, string>
}

export interface FlowAction {
  /** `<Client>.<op>` as a Flow's actionName */
  name: string
  inputs: string[]
  /** False for callback operations, which only Apex can call. */
  flowUsable: boolean
}

export interface GeneratedService {
  client: string
  /** By lower-cased Apex name: Apex names are case-insensitive. */
  classes: Map<string, GeneratedClass>
  actions: Map<string, FlowAction>
}

const EXCEPTION_METHODS = ['getMessage', 'getCause', 'getTypeName', 'getStackTraceString', 'getLineNumber']

function primitive (schema: Obj): string | undefined {
  switch (schema.type) {
    case 'string':
      if (schema.format === 'date') return 'Date'
      if (schema.format === 'date-time') return 'Datetime'
      return schema.format === 'binary' || schema.format === 'byte' ? 'Blob' : 'String'
    case 'integer': return schema.format === 'int64' ? 'Long' : 'Integer'
    case 'number': return 'Double'
    case 'boolean': return 'Boolean'
    default: return undefined
  }
}

/** The JSON media type object of a request body or response. */
function jsonOf (node: unknown): unknown {
  return isObject(node) && isObject(node.content) ? node.content['application/json'] : undefined
}

export function generatedService (spec: Obj, client: string): GeneratedService {
  const classes = new Map<string, GeneratedClass>()
  const qualified = (name: string) => `${APEX_NAMESPACE}.${name}`
  const define = (name: string, fields = new Map<string, string>(), methods = new Map<string, string>()) => {
    const generated = { name: qualified(name), fields, methods }
    classes.set(generated.name.toLowerCase(), generated)
    return generated
  }

  const typeOf = (schema: unknown, inlineName: string): string => {
    if (!isObject(schema)) return 'Object'
    if (typeof schema.$ref === 'string') {
      const target = /^#\/components\/schemas\/(.+)$/.exec(schema.$ref)?.[1] ?? ''
      return qualified(`${client}_${apexName(target)}`)
    }
    const simple = primitive(schema)
    if (simple !== undefined) return simple
    if (schema.type === 'array') return `List<${typeOf(schema.items, inlineName)}>`
    if (schema.type === 'object' || isObject(schema.properties)) return objectClass(schema, inlineName).name
    return 'Object'
  }

  const objectClass = (schema: Obj, name: string): GeneratedClass => {
    const fields = new Map<string, string>()
    for (const [property, child] of Object.entries(isObject(schema.properties) ? schema.properties : {})) {
      const member = apexName(property)
      fields.set(member, typeOf(child, `${name}_${member}`))
    }
    const extra = schema.additionalProperties
    if (extra === true || isObject(extra)) {
      fields.set('properties', `Map<String, ${typeOf(extra, `${name}_properties`)}>`)
    }
    return define(name, fields)
  }

  const components = isObject(spec.components) && isObject(spec.components.schemas) ? spec.components.schemas : {}
  for (const [name, schema] of Object.entries(components)) {
    if (isObject(schema)) objectClass(schema, `${client}_${apexName(name)}`)
  }

  const serviceMethods = new Map<string, string>()
  const actions = new Map<string, FlowAction>()
  for (const { operation } of operations(spec)) {
    if (typeof operation.operationId !== 'string') continue
    const op = apexName(operation.operationId)
    const inner = (suffix: string) => `${client}.${op}_${suffix}`
    const request = new Map<string, string>()
    for (const parameter of Array.isArray(operation.parameters) ? operation.parameters : []) {
      if (isObject(parameter) && typeof parameter.name === 'string') {
        const member = apexName(parameter.name)
        request.set(member, typeOf(parameter.schema, `${client}_${op}_IN_${member}`))
      }
    }
    const body = jsonOf(operation.requestBody)
    if (isObject(body)) request.set('body', typeOf(body.schema, `${client}_${op}_IN_body`))
    const answers = new Map<string, string>()
    const failures = new Map<string, string>()
    for (const [status, response] of Object.entries(isObject(operation.responses) ? operation.responses : {})) {
      const content = jsonOf(response)
      if (!isObject(content)) continue
      const type = typeOf(content.schema, `${client}_${op}_OUT_${status}`)
      ;(isSuccessStatus(status) ? answers : failures).set(`Code${status}`, type)
    }
    define(inner('Request'), request)
    define(inner('Response'), answers)
    define(inner('ResponseException'), failures, new Map(EXCEPTION_METHODS.map((m) => [m, 'String'])))
    serviceMethods.set(op, qualified(inner('Response')))
    const action = `${client}.${op}`
    actions.set(action, { name: action, inputs: [...request.keys()], flowUsable: !('callbacks' in operation) })
  }
  define(client, new Map(), serviceMethods)
  return { client, classes, actions }
}

/** The element type of `List<T>`, or undefined for any other type. */
export function listElement (type: string): string | undefined {
  return /^List<(.+)>$/.exec(type)?.[1]
}

/**
 * Whether a Flow variable can hold the class: every field a primitive, an Apex-defined class Flow can
 * hold, or a list of those. Not: Object (untyped), maps, lists of lists.
 */
export function flowUsable (service: GeneratedService, className: string, seen = new Set<string>()): boolean {
  const generated = service.classes.get(className.toLowerCase())
  if (generated === undefined) return false
  if (seen.has(generated.name)) return true
  seen.add(generated.name)
  return [...generated.fields.values()].every((type) => {
    const element = listElement(type) ?? type
    if (element === 'Object' || element.startsWith('Map<') || element.startsWith('List<')) return false
    return !element.startsWith(`${APEX_NAMESPACE}.`) || flowUsable(service, element, seen)
  })
}

/** Flow's name of a top-level class of the service: herokuapplink__<Client>_<...>. */
export function flowClassName (apexClassName: string): string {
  return `${FLOW_NAMESPACE}${apexClassName.slice(APEX_NAMESPACE.length + 1)}`
}
