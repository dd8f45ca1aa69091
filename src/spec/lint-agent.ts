// Agentforce: what AppLink needs to create a topic and agent actions from the spec, and where the
// field flags go. Shapes per Heroku Dev Center "Configuring OpenAPI Specification for Heroku
// AppLink"; each rule's document is in lint-rules.ts.
import type { JsonPath } from './lint-path.ts'
import type { Report } from './lint-report.ts'
import { isObject, isSuccessStatus, operations, walkValues, type Obj, type OperationRef } from './lint-walk.ts'

const TOPIC_FIELDS = ['classificationDescription', 'scope', 'instructions'] as const
const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/
const JSON_MEDIA = 'application/json'

function child (node: unknown, ...keys: string[]): Obj | undefined {
  let current = node
  for (const key of keys) current = isObject(current) ? current[key] : undefined
  return isObject(current) ? current : undefined
}

const sfdcAction = (node: unknown): Obj | undefined => child(node, 'x-sfdc', 'agent', 'action')
const isAgentAction = (operation: Obj): boolean => sfdcAction(operation)?.publishAsAgentAction === true

function hasText (value: unknown): boolean {
  if (typeof value === 'string') return value.trim() !== ''
  return Array.isArray(value) && value.length > 0 && value.every(hasText)
}

export function lintTopic (doc: Obj, report: Report): void {
  const topic = child(doc, 'x-sfdc', 'agent', 'topic')
  const topicPath: JsonPath = ['x-sfdc', 'agent', 'topic']
  const hasActions = operations(doc).some(({ operation }) => isAgentAction(operation))
  if (topic === undefined) {
    if (hasActions) report('agent-topic-missing', topicPath, 'agent actions are published without a topic to group them')
    return
  }
  if (typeof topic.name !== 'string' || !SNAKE_CASE.test(topic.name)) {
    report('agent-topic-name', [...topicPath, 'name'], 'the topic name should be snake_case (a letter first, then lower-case letters, digits and single underscores)')
  }
  for (const field of TOPIC_FIELDS) {
    if (!hasText(topic[field])) report('agent-topic-field-missing', [...topicPath, field], `the topic needs a non-empty ${field}`)
  }
  if (!hasActions) report('agent-topic-without-action', topicPath, 'a topic needs at least one operation with publishAsAgentAction: true')
}

interface FlagRule {
  flag: 'isUserInput' | 'isDisplayable'
  rule: 'agent-action-user-input' | 'agent-action-displayable'
  side: string
}
const INPUT: FlagRule = { flag: 'isUserInput', rule: 'agent-action-user-input', side: 'input' }
const OUTPUT: FlagRule = { flag: 'isDisplayable', rule: 'agent-action-displayable', side: 'output' }

/** A body schema given as `$ref: '#/components/schemas/X'` carries its flags on X's properties. */
function resolveBody (doc: Obj, schema: Obj, path: JsonPath): { schema: Obj, path: JsonPath } | undefined {
  if (typeof schema.$ref !== 'string') return { schema, path }
  const name = /^#\/components\/schemas\/([^/]+)$/.exec(schema.$ref)?.[1]
  const target = name === undefined ? undefined : child(doc, 'components', 'schemas', name)
  if (target === undefined || name === undefined) return undefined
  return { schema: target, path: ['components', 'schemas', name] }
}

// A property given as a $ref cannot carry the flags: siblings of $ref are ignored.
function checkBodySchema (doc: Obj, schema: unknown, path: JsonPath, flags: FlagRule, report: Report): void {
  const { flag, rule, side } = flags
  const body = isObject(schema) ? resolveBody(doc, schema, path) : undefined
  if (body === undefined || !isObject(body.schema.properties)) return
  for (const [name, property] of Object.entries(body.schema.properties)) {
    const propertyPath = [...body.path, 'properties', name]
    if (isObject(property) && '$ref' in property) {
      report('agent-action-inline-schema', propertyPath, `${side} field "${name}" must be an inline schema, not a $ref, to carry x-sfdc.agent.action.${flag}`)
    } else if (typeof sfdcAction(property)?.[flag] !== 'boolean') {
      report(rule, propertyPath, `${side} field "${name}" of an agent action needs x-sfdc.agent.action.${flag} (true or false)`)
    }
  }
}

