import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import type { Keyring } from '../keyring.ts'

export { keyringFrom, type Keyring } from '../keyring.ts'

/** What a job needs to call the org as the user after the request has ended. */
export interface JobCredentials {
  instanceUrl: string
  apiVersion: string
  accessToken: string
  orgId: string
  userId: string
}

export class CredentialsError extends Error {
  override name = 'CredentialsError'
}

const VERSION = 'v1'

const b64 = (buffer: Buffer): string => buffer.toString('base64url')

/**
 * AES-256-GCM with a fresh 96-bit IV; `boundTo` (the job id) is authenticated data, so a sealed
 * value copied onto another job does not open. Format: `v1.kid.iv.tag.ciphertext` (base64url).
 */
export function sealCredentials (keyring: Keyring, credentials: JobCredentials, boundTo: string): string {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', keyring.current.key, iv)
  cipher.setAAD(Buffer.from(boundTo, 'utf8'))
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(credentials), 'utf8'), cipher.final()])
  return [VERSION, keyring.current.kid, b64(iv), b64(cipher.getAuthTag()), b64(ciphertext)].join('.')
}

export function openCredentials (keyring: Keyring, sealed: string, boundTo: string): JobCredentials {
  const [version, kid = '', iv = '', tag = '', ciphertext = ''] = sealed.split('.')
  if (version !== VERSION) throw new CredentialsError(`sealed credentials have an unknown format ${String(version)}`)
  const key = keyring.keys.get(kid)
  if (key === undefined) throw new CredentialsError(`the key ${kid} that sealed the job's credentials is no longer configured in JOB_ENCRYPTION_KEYS`)
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'))
    decipher.setAAD(Buffer.from(boundTo, 'utf8'))
    decipher.setAuthTag(Buffer.from(tag, 'base64url'))
    const clear = Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()])
    return JSON.parse(clear.toString('utf8')) as JobCredentials
  } catch {
    throw new CredentialsError('the job\'s credentials do not decrypt (tampered, or sealed for another job)')
  }
}
