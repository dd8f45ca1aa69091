import t from 'tap'
import { stringify } from 'yaml'
import { lintSpec } from '../../src/spec/lint.ts'
import { RescoreSummary } from '../../src/schemas/jobs.ts'
import rescoreAccounts from '../../src/actions/rescore-accounts.ts'
import startAccountRescore from '../../src/actions/start-account-rescore.ts'
import { buildApp } from '../helper.ts'
import { METADATA_DIR } from '../spec/fixtures.ts'
import { jobActions } from './fixtures.ts'

type Operation = Record<string, unknown> & { operationId?: string }
type CallbackPath = { post: { requestBody: { content: Record<string, { schema: unknown }> } } }

t.test('the job actions publish cleanly, rescoreAccounts with its callback', async (t) => {
  t.same(Object.keys(rescoreAccounts.callbacks ?? {}), ['rescoreAccountsDone'])
  const callback = (rescoreAccounts.callbacks as Record<string, Record<string, CallbackPath>>).rescoreAccountsDone
  t.same(Object.keys(callback ?? {}), ['{$request.body#/callbackUrl}'], 'keyed by the request\'s callbackUrl')
  t.equal(callback?.['{$request.body#/callbackUrl}']?.post.requestBody.content['application/json']?.schema, RescoreSummary, 'declares the summary schema the job sends')
  t.same(rescoreAccounts.sfdc, { heroku: { authorization: { permissionSet: 'AppLinkActions_User' } } },
    'no agent metadata')
  t.equal(startAccountRescore.callbacks, undefined, 'the Flow start has no callbacks (they are Apex-only)')
  t.same(Object.keys(startAccountRescore.request.properties).sort(), ['industry', 'ownerId', 'segment'],
    'the same filter, no callbackUrl')
  t.same(startAccountRescore.sfdc, rescoreAccounts.sfdc, 'not an agent action either')

  // The registry does not hold these actions yet: add their metadata as the swagger plugin does.
  const { app } = await buildApp(t, { database: false, actions: jobActions })
  const doc = structuredClone(app.swagger()) as { paths: Record<string, { post: Operation }> }
  for (const action of jobActions) {
    const operation = doc.paths[`/actions/${action.operationId}`]?.post
    if (operation === undefined) throw new Error(`no route for ${action.operationId}`)
    if (action.sfdc !== undefined) operation['x-sfdc'] = action.sfdc
    if (action.callbacks !== undefined) operation.callbacks = JSON.parse(JSON.stringify(action.callbacks))
  }
  t.match(doc.paths['/actions/rescoreAccounts']?.post.responses, { 202: {} }, 'answers 202')
  t.match(doc.paths['/actions/startAccountRescore']?.post.responses,
    { 202: { content: { 'application/json': { schema: { type: 'object' } } } } },
    'answers a typed 202, which Flow reads as output 202')
  // The topic needs an agent action, and neither of these is one.
  const issues = (await lintSpec(doc, { metadataDir: METADATA_DIR, yamlText: stringify(doc) }))
    .filter((i) => i.severity === 'error' && i.rule !== 'agent-topic-without-action')
  t.same(issues, [], 'no lint error: valid OpenAPI 3.0 with the callback, Apex-safe names, known permission set')
})