function lintRequestBody (doc: Obj, { path, operation }: OperationRef, report: Report): void {
  const content = child(operation, 'requestBody', 'content') ?? {}
  for (const [mediaType, media] of Object.entries(content)) {
    const mediaPath = [...path, 'requestBody', 'content', mediaType]
    if (mediaType !== JSON_MEDIA) report('agent-action-media-type', mediaPath, `an agent action's request body should be ${JSON_MEDIA}, not ${mediaType}`)
    else checkBodySchema(doc, child(media, 'schema'), [...mediaPath, 'schema'], INPUT, report)
  }
}

function lintResponses (doc: Obj, { path, operation }: OperationRef, report: Report): void {
  const responses = child(operation, 'responses') ?? {}
  const successes = Object.keys(responses).filter(isSuccessStatus).sort()
  for (const extra of successes.slice(1)) {
    report('agent-action-success-responses', [...path, 'responses', extra], `an agent action uses only its lowest 2xx response (${successes[0]}); ${extra} is ignored`)
  }
  const [lowest] = successes
  if (lowest === undefined) return
  const content = child(responses, lowest, 'content') ?? {}
  for (const [mediaType, media] of Object.entries(content)) {
    const mediaPath = [...path, 'responses', lowest, 'content', mediaType]
    if (mediaType !== JSON_MEDIA) report('agent-action-media-type', mediaPath, `an agent action's response should be ${JSON_MEDIA}, not ${mediaType}`)
    else checkBodySchema(doc, child(media, 'schema'), [...mediaPath, 'schema'], OUTPUT, report)
  }
}

export function lintAgentActions (doc: Obj, report: Report): void {
  for (const ref of operations(doc)) {
    const { path, operation } = ref
    if (!isAgentAction(operation)) continue
    if (!hasText(operation.description)) {
      report('agent-action-description', path, 'an agent action needs a description: the agent reads it to decide when to call the action')
    }
    if ('callbacks' in operation) {
      report('agent-action-callbacks', [...path, 'callbacks'], 'agent actions cannot have callbacks; publish asynchronous operations for Apex only')
    }
    lintRequestBody(doc, ref, report)
    lintResponses(doc, ref, report)
  }
}

type Place = 'document' | 'operation' | 'request field' | 'response field' | 'field' | 'elsewhere'

function placeOf (path: JsonPath): Place {
  if (path.length === 0) return 'document'
  if (path.length === 3 && path[0] === 'paths') return 'operation'
  if (path.at(-2) !== 'properties') return 'elsewhere'
  if (path[0] === 'paths' && path.includes('requestBody')) return 'request field'
  if (path[0] === 'paths' && path.includes('responses')) return 'response field'
  return 'field'
}

const FLAG_PLACES: Record<string, Place[]> = {
  publishAsAgentAction: ['operation'],
  isUserInput: ['request field', 'field'],
  isDisplayable: ['response field', 'field'],
}

/** Every x-sfdc block of the document: the agent flags and isPii only where the document places them. */
export function lintFlagPlacement (doc: Obj, report: Report): void {
  const visit = (sfdc: unknown, path: JsonPath): void => {
    if (!isObject(sfdc)) return
    const place = placeOf(path)
    const action = child(sfdc, 'agent', 'action') ?? {}
    for (const flag of Object.keys(action)) {
      const allowed = FLAG_PLACES[flag]
      if (flag === 'isPii') {
        report('agent-pii-placement', [...path, 'x-sfdc', 'agent', 'action', flag], 'isPii belongs under x-sfdc.privacy, not x-sfdc.agent.action')
      } else if (allowed !== undefined && !allowed.includes(place)) {
        report('agent-flag-placement', [...path, 'x-sfdc', 'agent', 'action', flag], `${flag} does not belong on ${place === 'elsewhere' ? 'this node' : `a ${place}`}; it goes on ${allowed[0]}s`)
      }
    }
    if ('isPii' in sfdc) report('agent-pii-placement', [...path, 'x-sfdc', 'isPii'], 'isPii belongs under x-sfdc.privacy')
    if (child(sfdc, 'privacy') !== undefined && !['request field', 'response field', 'field'].includes(place)) {
      report('agent-pii-placement', [...path, 'x-sfdc', 'privacy'], 'x-sfdc.privacy.isPii marks a field: put it on a property of the body')
    }
  }
  visit(doc['x-sfdc'], [])
  walkValues(doc, [], (key, value, path) => {
    if (key === 'x-sfdc' && path.length > 1) visit(value, path.slice(0, -1))
  })
}
