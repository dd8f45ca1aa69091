// What an org gets when `npm run publish:org` publishes the spec through `heroku salesforce:publish`,
// read from the spec alone, so the summary it prints cannot drift from what is published.
//
// Where each line comes from:
// - External Service <Client> and the Apex class HerokuAppLink.<Client>, one method per operationId:
//   consumer.ts (Heroku's AppLink samples and Salesforce Help, quoted there).
// - Flow cannot call callback operations: Salesforce Help, "Callouts and Callbacks: Limits and Usage":
//   "External Services' asynchronous callback operations are supported in Apex but not in Flow."
// - Agent actions and their topic: Heroku Dev Center, "Configuring OpenAPI Specification for Heroku
//   AppLink" (lint-agent.ts checks the same): an operation with x-sfdc.agent.action.publishAsAgentAction
//   becomes an agent action, grouped under the document's x-sfdc.agent.topic.
// - Permission sets: publishing creates one named after the client that lets users call the service
//   (docs/publishing.md, step 4), and x-sfdc.heroku.authorization names the session-based one AppLink
//   activates for each call (Heroku Dev Center, "Heroku AppLink User Mode Options": user-plus mode).
import { authorizationOf } from './lint-authorization.ts'
import { generatedService, APEX_NAMESPACE } from './consumer.ts'
import { isObject, operations, type Obj } from './lint-walk.ts'

export interface PublishTarget {
  app: string
  clientName: string
  connectionName: string
  externalClientApp?: string | undefined
  connectedApp?: string | undefined
}

export interface Publication {
  operations: string[]
  /** Operations Flow cannot call (callbacks): Apex only. */
  apexOnly: string[]
  agentActions: string[]
  topic: string | undefined
  /** Session-based permission sets the operations name in x-sfdc.heroku.authorization. */
  sessionPermissionSets: string[]
}

const named = (operation: Obj): string => String(operation.operationId ?? '')

function publishedAsAgentAction (operation: Obj): boolean {
  const sfdc = operation['x-sfdc']
  const agent = isObject(sfdc) ? sfdc.agent : undefined
  const action = isObject(agent) ? agent.action : undefined
  return isObject(action) && action.publishAsAgentAction === true
}

export function publicationOf (spec: Obj, clientName: string): Publication {
  const ops = operations(spec).map(({ operation }) => operation)
  const service = generatedService(spec, clientName)
  const sfdc = spec['x-sfdc']
  const agent = isObject(sfdc) ? sfdc.agent : undefined
  const topic = isObject(agent) && isObject(agent.topic) && typeof agent.topic.name === 'string'
    ? agent.topic.name
    : undefined
  const permissionSets = new Set(ops.flatMap((operation) => {
    const name = authorizationOf(operation)?.permissionSet
    return typeof name === 'string' ? [name] : []
  }))
  return {
    operations: ops.map(named),
    apexOnly: [...service.actions.values()].filter((action) => !action.flowUsable)
      .map((action) => action.name.slice(clientName.length + 1)),
    agentActions: ops.filter(publishedAsAgentAction).map(named),
    topic,
    sessionPermissionSets: [...permissionSets]
  }
}

const list = (names: string[]): string => (names.length === 0 ? 'none' : names.join(', '))

/** The summary publish:org prints before it publishes (or instead, with --dry-run). */
export function publicationSummary (spec: Obj, target: PublishTarget): string {
  const { clientName } = target
  const p = publicationOf(spec, clientName)
  const flow = p.operations.filter((op) => !p.apexOnly.includes(op))
  const app = target.externalClientApp === undefined
    ? target.connectedApp === undefined
      ? 'none named: AppLink uses the app it creates for the connection'
      : `Connected App ${target.connectedApp} (legacy)`
    : `External Client App ${target.externalClientApp}`
  const apexOnly = p.apexOnly.length === 0 ? '' : ` (not ${list(p.apexOnly)}: callbacks are Apex-only)`
  const agent = p.agentActions.length === 0
    ? 'none'
    : `${list(p.agentActions)}, in the topic ${p.topic ?? '(none: the spec names no x-sfdc.agent.topic)'}`
  return [
    `What the org of the connection ${target.connectionName} gets from the Heroku app ${target.app}:`,
    `  External Service   ${clientName}, ${p.operations.length} operations: ${list(p.operations)}`,
    `  Apex class         ${APEX_NAMESPACE}.${clientName}, one method per operation (Apex can call all of them)`,
    `  Flow actions       ${list(flow)}${apexOnly}`,
    `  Agent actions      ${agent}`,
    `  Permission sets    ${clientName} (created by publishing: lets a user call the service; assign it)`,
    ...p.sessionPermissionSets.map((name) => `                     ${name} (session-based, from ` +
      'x-sfdc.heroku.authorization: AppLink activates it for each call)'),
    `  Authenticates via  ${app}`,
    '  Not published      the jobs\' AppLink authorization (heroku salesforce:authorizations:add, then ' +
      'APPLINK_AUTHORIZATION) and the permission sets in salesforce/: see docs/publishing.md'
  ].join('\n')
}
