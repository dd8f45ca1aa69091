import { recordOrgApiUsage } from '../telemetry/metrics.ts'
import { Unavailable } from '../errors.ts'

/**
 * The org's daily API allowance as seen on the last `Sforce-Limit-Info` header, per org. When
 * what remains falls under the floor, calls are refused before they are made, so automation
 * does not spend the calls the org's users and integrations still need. A reading is trusted
 * for `staleAfterMs`; after that calls go through again until an answer brings a new reading.
 */
export class ApiLimits {
  readonly #floorPercent: number
  readonly #staleAfterMs: number
  readonly #byOrg = new Map<string, { used: number, max: number, at: number }>()

  constructor (floorPercent: number, staleAfterMs = 300_000) {
    this.#floorPercent = floorPercent
    this.#staleAfterMs = staleAfterMs
  }

  // Keyed by the org id's first 15 characters: a context and an AppLink authorization may give either form.
  record (orgId: string, used: number, max: number): void {
    this.#byOrg.set(orgId.slice(0, 15), { used, max, at: Date.now() })
    recordOrgApiUsage(orgId, used, max)
  }

  /** The org's last fresh reading when it is under the floor, with how long it stays trusted. */
  underFloor (orgId: string): { used: number, max: number, retryAfterSeconds: number } | undefined {
    const reading = this.#byOrg.get(orgId.slice(0, 15))
    if (reading === undefined || reading.max === 0) return undefined
    const age = Date.now() - reading.at
    if (age > this.#staleAfterMs) return undefined
    const remainingPercent = ((reading.max - reading.used) / reading.max) * 100
    if (remainingPercent >= this.#floorPercent) return undefined
    return { used: reading.used, max: reading.max, retryAfterSeconds: Math.ceil((this.#staleAfterMs - age) / 1000) }
  }

  /** Throws 503 API_LIMIT_NEAR when the org is under the floor. */
  check (orgId: string): void {
    const under = this.underFloor(orgId)
    if (under === undefined) return
    throw new Unavailable('API_LIMIT_NEAR',
      `The org has used ${under.used} of its ${under.max} daily API calls; this action is paused to keep ${this.#floorPercent}% for other work. Actions that read only the database keep working.`,
      under.retryAfterSeconds)
  }
}
