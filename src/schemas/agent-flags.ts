// Field-level Agentforce and privacy flags (`x-sfdc` on the fields of inline schemas).
//
// Heroku Dev Center, "Configuring OpenAPI Specification for Heroku AppLink":
// "x-sfdc/agent/action/isUserInput | Required if publishAsAgentAction is enabled. true surfaces the
// field for further user input." and "x-sfdc/agent/action/isDisplayable | Required if
// publishAsAgentAction is enabled. true makes the field displayable to the user." They sit on each
// property of the action's inline request body (isUserInput) and success response (isDisplayable);
// `npm run spec:lint` checks that placement (src/spec/lint-agent.ts).

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
