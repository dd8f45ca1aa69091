// Salesforce REST error bodies: an array of {message, errorCode, fields}; sObject Collections
// results name the code `statusCode`.

/** One entry of Salesforce's error array; sObject Collections name the code `statusCode`. */
export interface SalesforceErrorEntry { message: string, errorCode: string, fields: string[] }

/** Reads Salesforce's error body (array, single object, or anything else) into entries. */
export function parseSalesforceErrors (body: unknown): SalesforceErrorEntry[] {
  const list = Array.isArray(body) ? body : body !== null && typeof body === 'object' ? [body] : []
  return list.flatMap((item: unknown) => {
    if (item === null || typeof item !== 'object') return []
    const e = item as Record<string, unknown>
    const code = e.errorCode ?? e.statusCode
    if (typeof code !== 'string') return []
    return [{
      message: typeof e.message === 'string' ? e.message : code,
      errorCode: code,
      fields: Array.isArray(e.fields) ? e.fields.filter((f): f is string => typeof f === 'string') : []
    }]
  })
}
