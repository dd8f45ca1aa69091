// Field-level Agentforce and privacy flags (`x-sfdc` on the fields of inline schemas).

export const agentInput = { 'x-sfdc': { agent: { action: { isUserInput: true } } } }
export const agentOutput = { 'x-sfdc': { agent: { action: { isDisplayable: true } } } }
export const agentPiiOutput = { 'x-sfdc': { agent: { action: { isDisplayable: true } }, privacy: { isPii: true } } }
