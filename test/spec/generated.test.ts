import t from 'tap'
import { readFile } from 'node:fs/promises'
import YAML from 'yaml'
import { SPEC_PATH, generateSpec } from '../../src/spec/generate.ts'
import { actions } from '../../src/actions/index.ts'
import { walkAllSchemas } from '../../src/spec/lint-walk.ts'
import { formatPath } from '../../src/spec/lint-path.ts'

const APEX_IDENTIFIER = /^[A-Za-z](?:[A-Za-z0-9]|_(?!_))*$/

t.test('the committed spec is what the code generates (run `npm run spec`)', async (t) => {
  const [committed, generated] = await Promise.all([readFile(SPEC_PATH, 'utf8'), generateSpec()])
  t.equal(committed, generated)
})

t.test('the spec is OpenAPI 3.0 without YAML anchors or aliases', async (t) => {
  const text = await generateSpec()
  const doc = YAML.parseDocument(text)
  let aliases = 0
  YAML.visit(doc, { Alias: () => { aliases++ } })
  t.equal(aliases, 0)
  t.match((doc.toJS() as { openapi: string }).openapi, /^3\.0\.\d$/)
})

t.test('every action is in the spec with a unique operationId that is a valid Apex identifier', async (t) => {
  const doc = YAML.parse(await generateSpec()) as { paths: Record<string, Record<string, { operationId?: string, 'x-sfdc'?: unknown }>> }
  const operations = Object.values(doc.paths).flatMap((item) => Object.values(item))
  const ids = operations.map((o) => o.operationId)
  t.same(new Set(ids).size, ids.length, 'unique')
  t.same([...ids].sort(), actions.map((a) => a.operationId).sort(), 'one operation per action')
  for (const id of ids) t.match(id, APEX_IDENTIFIER, `${id} is an Apex identifier`)
  for (const op of operations) t.ok(op['x-sfdc'], `${op.operationId} carries x-sfdc metadata`)
})

type Schema = Record<string, any>
const bodySchemaOf = (op: Schema): Schema | undefined => op.requestBody?.content?.['application/json']?.schema

t.test('every schema a Flow or Apex consumer sees declares its type (an enum too)', async (t) => {
  const doc = YAML.parse(await generateSpec()) as Schema
  const untyped: string[] = []
  walkAllSchemas(doc, (schema, path) => {
    const composed = ['$ref', 'allOf', 'oneOf', 'anyOf'].some((key) => key in schema)
    if (!composed && typeof schema.type !== 'string') untyped.push(formatPath(path))
  })
  t.same(untyped, [])
  const feedback = doc.paths['/actions/logProductFeedback'].post.responses[200].content['application/json'].schema
  t.same([feedback.properties.syncStatus.type, feedback.properties.syncStatus.enum], ['string', ['PENDING', 'SYNCED', 'FAILED']])
})

t.test('an agent never asks the user for an idempotency key', async (t) => {
  const doc = YAML.parse(await generateSpec()) as Schema
  const withKey = Object.values(doc.paths as Record<string, Schema>).flatMap((item) => Object.values(item))
    .filter((op: Schema) => op['x-sfdc']?.agent?.action?.publishAsAgentAction === true)
    .filter((op: Schema) => bodySchemaOf(op)?.properties?.idempotencyKey !== undefined)
  t.ok(withKey.length >= 2, 'the write actions published to agents take a key')
  for (const op of withKey) {
    t.equal(bodySchemaOf(op)?.properties.idempotencyKey['x-sfdc'].agent.action.isUserInput, false, op.operationId)
  }
})
