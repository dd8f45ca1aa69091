// The actions as MCP tools, generated from their definitions: the same operationId, description and
// TypeBox schemas that the route and the OpenAPI document use, nothing written twice.
import type { Tool } from '@modelcontextprotocol/sdk/types.js'
import type { ActionDefinition } from '../actions/define.ts'

/** An action offered as a tool, with what tools/list shows of it. */
export interface McpTool {
  action: ActionDefinition
  definition: Tool
}

/**
 * Said in every tool's description, for the admin who allowlists it in Agentforce: an MCP server
 * registered there authenticates the client, not the person (Salesforce Help, "Register a
 * Third-Party MCP Server in Agentforce Registry": "We support no authentication and OAuth 2.0
 * client credential."), so no tool call carries a user.
 */
export const RUN_AS_NOTE = 'Over MCP it runs as the Salesforce org\'s AppLink authorization (its run-as user), ' +
  'not as the person the agent speaks for: it sees and changes what that user may.'

/**
 * Whether an action is a tool: it says what a call does (`tool`), it has no callbacks (Salesforce
 * supports those in Apex only; long work is startAccountRescore with getJobStatus), and it only reads
 * unless it opts in to writing over MCP.
 */
export function isMcpTool (action: ActionDefinition): boolean {
  const tool = action.tool
  if (tool === undefined || action.callbacks !== undefined) return false
  return tool.readOnly || tool.writesOverMcp === true
}

/** A schema as JSON Schema for MCP: a copy without the Salesforce-only `x-sfdc` keywords. */
function jsonSchema (schema: unknown): Record<string, unknown> {
  return JSON.parse(JSON.stringify(schema, (key: string, value: unknown) => (key === 'x-sfdc' ? undefined : value))) as
    Record<string, unknown>
}

/** tools/list's entry of an action: MCP asks that both schemas be objects, as every action's are. */
export function toolDefinition (action: ActionDefinition): Tool {
  const inputSchema = jsonSchema(action.request)
  const outputSchema = jsonSchema(action.response)
  if (inputSchema.type !== 'object' || outputSchema.type !== 'object') {
    throw new Error(`The action ${action.operationId} cannot be an MCP tool: its request and answer must be objects`)
  }
  const tool = action.tool ?? { readOnly: true, destructive: false, idempotent: true }
  return {
    name: action.operationId,
    title: action.summary,
    description: `${action.description} ${RUN_AS_NOTE}`,
    inputSchema: inputSchema as Tool['inputSchema'],
    outputSchema: outputSchema as NonNullable<Tool['outputSchema']>,
    annotations: {
      title: action.summary,
      readOnlyHint: tool.readOnly,
      destructiveHint: tool.destructive,
      idempotentHint: tool.idempotent,
      // Each tool reaches one Salesforce org and this service's own tables, nothing beyond.
      openWorldHint: false
    }
  }
}

/** The tools of a list of actions, in its order. */
export function mcpTools (actions: readonly ActionDefinition[]): McpTool[] {
  return actions.filter(isMcpTool).map((action) => ({ action, definition: toolDefinition(action) }))
}
