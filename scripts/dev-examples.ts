// The calls `npm run dev` prints when ready: one per action, with real ids of the local org for
// one user, ready to paste. Calls that need an id another call answers (a feedback id, a job id)
// take it from that call's answer (`--pick`), in one line.
import type { LocalOrg } from '@applink-actions/local-org'
import { actions } from '../src/actions/index.ts'
import { DEV_DATA_DIR } from './dev-state.ts'

/** The user `npm run invoke` calls as by default. */
const DEFAULT_USER = 'rep1@acme.local'

export interface ExampleCall {
  operationId: string
  body: Record<string, unknown>
  /** The call whose answer's field goes into `body` first, under the same name. */
  after?: { call: ExampleCall, field: string }
  /** What to paste into a shell in the project's folder. */
  command: string
}

/** Single-quoted for a POSIX shell. */
const shellQuote = (text: string): string => `'${text.replaceAll('\'', '\'\\\'\'')}'`

/** Who calls, and from which dev data folder: invoke's options beyond its defaults. */
interface Caller { user: string, dataDir: string }

const callerOptions = ({ user, dataDir }: Caller): string =>
  `${user === DEFAULT_USER ? '' : ` --user ${user}`}${dataDir === DEV_DATA_DIR ? '' : ` --data-dir ${shellQuote(dataDir)}`}`

function invoke (operationId: string, body: Record<string, unknown>, caller: Caller, pick?: string): string {
  const options = `${callerOptions(caller)}${pick === undefined ? '' : ` --pick ${pick}`}`
  return `npm run -s invoke -- ${operationId} ${shellQuote(JSON.stringify(body))}${options}`
}

function call (operationId: string, body: Record<string, unknown>, caller: Caller): ExampleCall {
  return { operationId, body, command: invoke(operationId, body, caller) }
}

/** A call taking `field` from the answer of `first`, e.g. getJobStatus after startAccountRescore. */
function callAfter (operationId: string, first: ExampleCall, field: string, caller: Caller): ExampleCall {
  const value = `$(${invoke(first.operationId, first.body, caller, field)})`
  // Ids are strings, the feedback id a number: the shell puts the answer in the JSON as it is.
  const quoted = field === 'feedbackId' ? value : `\\"${value}\\"`
  return {
    operationId,
    body: {},
    after: { call: first, field },
    command: `npm run -s invoke -- ${operationId} "{\\"${field}\\":${quoted}}"${callerOptions(caller)}`
  }
}

/**
 * One example per action of the registry, for `username` of `org`: an opportunity of theirs with
 * products, an account of theirs with open opportunities, products in stock.
 */
export function exampleCalls (org: LocalOrg, username: string, dataDir = DEV_DATA_DIR): ExampleCall[] {
  const caller = { user: username, dataDir }
  const userId = org.user(username).id
  const opportunities = org.records('Opportunity').filter((o) => o.OwnerId === userId && o.IsClosed === false)
  const quotable = opportunities.find((o) => o.HasOpportunityLineItem === true)
  const withOpen = new Set(opportunities.map((o) => String(o.AccountId)))
  const account = org.records('Account').find((a) => a.OwnerId === userId && withOpen.has(String(a.Id)))
  const products = org.records('Product2').filter((p) => p.IsActive === true && typeof p.ProductCode === 'string')
  const [first, second] = products.map((p) => String(p.ProductCode)).sort()
  if (quotable === undefined || account === undefined || first === undefined || second === undefined) {
    throw new Error(`the local org has no open opportunity with products, account or products for ${username}`)
  }
  const feedback = call('logProductFeedback',
    { productCode: first, rating: 5, comment: 'Arrived on time and works as described' }, caller)
  const rescore = call('startAccountRescore', { ownerId: userId }, caller)
  const examples: Record<string, ExampleCall> = {
    whoAmI: call('whoAmI', {}, caller),
    generateQuote: call('generateQuote', { opportunityId: quotable.Id }, caller),
    checkAvailability: call('checkAvailability',
      { items: [{ productCode: first, quantity: 5 }, { productCode: second, quantity: 40 }] }, caller),
    accountInsights: call('accountInsights', { accountId: account.Id }, caller),
    logProductFeedback: feedback,
    getSyncStatus: callAfter('getSyncStatus', feedback, 'feedbackId', caller),
    // The callback goes to the caller's org, as Salesforce's would (it answers 404 locally: the job
    // records that and ends).
    rescoreAccounts: call('rescoreAccounts', { ownerId: userId, callbackUrl: `${org.url}/services/apexrest/rescoreDone` }, caller),
    startAccountRescore: rescore,
    getJobStatus: callAfter('getJobStatus', rescore, 'jobId', caller)
  }
  // A new action has no example yet: an empty body, to fill in (add it above).
  return actions.map((action) => examples[action.operationId] ?? call(action.operationId, {}, caller))
}
