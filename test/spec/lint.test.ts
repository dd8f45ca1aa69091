import { existsSync, readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { lintSpec, type LintIssue } from '../../src/spec/lint.ts'
import { formatPath } from '../../src/spec/lint-path.ts'
import { METADATA_DIR, validSpec } from './fixtures.ts'

type Spec = ReturnType<typeof validSpec>

interface Breakage {
  rule: string
  path: string
  break: (spec: Spec) => void
  yamlText?: string
  metadataDir?: string
  severity?: LintIssue['severity']
  /** Other rules the same breakage legitimately trips (the OpenAPI validator's own checks). */
  alsoRules?: string[]
}

const GQ = "$.paths['/actions/generateQuote'].post"
const RESCORE = "$.paths['/actions/rescoreAccounts'].post"
const gq = (spec: Spec) => spec.paths['/actions/generateQuote'].post
const rescore = (spec: Spec) => spec.paths['/actions/rescoreAccounts'].post
const gqBody = (spec: Spec) => gq(spec).requestBody.content['application/json']
const topic = (spec: Spec) => spec['x-sfdc'].agent.topic

const breakages: Breakage[] = [
  {
    rule: 'openapi-valid',
    path: `${GQ}.responses['200'].content['application/json'].schema.properties.quoteId.type`,
    break: (spec) => { gq(spec).responses[200].content['application/json'].schema.properties.quoteId.type = 'strang' },
  },
  { rule: 'openapi-version', path: '$.openapi', break: (spec) => { spec.openapi = '3.1.0' }, alsoRules: ['openapi-valid'] },
  {
    rule: 'operation-id-missing',
    path: "$.paths['/actions/whoAmI'].post",
    break: (spec) => { delete spec.paths['/actions/whoAmI'].post.operationId },
  },
  {
    rule: 'operation-id-duplicate',
    path: `${RESCORE}.operationId`,
    break: (spec) => { rescore(spec).operationId = 'generateQuote' },
    alsoRules: ['openapi-valid'],
  },
  { rule: 'operation-id-apex-identifier', path: `${GQ}.operationId`, break: (spec) => { gq(spec).operationId = 'generate-quote' } },
  { rule: 'operation-id-apex-reserved', path: `${RESCORE}.operationId`, break: (spec) => { rescore(spec).operationId = 'Delete' } },
  {
    rule: 'schema-name-apex-identifier',
    path: "$.components.schemas['2Quote']",
    break: (spec) => { spec.components.schemas['2Quote'] = { type: 'object' } },
  },
  {
    rule: 'property-name-apex-identifier',
    path: '$.components.schemas.RescoreResult.properties.job_id_',
    break: (spec) => { spec.components.schemas.RescoreResult.properties.job_id_ = { type: 'string' } },
  },
  {
    rule: 'property-name-apex-reserved',
    path: '$.components.schemas.RescoreRequest.properties.limit',
    severity: 'warning',
    break: (spec) => { spec.components.schemas.RescoreRequest.properties.limit = { type: 'integer' } },
  },
  {
    rule: 'response-headers',
    path: `${RESCORE}.responses['202'].headers`,
    break: (spec) => { rescore(spec).responses[202].headers = { 'X-Job': { schema: { type: 'string' } } } },
  },
  {
    rule: 'cookie-parameter',
    path: `${RESCORE}.parameters[0]`,
    break: (spec) => { rescore(spec).parameters = [{ name: 'session', in: 'cookie', schema: { type: 'string' } }] },
  },
  {
    rule: 'schema-not',
    path: '$.components.schemas.RescoreRequest.properties.region.not',
    break: (spec) => { spec.components.schemas.RescoreRequest.properties.region = { not: { type: 'integer' } } },
  },
  {
    rule: 'composition-without-discriminator',
    path: '$.components.schemas.Outcome.oneOf',
    break: (spec) => {
      spec.components.schemas.Outcome = { oneOf: [{ $ref: '#/components/schemas/ErrorBody' }, { $ref: '#/components/schemas/RescoreResult' }] }
    },
  },
  {
    rule: 'get-request-body',
    path: "$.paths['/actions/listJobs'].get.requestBody",
    break: (spec) => {
      spec.paths['/actions/listJobs'] = {
        get: {
          operationId: 'listJobs',
          requestBody: { content: { 'application/json': { schema: { type: 'object' } } } },
          responses: { 200: { description: 'Jobs' } },
        },
      }
    },
  },
  { rule: 'description-too-long', path: '$.info.description', break: (spec) => { spec.info.description = 'x'.repeat(1334) } },
  { rule: 'document-too-large', path: '$', break: () => {}, yamlText: 'a'.repeat(3_000_000) },
  {
    rule: 'success-response-missing',
    path: `${RESCORE}.responses`,
    break: (spec) => { delete rescore(spec).responses[202] },
  },
  { rule: 'agent-topic-name', path: "$['x-sfdc'].agent.topic.name", break: (spec) => { topic(spec).name = 'Sales Operations' } },
  { rule: 'agent-topic-field-missing', path: "$['x-sfdc'].agent.topic.scope", break: (spec) => { delete topic(spec).scope } },
  {
    rule: 'agent-topic-field-missing',
    path: "$['x-sfdc'].agent.topic.instructions",
    break: (spec) => { topic(spec).instructions = [] },
  },
  {
    rule: 'agent-topic-without-action',
    path: "$['x-sfdc'].agent.topic",
    break: (spec) => {
      spec.paths['/actions/whoAmI'].post['x-sfdc'].agent.action.publishAsAgentAction = false
      gq(spec)['x-sfdc'].agent.action.publishAsAgentAction = false
    },
  },
  {
    rule: 'agent-topic-missing',
    path: "$['x-sfdc'].agent.topic",
    severity: 'warning',
    break: (spec) => { delete spec['x-sfdc'] },
  },
  {
    rule: 'agent-action-user-input',
    path: `${GQ}.requestBody.content['application/json'].schema.properties.opportunityId`,
    break: (spec) => { delete gqBody(spec).schema.properties.opportunityId['x-sfdc'] },
  },
  {
    rule: 'agent-action-displayable',
    path: "$.paths['/actions/whoAmI'].post.responses['200'].content['application/json'].schema.properties.userId",
    break: (spec) => {
      spec.paths['/actions/whoAmI'].post.responses[200].content['application/json'].schema.properties.userId['x-sfdc'].agent.action = {}
    },
  },
  {
    rule: 'agent-action-inline-schema',
    path: `${GQ}.requestBody.content['application/json'].schema`,
    break: (spec) => { gqBody(spec).schema = { $ref: '#/components/schemas/RescoreRequest' } },
  },
  {
    rule: 'agent-action-inline-schema',
    path: `${GQ}.responses['200'].content['application/json'].schema.properties.quoteId`,
    break: (spec) => {
      gq(spec).responses[200].content['application/json'].schema.properties.quoteId = { $ref: '#/components/schemas/ErrorBody' }
    },
  },
  {
    rule: 'agent-action-content-type',
    path: `${GQ}.requestBody.content['text/plain']`,
    break: (spec) => { gq(spec).requestBody.content['text/plain'] = { schema: { type: 'string' } } },
  },
  {
    rule: 'agent-action-callbacks',
    path: `${GQ}.callbacks`,
    break: (spec) => { gq(spec).callbacks = structuredClone(rescore(spec).callbacks) },
  },
  { rule: 'agent-action-description', path: GQ, break: (spec) => { delete gq(spec).description } },
  {
    rule: 'authorization-permission-set',
    path: `${GQ}['x-sfdc'].heroku.authorization.permissionSet`,
    break: (spec) => { gq(spec)['x-sfdc'].heroku.authorization.permissionSet = 'AppLinkActions_Admin' },
  },
  {
    rule: 'authorization-permission-set',
    path: `${GQ}['x-sfdc'].heroku.authorization.permissionSet`,
    break: (spec) => { delete gq(spec)['x-sfdc'].heroku.authorization.permissionSet },
  },
  {
    rule: 'authorization-external-client-app',
    path: `${GQ}['x-sfdc'].heroku.authorization.externalClientApp`,
    break: (spec) => { gq(spec)['x-sfdc'].heroku.authorization.externalClientApp = 'AppLinkActions_ECA' },
  },
  {
    rule: 'authorization-connected-app',
    path: `${GQ}['x-sfdc'].heroku.authorization.connectedApp`,
    break: (spec) => { gq(spec)['x-sfdc'].heroku.authorization.connectedApp = 'AppLinkActions_App' },
  },
]

t.test('the valid base spec passes every rule', async (t) => {
  t.same(await lintSpec(validSpec(), { metadataDir: METADATA_DIR }), [])
})

for (const b of breakages) {
  t.test(`${b.rule} at ${b.path}`, async (t) => {
    const spec = validSpec()
    b.break(spec)
    const issues = await lintSpec(spec, { metadataDir: b.metadataDir ?? METADATA_DIR, yamlText: b.yamlText })
    const hit = issues.find((i) => i.rule === b.rule && i.path === b.path)
    t.ok(hit, `reports ${b.rule} at ${b.path}`, { issues })
    t.equal(hit?.severity, b.severity ?? 'error')
    const unexpected = issues.filter((i) => i.rule !== b.rule && !b.alsoRules?.includes(i.rule))
    t.same(unexpected, [], 'reports nothing else')
  })
}

t.test('authorization-permission-set-session: the named permission set must require activation', async (t) => {
  const dir = t.testdir({
    permissionsets: {
      'AppLinkActions_User.permissionset-meta.xml':
        '<?xml version="1.0" encoding="UTF-8"?><PermissionSet xmlns="http://soap.sforce.com/2006/04/metadata"><label>U</label></PermissionSet>',
    },
  })
  const issues = await lintSpec(validSpec(), { metadataDir: dir })
  t.same(issues.map((i) => [i.rule, i.path]), [
    ['authorization-permission-set-session', `${GQ}['x-sfdc'].heroku.authorization.permissionSet`],
  ])
})

t.test('apps named in the authorization pass when their metadata exists', async (t) => {
  const dir = t.testdir({
    permissionsets: { 'AppLinkActions_User.permissionset-meta.xml': readFileSync(`${METADATA_DIR}/permissionsets/AppLinkActions_User.permissionset-meta.xml`, 'utf8') },
    externalClientApps: { 'AppLinkActions_ECA.eca-meta.xml': '<ExternalClientApplication/>' },
    connectedApps: { 'AppLinkActions_App.connectedApp-meta.xml': '<ConnectedApp/>' },
  })
  const spec = validSpec()
  Object.assign(gq(spec)['x-sfdc'].heroku.authorization, { externalClientApp: 'AppLinkActions_ECA', connectedApp: 'AppLinkActions_App' })
  t.same(await lintSpec(spec, { metadataDir: dir }), [])
})

t.test('a composition with a discriminator is allowed', async (t) => {
  const spec = validSpec()
  spec.components.schemas.Outcome = {
    oneOf: [{ $ref: '#/components/schemas/ErrorBody' }, { $ref: '#/components/schemas/RescoreResult' }],
    discriminator: { propertyName: 'kind' },
  }
  t.same(await lintSpec(spec, { metadataDir: METADATA_DIR }), [])
})

t.test('the caller\'s document is left as it was ($refs intact)', async (t) => {
  const spec = validSpec()
  await lintSpec(spec, { metadataDir: METADATA_DIR })
  t.same(spec, validSpec())
})

t.test('JSON paths quote keys that are not identifiers', async (t) => {
  t.equal(formatPath(['paths', '/a', 'post', 'x-sfdc', 'responses', '200', 'parameters', 0]), "$.paths['/a'].post['x-sfdc'].responses['200'].parameters[0]")
  t.equal(formatPath(["it's"]), "$['it\\'s']")
})

const SPEC_FILE = new URL('../../openapi/api-spec.yaml', import.meta.url)
t.test('the committed openapi/api-spec.yaml has no lint errors', { skip: !existsSync(SPEC_FILE) && 'openapi/api-spec.yaml is not generated yet' }, async (t) => {
  const yamlText = readFileSync(SPEC_FILE, 'utf8')
  const issues = await lintSpec(parse(yamlText), { yamlText, metadataDir: METADATA_DIR })
  t.same(issues.filter((i) => i.severity === 'error'), [])
})
