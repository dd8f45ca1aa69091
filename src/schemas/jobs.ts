import { Type, type Static } from 'typebox'
import { SalesforceId, StringEnum } from './common.ts'

/** The filters a caller may choose from: fixed lists, never free SOQL or SQL. */
export const SEGMENTS = ['Customer', 'Prospect', 'Partner'] as const
export const INDUSTRIES = ['Technology', 'Manufacturing', 'Healthcare', 'Retail', 'Finance'] as const

const JobId = (description: string) => Type.String({ pattern: '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$', description })
const JOB_STATES = ['queued', 'running', 'retrying', 'completed', 'failed', 'cancelled'] as const
export const EVENT_PUBLISH_STATES = ['published', 'refused', 'unknown'] as const

/** Which accounts a rescore covers: every account when no filter is given. */
const rescoreFilterFields = {
  segment: Type.Optional(StringEnum(SEGMENTS, { description: 'Only accounts of this type' })),
  industry: Type.Optional(StringEnum(INDUSTRIES, { description: 'Only accounts of this industry' })),
  ownerId: Type.Optional(SalesforceId({ description: 'Only accounts this user owns' }))
}

export const RescoreAccountsRequest = Type.Object({
  ...rescoreFilterFields,
  callbackUrl: Type.String({
    pattern: '^https?://',
    maxLength: 2000,
    description: 'Where the summary is POSTed when the job ends: a Salesforce domain of the calling org ' +
      '(sent with the caller\'s session) or an origin the service is configured to allow'
  })
}, { additionalProperties: false, description: 'Which accounts to rescore (every account when no filter is given) and where to report' })

const acceptedFields = {
  jobId: JobId('Id of the job; pass it to getJobStatus'),
  state: StringEnum(JOB_STATES, { description: 'State of the job: queued right after it was accepted' })
}

export const RescoreAccountsAccepted = Type.Object(acceptedFields, {
  additionalProperties: false,
  description: 'The job was queued; the summary arrives at callbackUrl'
})

/** The Flow-usable start: the same filter, no callback (External Services callbacks are Apex-only). */
export const StartAccountRescoreRequest = Type.Object(rescoreFilterFields, {
  additionalProperties: false,
  description: 'Which accounts to rescore; every account when no filter is given'
})

export const StartAccountRescoreAccepted = Type.Object(acceptedFields, {
  additionalProperties: false,
  description: 'The job was queued; when it ends, the platform event Account_Rescore__e announces it in the org'
})

export const RescoreFailure = Type.Object({
  id: SalesforceId({ description: 'Account that was not updated' }),
  errorCode: Type.String({ description: 'Salesforce status code, e.g. INSUFFICIENT_ACCESS_OR_READONLY' }),
  message: Type.String({ description: 'Salesforce\'s message' })
}, { additionalProperties: false })

const summaryFields = {
  jobId: JobId('Id of the job'),
  state: StringEnum(['completed'], { description: 'Always completed: a job that cannot finish is reported by getJobStatus' }),
  total: Type.Integer({ minimum: 0, description: 'Accounts that matched the filter' }),
  written: Type.Integer({ minimum: 0, description: 'Accounts whose health score was written' }),
  failed: Type.Integer({ minimum: 0, description: 'Accounts Salesforce refused to update, listed in failures' }),
  notPermitted: Type.Integer({ minimum: 0, description: 'Accounts the caller may not edit: counted, not listed (their ids are not the caller\'s to see)' }),
  failures: Type.Array(RescoreFailure, { maxItems: 1000, description: 'The refused accounts (the first 1,000)' }),
  failuresTruncated: Type.Boolean({ description: 'More accounts failed than failures lists' }),
  scoredAt: Type.String({ format: 'date-time', description: 'Health_Scored_At__c written on every account' })
}

/** The body POSTed to callbackUrl when a rescore ends (the action's OpenAPI callback). */
export const RescoreSummary = Type.Object(summaryFields, { additionalProperties: false, description: 'Summary of a finished rescore' })
export type RescoreSummaryType = Static<typeof RescoreSummary>

/** The job's stored result: the summary and how the callback went. */
export const RescoreResult = Type.Object({
  ...summaryFields,
  callbackStatus: Type.Optional(Type.Integer({ description: 'HTTP status callbackUrl answered with' })),
  eventState: Type.Optional(StringEnum(EVENT_PUBLISH_STATES, {
    description: 'How publishing the Account_Rescore__e platform event went: published, refused by Salesforce, ' +
      'or unknown (sent, but no answer came back; not sent again)'
  }))
}, { additionalProperties: false, description: 'Result of a finished rescore' })
export type RescoreResultType = Static<typeof RescoreResult>

export const GetJobStatusRequest = Type.Object({
  jobId: JobId('Id of the job, as its action returned it')
}, { additionalProperties: false })

export const JobStatusResponse = Type.Object({
  jobId: JobId('Id of the job'),
  kind: Type.String({ description: 'What the job does, e.g. rescore-accounts' }),
  state: StringEnum(JOB_STATES, { description: 'queued, running, retrying (after a transient failure), completed, failed (for good) or cancelled' }),
  attempts: Type.Integer({ minimum: 0, description: 'How many times a worker started the job' }),
  progress: Type.Object({
    done: Type.Integer({ minimum: 0, description: 'Records processed' }),
    total: Type.Integer({ minimum: 0, description: 'Records to process (0 until known)' })
  }, { additionalProperties: false }),
  result: Type.Optional(RescoreResult),
  error: Type.Optional(Type.Object({
    errorCode: Type.String({ description: 'Why the job (or its last attempt) failed' }),
    message: Type.String()
  }, { additionalProperties: false })),
  createdAt: Type.String({ format: 'date-time' }),
  completedAt: Type.Optional(Type.String({ format: 'date-time' }))
}, { additionalProperties: false, description: 'State and progress of a job' })
