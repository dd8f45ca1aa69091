// Agentforce: what AppLink needs to create a topic and agent actions from the spec.
// Shapes per Heroku Dev Center "Configuring OpenAPI Specification for Heroku AppLink".
import type { JsonPath } from './lint-path.ts'
import type { Report } from './lint-report.ts'
import { isObject, isSuccessStatus, operations, type Obj, type OperationRef } from './lint-walk.ts'

const TOPIC_FIELDS = ['classificationDescription', 'scope', 'instructions'] as const
const SNAKE_CASE = /^[a-z][a-z0-9]*(_[a-z0-9]+)*$/

function sfdcAction (node: unknown): Obj | undefined {
  const sfdc = isObject(node) ? node['x-sfdc'] : undefined
  const agent = isObject(sfdc) ? sfdc.agent : undefined
  const action = isObject(agent) ? agent.action : undefined
  return isObject(action) ? action : undefined
}

function isAgentAction (operation: Obj): boolean {
  return sfdcAction(operation)?.publishAsAgentAction === true
}

function hasText (value: unknown): boolean {
  if (typeof value === 'string') return value.trim() !== ''
  return Array.isArray(value) && value.length > 0 && value.every(hasText)
}

export function lintTopic (doc: Obj, report: Report): void {
  const sfdc = isObject(doc['x-sfdc']) ? doc['x-sfdc'] : undefined
  const topic = isObject(sfdc) && isObject(sfdc.agent) ? sfdc.agent.topic : undefined
  const topicPath: JsonPath = ['x-sfdc', 'agent', 'topic']
  const hasActions = operations(doc).some(({ operation }) => isAgentAction(operation))
  if (!isObject(topic)) {
    if (hasActions) report('agent-topic-missing', topicPath, 'agent actions are published without a topic to group them', 'warning')
    return
  }
  if (typeof topic.name !== 'string' || !SNAKE_CASE.test(topic.name)) {
    report('agent-topic-name', [...topicPath, 'name'], 'the topic name must be snake_case (a letter first, then lower-case letters, digits and single underscores)')
  }
  for (const field of TOPIC_FIELDS) {
    if (!hasText(topic[field])) report('agent-topic-field-missing', [...topicPath, field], `the topic needs a non-empty ${field}`)
  }
  if (!hasActions) report('agent-topic-without-action', topicPath, 'a topic needs at least one operation with publishAsAgentAction: true')
}

type FlagRule = { flag: 'isUserInput' | 'isDisplayable', rule: string, side: string }
const INPUT: FlagRule = { flag: 'isUserInput', rule: 'agent-action-user-input', side: 'input' }
const OUTPUT: FlagRule = { flag: 'isDisplayable', rule: 'agent-action-displayable', side: 'output' }

// The field-level metadata is read from inline schemas only: a $ref on the way hides it.
function checkBodySchema (schema: unknown, path: JsonPath, { flag, rule, side }: FlagRule, report: Report): void {
  if (!isObject(schema)) return
  if ('$ref' in schema) {
    report('agent-action-inline-schema', path, `an agent action's ${side} schema must be inline, not a $ref, to carry x-sfdc.agent.action.${flag}`)
    return
  }
  if (!isObject(schema.properties)) return
  for (const [name, property] of Object.entries(schema.properties)) {
    const propertyPath = [...path, 'properties', name]
    if (isObject(property) && '$ref' in property) {
      report('agent-action-inline-schema', propertyPath, `${side} field "${name}" must be an inline schema, not a $ref, to carry x-sfdc.agent.action.${flag}`)
    } else if (typeof sfdcAction(property)?.[flag] !== 'boolean') {
      report(rule, propertyPath, `${side} field "${name}" of an agent action needs x-sfdc.agent.action.${flag} (true or false)`)
    }
  }
}

function lintRequestBody ({ path, operation }: OperationRef, report: Report): void {
  const body = operation.requestBody
  const bodyPath = [...path, 'requestBody']
  if (!isObject(body)) return
  if ('$ref' in body) {
    report('agent-action-inline-schema', bodyPath, 'an agent action\'s request body must be inline, not a $ref')
    return
  }
  const content = isObject(body.content) ? body.content : {}
  for (const [mediaType, media] of Object.entries(content)) {
    const mediaPath = [...bodyPath, 'content', mediaType]
    if (mediaType !== 'application/json') {
      report('agent-action-content-type', mediaPath, `agent action request bodies must be application/json, not ${mediaType}`)
    } else if (isObject(media)) {
      checkBodySchema(media.schema, [...mediaPath, 'schema'], INPUT, report)
    }
  }
}

function lintResponses ({ path, operation }: OperationRef, report: Report): void {
  const responses = isObject(operation.responses) ? operation.responses : {}
  for (const [status, response] of Object.entries(responses)) {
    if (!isSuccessStatus(status) || !isObject(response)) continue
    const responsePath = [...path, 'responses', status]
    if ('$ref' in response) {
      report('agent-action-inline-schema', responsePath, 'an agent action\'s success response must be inline, not a $ref')
      continue
    }
    const content = isObject(response.content) ? response.content : {}
    for (const [mediaType, media] of Object.entries(content)) {
      if (isObject(media)) checkBodySchema(media.schema, [...responsePath, 'content', mediaType, 'schema'], OUTPUT, report)
    }
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
      report('agent-action-callbacks', [...path, 'callbacks'], 'agent actions cannot have callbacks; publish asynchronous operations for Flow and Apex only')
    }
    lintRequestBody(ref, report)
    lintResponses(ref, report)
  }
}
