// Record ids of the local org, with the checksum the service itself validates.
import { idChecksum, isValidId, normalizeId } from '@applink-actions/platform/ids'

export { idChecksum, isValidId, normalizeId }

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** Adds the checksum to a 15-character id; returns an 18-character id unchanged. */
export function to18 (id: string): string {
  return id.length === 15 ? id + idChecksum(id) : id
}

/** Generates ids: prefix + 2-character pod + 10-character base62 counter + checksum. */
export class IdGenerator {
  counter: number
  readonly pod: string

  constructor (start = 1, pod = 'Lo') {
    this.counter = start
    this.pod = pod
  }

  next (prefix: string): string {
    let n = this.counter++
    let body = ''
    for (let i = 0; i < 10; i++) {
      body = BASE62[n % 62] + body
      n = Math.floor(n / 62)
    }
    const id15 = prefix + this.pod + body
    return id15 + idChecksum(id15)
  }
}
