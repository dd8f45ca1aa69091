// One tool call, whichever transport brought it (Streamable HTTP or stdio): the arguments validated as
// the action route validates a body, the handler run with the same per-call context the route builds,
// and any failure answered as a tool result carrying the route's error body (never a protocol error).
import { randomUUID } from 'node:crypto'
import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import AjvCompiler from '@fastify/ajv-compiler'
import { ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js'
import { trace } from '@opentelemetry/api'
import type { ActionDefinition } from '../actions/define.ts'
import { errorAnswer, InputInvalid, type AjvError } from '../plugins/error-handler.ts'
import { queryCount } from '../postgres/query-count.ts'
import { recordActionCall } from '../telemetry/metrics.ts'
import { actionContext } from '../routes/action-context.ts'
import type { SalesforceRequestContext } from '../salesforce/plugin.ts'
import { AJV_OPTIONS } from '../server-options.ts'
import { mcpTools, type McpTool } from './tools.ts'
import { RunAs } from './run-as.ts'

/** Who calls, as a tool call knows it. */
export interface ToolCaller {
  /** The MCP client (its id in MCP_CLIENTS), or `stdio`. */
  clientId: string
  /** The AppLink authorization it acts as. */
  authorization: string
  /** The org it acts for; an authorization of another org is refused. Undefined: the authorization's own. */
  orgId: string | undefined
  /** The tools it may list and call; undefined: all. */
  tools: ReadonlySet<string> | undefined
}

type Validate = ((data: unknown) => boolean) & { errors?: AjvError[] | null }
/** @fastify/ajv-compiler's validator factory, as Fastify calls it (its types describe another signature). */
type BuildValidator = (externalSchemas: object, options: { customOptions: object }) =>
(route: { schema: unknown }) => Validate

/** The tools of the actions, and the calls to them. */
export class Toolbox {
  readonly #app: FastifyInstance
  readonly #tools: Map<string, McpTool & { validate: Validate }>
  readonly #runAs: RunAs

  constructor (app: FastifyInstance, actions: readonly ActionDefinition[]) {
    this.#app = app
    this.#runAs = new RunAs(app)
    // The compiler and options Fastify validates action bodies with, so both doors refuse alike.
    const compile = (AjvCompiler as unknown as () => BuildValidator)()({}, { customOptions: AJV_OPTIONS })
    this.#tools = new Map(mcpTools(actions).map((tool) =>
      [tool.action.operationId, { ...tool, validate: compile({ schema: tool.action.request }) }]))
  }

  /** Every tool's name. */
  get names (): string[] { return [...this.#tools.keys()] }

  /** What tools/list shows the caller. */
  list (who: ToolCaller): Tool[] {
    return [...this.#tools.values()]
      .filter((tool) => allows(who, tool.action.operationId))
      .map((tool) => tool.definition)
  }

  /** One call: its result, or its failure as a result with `isError` and the route's error body. */
  async call (who: ToolCaller, name: string, args: Record<string, unknown> | undefined, log: FastifyBaseLogger):
  Promise<CallToolResult> {
    const tool = this.#tools.get(name)
    // A tool the caller may not call is, to them, no tool at all (MCP: "Unknown tool" is a protocol error).
    if (tool === undefined || !allows(who, name)) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`)
    const { action, validate } = tool
    const requestId = randomUUID()
    const input = args ?? {}
    const started = performance.now()
    const usage = { queries: 0 }
    let salesforce: SalesforceRequestContext | undefined
    let status: number = action.successStatus ?? 200
    try {
      if (!validate(input)) throw new InputInvalid(validate.errors ?? [])
      salesforce = await this.#runAs.context(who.authorization, who.orgId, requestId)
      const orgId = salesforce.caller.org.id
      // The POST's server span (one tool call per POST), as the action route marks its own.
      trace.getActiveSpan()?.setAttributes({
        'applink.operation_id': action.operationId,
        'salesforce.org_id': orgId,
        'applink.request_id': requestId,
        'applink.mcp_client': who.clientId
      })
      const mirror = this.#app.mirrors.lookup(orgId) ?? await this.#app.mirrors.mirrorFor(orgId)
      const context = actionContext(this.#app, action.operationId, salesforce, mirror, log)
      const result = await queryCount.run(usage, () => action.handler(input, context))
      return { content: [{ type: 'text', text: JSON.stringify(result) }], structuredContent: result as Record<string, unknown> }
    } catch (err) {
      const answer = errorAnswer(err as Error, { requestId, bodySchema: action.request, body: input })
      status = answer.status
      if (status >= 500) log.error({ err, requestId }, 'tool call failed')
      else log.info({ errorCode: answer.body.errorCode, status, requestId }, answer.body.message)
      return { isError: true, content: [{ type: 'text', text: JSON.stringify(answer.body) }] }
    } finally {
      const durationMs = performance.now() - started
      recordActionCall(action.operationId, status, durationMs / 1000,
        salesforce?.caller.org.id, salesforce?.org.apiCalls ?? 0)
      // The action route's line, with the door and the client: one log-based metric for both doors.
      log.info({
        operationId: action.operationId,
        door: 'mcp',
        mcpClient: who.clientId,
        status,
        durationMs: Math.round(durationMs * 10) / 10,
        orgApiCalls: salesforce?.org.apiCalls ?? 0,
        dbQueries: usage.queries,
        orgId: salesforce?.caller.org.id,
        userId: salesforce?.caller.user.id,
        requestId
      }, 'action')
    }
  }
}

const allows = (who: ToolCaller, name: string): boolean => who.tools === undefined || who.tools.has(name)
