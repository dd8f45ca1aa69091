// The /mcp access tokens: short-lived JWTs (RFC 9068's shape: iss, sub, aud, exp, iat, jti) signed by
// this service with MCP_TOKEN_SIGNING_KEY through jose, and bound to the resource they were issued for
// (the `aud` is the /mcp URL, RFC 8707), so a token for another resource or host is refused.
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import { SignJWT, jwtVerify } from 'jose'
import type { McpClientSetting } from '../config.ts'

const ALGORITHM = 'HS256'
/** Past this many tokens remembered as checked, the oldest is forgotten first. */
const MAX_REMEMBERED = 10_000

/** Whether `secret` is the client's: its SHA-256 compared in constant time (only the hash is configured). */
export function secretMatches (client: McpClientSetting, secret: string): boolean {
  const given = createHash('sha256').update(secret, 'utf8').digest()
  return timingSafeEqual(given, Buffer.from(client.secretSha256, 'hex'))
}

interface Checked { clientId: string, issuer: string, audience: string, expiresAt: number }

export class AccessTokens {
  readonly #key: Uint8Array
  readonly #ttlSeconds: number
  /** Tokens already checked, until they expire: a call then costs a map look-up, not a signature. */
  readonly #checked = new Map<string, Checked>()

  constructor (key: Uint8Array, ttlSeconds: number) {
    this.#key = key
    this.#ttlSeconds = ttlSeconds
  }

  /** A token for the client at the resource `audience`, from the authorization server `issuer`. */
  async issue (clientId: string, issuer: string, audience: string): Promise<{ token: string, expiresIn: number }> {
    const token = await new SignJWT({ client_id: clientId })
      .setProtectedHeader({ alg: ALGORITHM, typ: 'at+jwt' })
      .setIssuer(issuer)
      .setSubject(clientId)
      .setAudience(audience)
      .setIssuedAt()
      .setExpirationTime(`${this.#ttlSeconds}s`)
      .setJti(randomUUID())
      .sign(this.#key)
    return { token, expiresIn: this.#ttlSeconds }
  }

  /** The client a token was issued to, when it is ours, unexpired, from `issuer` and for `audience`; else undefined. */
  async clientOf (token: string, issuer: string, audience: string): Promise<string | undefined> {
    const now = Date.now()
    const known = this.#checked.get(token)
    if (known !== undefined) {
      if (known.expiresAt > now && known.issuer === issuer && known.audience === audience) return known.clientId
      if (known.expiresAt <= now) this.#checked.delete(token)
      return undefined
    }
    try {
      const { payload } = await jwtVerify(token, this.#key, {
        algorithms: [ALGORITHM],
        issuer,
        audience,
        typ: 'at+jwt',
        requiredClaims: ['sub', 'exp', 'iat', 'jti']
      })
      const clientId = payload.sub
      if (clientId === undefined || payload.exp === undefined) return undefined
      this.#remember(token, { clientId, issuer, audience, expiresAt: payload.exp * 1000 })
      return clientId
    } catch {
      return undefined
    }
  }

  #remember (token: string, checked: Checked): void {
    if (this.#checked.size >= MAX_REMEMBERED) {
      const oldest = this.#checked.keys().next()
      if (oldest.done !== true) this.#checked.delete(oldest.value)
    }
    this.#checked.set(token, checked)
  }
}
