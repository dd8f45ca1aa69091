import { existsSync, readFileSync } from 'node:fs'
import t from 'tap'
import { parse } from 'yaml'
import { lintSpec, RULES, type LintIssue, type RuleId } from '../../src/spec/lint.ts'
import { formatPath } from '../../src/spec/lint-path.ts'
import { METADATA_DIR, rescoreCallbacks, validSpec } from './fixtures.ts'

type Spec = ReturnType<typeof validSpec>

interface Breakage {
  rule: RuleId
  /** What the message must say (the generated name of a renamed identifier). */
  message?: RegExp
  path: string
  break: (spec: Spec) => void
  yamlText?: string
  metadataDir?: string
  severity?: LintIssue['severity']
  /** Other rules the same breakage legitimately trips (the OpenAPI validator's own checks). */
  alsoRules?: RuleId[]
}

const GQ = "$.paths['/actions/generateQuote'].post"
const RESCORE = "$.paths['/actions/rescoreAccounts'].post"
const gq = (spec: Spec) => spec.paths['/actions/generateQuote'].post
const rescore = (spec: Spec) => spec.paths['/actions/rescoreAccounts'].post
const gqBody = (spec: Spec) => gq(spec).requestBody.content['application/json']
const topic = (spec: Spec) => spec['x-sfdc'].agent.topic

const GQ_OUT = `${GQ}.responses['200'].content['application/json'].schema.properties`
const gqOut = (spec: Spec) => gq(spec).responses[200].content['application/json'].schema.properties
const result = (spec: Spec) => spec.components.schemas.RescoreResult.properties

