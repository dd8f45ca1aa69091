import type { RecordAccess } from './queries.ts'

/**
 * Remembers UserRecordAccess answers per org, user and record for a short time, so an agent
 * asking several questions about one account spends one API call. Bounded in size.
 */
export class AccessCache {
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #entries = new Map<string, { access: RecordAccess, expires: number }>()

  constructor (ttlMs: number, maxEntries = 50_000) {
    this.#ttlMs = ttlMs
    this.#maxEntries = maxEntries
  }

  async get (
    key: { orgId: string, userId: string, recordId: string },
    load: () => Promise<RecordAccess>
  ): Promise<{ access: RecordAccess, cached: boolean }> {
    const id = `${key.orgId}:${key.userId}:${key.recordId}`
    const now = Date.now()
    const hit = this.#entries.get(id)
    if (hit !== undefined && hit.expires > now) return { access: hit.access, cached: true }
    const access = await load()
    if (this.#ttlMs > 0) {
      this.#entries.delete(id)
      // Map iteration order is insertion order: the first key is the oldest.
      if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value as string)
      this.#entries.set(id, { access, expires: now + this.#ttlMs })
    }
    return { access, cached: false }
  }
}
