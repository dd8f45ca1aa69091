import { createHash } from 'node:crypto'
import { ConfigError } from './errors.ts'

// The keys that seal what a job needs after its request ended; validated with the config at start.

export interface Keyring {
  /** Encrypts new credentials. */
  current: { kid: string, key: Buffer }
  /** Every key that may still have sealed a queued job. */
  keys: Map<string, Buffer>
}

/** The settings the keyring is made from (see src/config.ts). */
export interface KeySettings { NODE_ENV: string, JOB_ENCRYPTION_KEYS?: string | undefined }

const DEV_KID = 'dev'

/**
 * Keys from `JOB_ENCRYPTION_KEYS` (`kid:base64,…`, the first encrypts). Outside production a
 * fixed development key stands in when unset, so a fresh clone runs; production refuses to start.
 */
export function keyringFrom (config: KeySettings): Keyring {
  if (config.JOB_ENCRYPTION_KEYS === undefined) {
    if (config.NODE_ENV === 'production') throw new ConfigError('JOB_ENCRYPTION_KEYS is required when NODE_ENV=production (kid:base64 32-byte key, e.g. k1:$(openssl rand -base64 32))')
    const key = createHash('sha256').update('applink-actions development job key (not secret)').digest()
    return { current: { kid: DEV_KID, key }, keys: new Map([[DEV_KID, key]]) }
  }
  const keys = new Map<string, Buffer>()
  let current: Keyring['current'] | undefined
  for (const entry of config.JOB_ENCRYPTION_KEYS.split(',')) {
    const [kid = '', encoded = ''] = entry.split(':')
    const key = Buffer.from(encoded, 'base64')
    if (key.length !== 32) throw new ConfigError(`JOB_ENCRYPTION_KEYS: key ${kid} is ${key.length} bytes, AES-256 needs 32`)
    if (keys.has(kid)) throw new ConfigError(`JOB_ENCRYPTION_KEYS: key id ${kid} appears twice`)
    keys.set(kid, key)
    current ??= { kid, key }
  }
  if (current === undefined) throw new ConfigError('JOB_ENCRYPTION_KEYS holds no key')
  return { current, keys }
}
