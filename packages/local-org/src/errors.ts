// Salesforce REST error bodies: arrays of { message, errorCode, fields? }.

export interface SfErrorItem {
  message: string
  errorCode: string
  fields?: string[]
}

export class SfError extends Error {
  readonly status: number
  readonly errorCode: string
  readonly fields: string[] | undefined

  constructor (status: number, errorCode: string, message: string, fields?: string[]) {
    super(message)
    this.status = status
    this.errorCode = errorCode
    this.fields = fields
  }

  item (): SfErrorItem {
    const out: SfErrorItem = { message: this.message, errorCode: this.errorCode }
    if (this.fields !== undefined) out.fields = this.fields
    return out
  }

  body (): SfErrorItem[] {
    return [this.item()]
  }
}

export const notFound = (): SfError => new SfError(404, 'NOT_FOUND', 'The requested resource does not exist')
export const invalidSession = (): SfError => new SfError(401, 'INVALID_SESSION_ID', 'Session expired or invalid')
