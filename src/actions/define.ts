import type { FastifyBaseLogger } from 'fastify'
import type { Static, TObject, TSchema } from 'typebox'
import type { Caller } from '../salesforce/context.ts'
import type { OrgClient } from '../salesforce/org-client.ts'
import type { CallerMirror } from '../postgres/caller-mirror.ts'
import type { OrgScope } from '../postgres/org-scope.ts'
import type { Claim } from '../postgres/idempotency.ts'
import type { JobKind, JobState, JobStatus } from '../jobs/queue.ts'

/** The caller's jobs: started as them, read back only by them. */
export interface CallerJobs {
  /**
   * Queues a job for the caller: it reaches the org as them (or as their org's AppLink
   * authorization). The same work started again while it runs answers that job; past the org's
   * limit of unended jobs, 429 TOO_MANY_JOBS.
   */
  start: <P extends object>(kind: JobKind<P>, payload: P) => Promise<{ jobId: string, state: JobState }>
  /** A job of `kind` the caller started; null when there is none or it is someone else's. */
  status: <P extends object, R extends object>(jobId: string, kind: JobKind<P, R>) => Promise<JobStatus<R> | null>
  /** Whether a job may POST its summary to `url`: the caller's org's own domains, or CALLBACK_ALLOWED_ORIGINS. */
  allowsCallback: (url: string) => boolean
}

/**
 * What a handler gets besides its validated input: everything scoped to the caller, nothing of
 * the app's that would let it read another org's or another user's data.
 */
export interface ActionContext {
  caller: Caller
  /** The org's REST API as the caller (timeouts, retries, call counting). */
  org: OrgClient
  /**
   * The caller's org's mirror, as the caller may see it (rows of shared objects filtered by their
   * access in Salesforce). Reading it throws OrgNotMirrored (403 ORG_NOT_MIRRORED) when the org has
   * none, so actions that never touch it keep working for such an org.
   */
  readonly mirror: CallerMirror
  /**
   * The app's own tables (pricing, stock, web orders, feedback owners), as the caller's org: every
   * statement runs in a transaction that row-level security limits to that org's rows.
   */
  readonly appData: OrgScope
  jobs: CallerJobs
  /**
   * For write actions: runs `work` once per caller and idempotency key (the input's
   * `idempotencyKey`, else the AppLink request id, which a retry of the same invocation keeps) and
   * says whether the answer is a replay. The work gets the claim: the key as the org sees it,
   * whether an earlier attempt may have written, and `sending()` to call just before an org write.
   */
  once: <T extends object>(
    input: { idempotencyKey?: string | undefined },
    work: (claim: Claim) => Promise<T>
  ) => Promise<T & { replayed: boolean }>
  log: FastifyBaseLogger
}

/**
 * What calling an action does, as MCP tool annotations say it (MCP specification, "Tools",
 * ToolAnnotations: `readOnlyHint` "If true, the tool does not modify its environment",
 * `destructiveHint` "If true, the tool may perform destructive updates to its environment. If false,
 * the tool performs only additive updates", `idempotentHint` "If true, calling the tool repeatedly
 * with the same arguments will have no additional effect on its environment").
 */
export interface ActionTool {
  readOnly: boolean
  destructive: boolean
  idempotent: boolean
  /**
   * A write is offered over MCP only when its action opts in: an MCP call acts as the org's AppLink
   * authorization (its run-as user), not as the person the agent speaks for.
   */
  writesOverMcp?: boolean
}

/** Reads only: changes nothing in the org, the mirror, the app's tables or the job queue. */
export const readOnlyTool: ActionTool = { readOnly: true, destructive: false, idempotent: true }

/** Operation-level `x-sfdc` metadata (External Services / Agentforce). */
export interface ActionSfdc {
  heroku?: { authorization: { permissionSet: string, externalClientApp?: string, connectedApp?: string } }
  agent?: { action: { publishAsAgentAction: boolean } }
}

export interface ActionDefinition<Req extends TObject = TObject, Res extends TSchema = TSchema> {
  /** Becomes an Apex identifier (`<operationId>_Request`): keep it stable. */
  operationId: string
  summary: string
  /** Shown to admins in Flow and to the agent planner; ≤ 1,333 characters. */
  description: string
  request: Req
  response: Res
  /** 200 for answers, 202 for accepted asynchronous work. */
  successStatus?: 200 | 201 | 202
  sfdc?: ActionSfdc
  /**
   * 'verified' (the default): before the handler runs, the org confirms that the context's token
   * belongs to the context's org and user (src/salesforce/identity.ts), so nothing is read, written or
   * queued for a forged caller. 'from-context': the handler only repeats the context back (whoAmI).
   */
  identity?: 'verified' | 'from-context'
  /** OpenAPI `callbacks` of an asynchronous action. */
  callbacks?: Record<string, unknown>
  /**
   * What a call does to data, which also offers the action as an MCP tool (src/mcp): its
   * annotations come from here. Without it the action is no tool; an action with callbacks never is
   * one (Salesforce supports callbacks in Apex only).
   */
  tool?: ActionTool
  /**
   * A method, not a function property, so an action of any schema is an `ActionDefinition` in the
   * registry's list; the route validates each body against that action's own `request`, which is
   * what makes its input a `Static<Req>`.
   */
  handler (input: Static<Req>, ctx: ActionContext): Promise<Static<Res>>
}

/** Identity function that lets TypeScript infer the handler's types from the schemas. */
export function defineAction<Req extends TObject, Res extends TSchema> (
  action: ActionDefinition<Req, Res>
): ActionDefinition<Req, Res> {
  return action
}

export const actionPath = (operationId: string): string => `/actions/${operationId}`

/** The session-based permission set (salesforce/) that AppLink activates for each call. */
export const PERMISSION_SET = 'AppLinkActions_User'

/** Called from Flow and Apex. */
export const flowAction: ActionSfdc = { heroku: { authorization: { permissionSet: PERMISSION_SET } } }

/** Called from Flow and Apex, and published as an Agentforce agent action. */
export const agentAction: ActionSfdc = { ...flowAction, agent: { action: { publishAsAgentAction: true } } }
