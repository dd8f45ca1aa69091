import { ConfigError } from './errors.ts'

// The keys that seal what a job needs after its request ended; validated with the config at start.

export interface Keyring {
  /** Encrypts new credentials. */
  current: { kid: string, key: Buffer }
  /** Every key that may still have sealed a queued job. */
  keys: Map<string, Buffer>
}

/** The settings the keyring is made from (see src/config.ts). */
export interface KeySettings { JOB_ENCRYPTION_KEYS?: string | undefined }

/**
 * Keys from `JOB_ENCRYPTION_KEYS` (`kid:base64,…`, the first encrypts). There is no default in
 * any environment: a key anyone could read in the source would open every sealed session.
 */
export function keyringFrom (config: KeySettings): Keyring {
  if (config.JOB_ENCRYPTION_KEYS === undefined) {
    throw new ConfigError('JOB_ENCRYPTION_KEYS is required unless APPLINK_AUTHORIZATION is set: it seals the ' +
      'caller\'s session each job keeps. Make one (kid:base64 of 32 random bytes): ' +
      'JOB_ENCRYPTION_KEYS="k1:$(openssl rand -base64 32)"')
  }
  const keys = new Map<string, Buffer>()
  let current: Keyring['current'] | undefined
  for (const entry of config.JOB_ENCRYPTION_KEYS.split(',')) {
    const [kid = '', encoded = ''] = entry.split(':')
    const key = Buffer.from(encoded, 'base64')
    if (key.length !== 32) throw new ConfigError(`JOB_ENCRYPTION_KEYS: key ${kid} is ${key.length} bytes, AES-256 needs 32`)
    // A key of one repeated byte (all zeros, a placeholder) is no secret.
    if (key.every((byte) => byte === key[0])) {
      throw new ConfigError(`JOB_ENCRYPTION_KEYS: key ${kid} is one byte repeated; make one with openssl rand -base64 32`)
    }
    if (keys.has(kid)) throw new ConfigError(`JOB_ENCRYPTION_KEYS: key id ${kid} appears twice`)
    keys.set(kid, key)
    current ??= { kid, key }
  }
  if (current === undefined) throw new ConfigError('JOB_ENCRYPTION_KEYS holds no key')
  return { current, keys }
}
