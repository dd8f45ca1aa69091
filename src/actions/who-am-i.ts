import { agentAction, defineAction, readOnlyTool } from './define.ts'
import { WhoAmIRequest, WhoAmIResponse } from '../schemas/who-am-i.ts'

/** Proves the wiring end to end: context parsed, validated, serialized; no I/O. */
export default defineAction({
  operationId: 'whoAmI',
  summary: 'Who is calling',
  description: 'Returns the calling Salesforce org and user as this service sees them, and the API version it uses. Use it to check that the connection between Salesforce and the service works.',
  request: WhoAmIRequest,
  response: WhoAmIResponse,
  sfdc: agentAction,
  tool: readOnlyTool,
  // It reads and writes nothing: the context it repeats is all it knows.
  identity: 'from-context',
  handler: async (_input, { caller }) => ({
    orgId: caller.org.id,
    userId: caller.user.id,
    username: caller.user.username,
    apiVersion: caller.org.apiVersion,
    orgDomainUrl: caller.org.domainUrl
  })
})