const breakages: Breakage[] = [
  {
    rule: 'openapi-valid',
    path: `${GQ_OUT}.quoteId.type`,
    break: (spec) => { gqOut(spec).quoteId.type = 'strang' },
    alsoRules: ['schema-untyped'],
  },
  { rule: 'openapi-version', path: '$.openapi', break: (spec) => { spec.openapi = '3.1.0' }, alsoRules: ['openapi-valid'] },
  {
    rule: 'operation-id-missing',
    path: "$.paths['/actions/whoAmI'].post",
    severity: 'warning',
    break: (spec) => { delete spec.paths['/actions/whoAmI'].post.operationId },
  },
  {
    rule: 'operation-id-duplicate',
    path: `${RESCORE}.operationId`,
    break: (spec) => { rescore(spec).operationId = 'generateQuote' },
    alsoRules: ['openapi-valid'],
  },
  {
    rule: 'name-renamed',
    path: `${GQ}.operationId`,
    severity: 'warning',
    message: /"generatex2dquote"/,
    break: (spec) => { gq(spec).operationId = 'generate-quote' },
  },
  {
    rule: 'name-renamed',
    path: `${RESCORE}.operationId`,
    severity: 'warning',
    message: /"z0Delete"/,
    break: (spec) => { rescore(spec).operationId = 'Delete' },
  },
  {
    rule: 'name-renamed',
    path: "$.components.schemas['2Quote']",
    severity: 'warning',
    message: /"z02Quote"/,
    break: (spec) => { spec.components.schemas['2Quote'] = { type: 'object' } },
  },
  {
    rule: 'name-renamed',
    path: '$.components.schemas.RescoreResult.properties.job_id',
    severity: 'warning',
    message: /"jobx5fid"/,
    break: (spec) => { result(spec).job_id = { type: 'string' } },
  },
  {
    rule: 'name-renamed',
    path: '$.components.schemas.RescoreRequest.properties.type',
    severity: 'warning',
    message: /"z0type"/,
    break: (spec) => { spec.components.schemas.RescoreRequest.properties.type = { type: 'string' } },
  },
  {
    rule: 'response-headers',
    path: `${RESCORE}.responses['202'].headers`,
    break: (spec) => { rescore(spec).responses[202].headers = { 'X-Job': { schema: { type: 'string' } } } },
  },
  {
    rule: 'cookie-parameter',
    path: `${RESCORE}.parameters[0]`,
    severity: 'warning',
    break: (spec) => { rescore(spec).parameters = [{ name: 'session', in: 'cookie', schema: { type: 'string' } }] },
  },
  {
    rule: 'schema-not',
    path: '$.components.schemas.RescoreRequest.properties.region.not',
    severity: 'warning',
    break: (spec) => { spec.components.schemas.RescoreRequest.properties.region = { type: 'string', not: { type: 'integer' } } },
  },
  {
    rule: 'schema-untyped',
    path: '$.components.schemas.RescoreResult.properties.state',
    break: (spec) => { result(spec).state = { enum: ['queued', 'running'] } },
  },
  {
    rule: 'flow-nested-array',
    path: '$.components.schemas.RescoreResult.properties.matrix.items',
    severity: 'warning',
    break: (spec) => { result(spec).matrix = { type: 'array', items: { type: 'array', items: { type: 'number' } } } },
  },
  {
    rule: 'flow-map',
    path: '$.components.schemas.RescoreResult.properties.countsByState.additionalProperties',
    severity: 'warning',
    break: (spec) => { result(spec).countsByState = { type: 'object', additionalProperties: { type: 'integer' } } },
  },
  {
    rule: 'callbacks-apex-only',
    path: `${RESCORE}.callbacks`,
    severity: 'warning',
    break: (spec) => { rescore(spec).callbacks = rescoreCallbacks() },
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
  {
    rule: 'description-too-long',
    path: '$.info.description',
    severity: 'warning',
    break: (spec) => { spec.info.description = 'x'.repeat(1334) },
  },
  { rule: 'document-too-large', path: '$', break: () => {}, yamlText: 'a'.repeat(3_000_000) },
  {
    rule: 'success-response-missing',
    path: `${RESCORE}.responses`,
    severity: 'warning',
    break: (spec) => { delete rescore(spec).responses[202] },
  },
  {
    rule: 'agent-topic-name',
    path: "$['x-sfdc'].agent.topic.name",
    severity: 'warning',
    break: (spec) => { topic(spec).name = 'Sales Operations' },
  },
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
    rule: 'agent-action-user-input',
    path: '$.components.schemas.RescoreRequest.properties.callbackUrl',
    break: (spec) => { gqBody(spec).schema = { $ref: '#/components/schemas/RescoreRequest' } },
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
    path: `${GQ_OUT}.quoteId`,
    break: (spec) => { gqOut(spec).quoteId = { $ref: '#/components/schemas/ErrorBody' } },
  },
  {
    rule: 'agent-flag-placement',
    path: `${GQ_OUT}.quoteId['x-sfdc'].agent.action.isUserInput`,
    break: (spec) => { gqOut(spec).quoteId['x-sfdc'].agent.action.isUserInput = true },
  },
  {
    rule: 'agent-flag-placement',
    path: `${GQ}.requestBody.content['application/json'].schema['x-sfdc'].agent.action.isUserInput`,
    break: (spec) => { gqBody(spec).schema['x-sfdc'] = { agent: { action: { isUserInput: true } } } },
  },
  {
    rule: 'agent-pii-placement',
    path: `${GQ_OUT}.quoteId['x-sfdc'].agent.action.isPii`,
    break: (spec) => { gqOut(spec).quoteId['x-sfdc'].agent.action.isPii = true },
  },
  {
    rule: 'agent-pii-placement',
    path: `${GQ}['x-sfdc'].privacy`,
    break: (spec) => { gq(spec)['x-sfdc'].privacy = { isPii: true } },
  },
  {
    rule: 'agent-action-media-type',
    path: `${GQ}.requestBody.content['text/plain']`,
    severity: 'warning',
    break: (spec) => { gq(spec).requestBody.content['text/plain'] = { schema: { type: 'string' } } },
  },
  {
    rule: 'agent-action-media-type',
    path: `${GQ}.responses['200'].content['text/csv']`,
    severity: 'warning',
    break: (spec) => { gq(spec).responses[200].content['text/csv'] = { schema: { type: 'string' } } },
  },
  {
    rule: 'agent-action-success-responses',
    path: `${GQ}.responses['201']`,
    severity: 'warning',
    break: (spec) => { gq(spec).responses[201] = { description: 'Created' } },
  },
  {
    rule: 'agent-action-callbacks',
    path: `${GQ}.callbacks`,
    break: (spec) => { gq(spec).callbacks = rescoreCallbacks() },
    alsoRules: ['callbacks-apex-only'],
  },
  { rule: 'agent-action-description', path: GQ, severity: 'warning', break: (spec) => { delete gq(spec).description } },
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

t.test('every rule has a spec that breaks it, and cites its document', async (t) => {
  const covered = new Set<string>([...breakages.map((b) => b.rule), 'authorization-permission-set-session'])
  t.same(Object.keys(RULES).filter((rule) => !covered.has(rule)), [], 'rules without a failing spec')
  for (const [rule, { source }] of Object.entries(RULES)) {
    t.ok(source.title.length > 0 && source.quote.length > 0, `${rule} names a document and quotes it`)
  }
})

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
    if (b.message) t.match(hit?.message, b.message)
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

t.test('a composition without a discriminator is allowed (Salesforce supports allOf, oneOf, anyOf)', async (t) => {
  const spec = validSpec()
  spec.components.schemas.Outcome = {
    oneOf: [{ $ref: '#/components/schemas/ErrorBody' }, { $ref: '#/components/schemas/RescoreResult' }],
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

t.test('docs/publishing.md lists every rule', async (t) => {
  const docs = readFileSync(new URL('../../docs/publishing.md', import.meta.url), 'utf8')
  for (const rule of Object.keys(RULES)) t.match(docs, `\`${rule}\``, rule)
})
