import { accessOf, type RecordAccess } from './queries.ts'
import type { OrgClient } from './org-client.ts'

/**
 * Remembers UserRecordAccess answers per org, user and record for a short time, so an agent
 * asking several questions about one account spends one API call. Bounded in size. Records are
 * keyed by their 15-character id, so an 18-character id and its short form share one entry.
 */
export class AccessCache {
  readonly #ttlMs: number
  readonly #maxEntries: number
  readonly #entries = new Map<string, { access: RecordAccess, expires: number }>()

  constructor (ttlMs: number, maxEntries = 50_000) {
    this.#ttlMs = ttlMs
    this.#maxEntries = maxEntries
  }

  /**
   * The one way to filter mirrored org records by the caller's sharing: a function that keeps the
   * ids the caller may read. What is not cached is asked of the org in UserRecordAccess queries of
   * 200 ids (⌈misses/200⌉ API calls, none when every id is cached, none for no ids); a record the
   * answer leaves out (deleted, or unknown to the org) counts as unreadable, and is remembered so.
   */
  readableBy (
    caller: { orgId: string, userId: string }, org: OrgClient
  ): (ids: readonly string[]) => Promise<ReadonlySet<string>> {
    const prefix = `${caller.orgId}:${caller.userId}:`
    return async (ids) => {
      const readable = new Set<string>()
      const missing: string[] = []
      const now = Date.now()
      for (const id of ids) {
        const hit = this.#hit(prefix + id.slice(0, 15), now)
        if (hit === undefined) missing.push(id)
        else if (hit.read) readable.add(id)
      }
      if (missing.length === 0) return readable
      const answers = await accessOf(org, caller.userId, [...new Set(missing)])
      const answered = Date.now()
      for (const id of missing) {
        const access = answers.get(id.slice(0, 15)) ?? NO_ACCESS
        this.#remember(prefix + id.slice(0, 15), access, answered)
        if (access.read) readable.add(id)
      }
      return readable
    }
  }

  #hit (id: string, now: number): RecordAccess | undefined {
    const hit = this.#entries.get(id)
    return hit !== undefined && hit.expires > now ? hit.access : undefined
  }

  #remember (id: string, access: RecordAccess, now: number): void {
    if (this.#ttlMs <= 0) return
    this.#entries.delete(id)
    // Map iteration order is insertion order: the first key is the oldest.
    if (this.#entries.size >= this.#maxEntries) this.#entries.delete(this.#entries.keys().next().value as string)
    this.#entries.set(id, { access, expires: now + this.#ttlMs })
  }
}

const NO_ACCESS: RecordAccess = { read: false, edit: false }
