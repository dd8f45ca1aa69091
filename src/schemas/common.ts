import { Type, type Static, type TSchemaOptions, type TUnsafe } from 'typebox'
import { agentHiddenInput } from './agent-flags.ts'

import { SALESFORCE_ID_PATTERN } from '@applink-actions/platform/ids'

export { SALESFORCE_ID_PATTERN }

/**
 * A Salesforce record id: 15 (case-sensitive) or 18 (case-insensitive checksum) characters.
 * A function rather than one shared `$id` schema so each use can stay inline, where Agentforce
 * needs its field metadata, and carry its own description.
 */
export const SalesforceId = (options: TSchemaOptions = {}) =>
  Type.String({ pattern: SALESFORCE_ID_PATTERN, minLength: 15, maxLength: 18, ...options })

/**
 * Free text from a person or an agent. NUL cannot be stored by PostgreSQL nor Salesforce, so it
 * is refused at the door with the field named, like any other invalid input.
 */
export const Text = (options: TSchemaOptions & { minLength?: number, maxLength?: number } = {}) =>
  Type.String({ pattern: '^[^\\u0000]*$', ...options })

/**
 * The optional key of a write action: a repeat with the same key gets the first answer back
 * (default: the AppLink request id, which a retry of the same invocation keeps). Not a user input for
 * an agent: the user has no key to give, and an agent asking for one would stall the conversation.
 */
export const IdempotencyKey = (maxLength: number, result: string) => Type.Optional(Text({
  minLength: 1,
  maxLength,
  description: `Repeat a call with the same key to get the first ${result} back instead of a second one (default: the AppLink request id)`,
  ...agentHiddenInput
}))

/**
 * A string from a fixed list, declared `type: string` with `enum` in the spec. TypeBox's own
 * `Type.Enum` / unions of literals produce `anyOf`/`enum` without a `type`, and an untyped schema
 * is registered as Salesforce Help, "Schema Definitions" lists it: "any type (as Apex Object)",
 * a type Flow cannot hold in a variable.
 */
export const StringEnum = <const T extends readonly string[]>(
  values: T,
  options: TSchemaOptions = {}
): TUnsafe<T[number]> =>
    Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options })

/** An amount in the org's currency, rounded to cents. */
export const Money = (options: TSchemaOptions = {}) => Type.Number({ ...options })

/** The body of every error answer; Apex and Flow fault paths read `errorCode` and `message`. */
export const ErrorBody = Type.Object({
  errorCode: Type.String({ description: 'Stable code: Salesforce\'s errorCode when the org refused, else one of the service\'s' }),
  message: Type.String({ description: 'What went wrong, for a person' }),
  fields: Type.Array(Type.String(), { description: 'Input or Salesforce fields at fault' }),
  requestId: Type.String({ description: 'The AppLink request id, to find the call in the logs' })
}, { $id: 'ErrorBody', additionalProperties: false, description: 'Error answer of every action' })
export type ErrorBodyType = Static<typeof ErrorBody>
