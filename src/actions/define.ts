import type { FastifyBaseLogger, FastifyInstance } from 'fastify'
import type { Static, TObject, TSchema } from 'typebox'
import type { DataApi } from '@heroku/applink/dist/index.js'
import type { Caller } from '../salesforce/context.ts'
import type { OrgClient } from '../salesforce/org-client.ts'

/** What a handler gets besides its validated input. */
export interface ActionContext {
  caller: Caller
  /** The org's REST API as the caller (timeouts, retries, call counting). */
  org: OrgClient
  /** The AppLink SDK's data API for the same caller (unit of work). */
  dataApi: DataApi
  /** The app, for its services: `pg`, `mirror`, `config`, … */
  app: FastifyInstance
  log: FastifyBaseLogger
}

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
  /** OpenAPI `callbacks` of an asynchronous action. */
  callbacks?: Record<string, unknown>
  handler: (input: Static<Req>, ctx: ActionContext) => Promise<Static<Res>>
}

/** Identity function that lets TypeScript infer the handler's types from the schemas. */
export function defineAction<Req extends TObject, Res extends TSchema> (action: ActionDefinition<Req, Res>): ActionDefinition<Req, Res> {
  return action
}

export const actionPath = (operationId: string): string => `/actions/${operationId}`

/** The session-based permission set (salesforce/) that AppLink activates for each call. */
export const PERMISSION_SET = 'AppLinkActions_User'

/** Called from Flow and Apex. */
export const flowAction: ActionSfdc = { heroku: { authorization: { permissionSet: PERMISSION_SET } } }

/** Called from Flow and Apex, and published as an Agentforce agent action. */
export const agentAction: ActionSfdc = { ...flowAction, agent: { action: { publishAsAgentAction: true } } }

/*
 * Field-level Agentforce flags. Heroku Dev Center, "Configuring OpenAPI Specification for Heroku
 * AppLink": "x-sfdc/agent/action/isUserInput | Required if publishAsAgentAction is enabled. true
 * surfaces the field for further user input." and "x-sfdc/agent/action/isDisplayable | Required if
 * publishAsAgentAction is enabled. true makes the field displayable to the user." They sit on each
 * property of the action's inline request body (isUserInput) and success response (isDisplayable);
 * `npm run spec:lint` checks that placement (src/spec/lint-agent.ts).
 */
/** An input the agent asks the user for when it lacks it. */
export const agentInput = { 'x-sfdc': { agent: { action: { isUserInput: true } } } }
/** An input the user does not have (an idempotency key): the agent never asks for it. */
export const agentHiddenInput = { 'x-sfdc': { agent: { action: { isUserInput: false } } } }
/**
 * Personal data. Same document: "x-sfdc/privacy/isPii | Optional. If publishAsAgentAction is enabled,
 * and this attribute is true, ..." -- a field-level flag under x-sfdc.privacy, beside (not inside)
 * x-sfdc.agent.action.
 */
export const agentPiiInput = { 'x-sfdc': { agent: { action: { isUserInput: true } }, privacy: { isPii: true } } }
export const agentOutput = { 'x-sfdc': { agent: { action: { isDisplayable: true } } } }
export const agentPiiOutput = { 'x-sfdc': { agent: { action: { isDisplayable: true } }, privacy: { isPii: true } } }
