import { Type, type Static } from 'typebox'

/** The request header AppLink fills with the caller's context. */
export const CLIENT_CONTEXT_HEADER = 'x-client-context'

/** The JSON AppLink sends, base64-encoded, in `x-client-context`. */
export const ClientContextSchema = Type.Object({
  accessToken: Type.String({ minLength: 1 }),
  apiVersion: Type.String({ pattern: '^v?\\d+(\\.\\d+)?$' }),
  requestId: Type.Optional(Type.String()),
  namespace: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  orgId: Type.String({ minLength: 15, maxLength: 18 }),
  orgDomainUrl: Type.String({ minLength: 1 }),
  userContext: Type.Object({
    userId: Type.String({ minLength: 15, maxLength: 18 }),
    username: Type.String({ minLength: 1 })
  })
})
export type ClientContext = Static<typeof ClientContextSchema>
