import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'

/** What `npm run dev` leaves for `npm run invoke`: where things run, and a context per user. */
export interface DevState {
  serviceUrl: string
  localOrgUrl: string
  contexts: Record<string, string>
}

/** Where `npm run dev` keeps its data unless told otherwise (--data-dir). */
export const DEV_DATA_DIR = '.data'

/** The state file in a dev data folder. */
export const devStateFile = (dataDir: string): string => path.join(dataDir, 'dev.json')

/** Where a dev data folder keeps the stack's JOB_ENCRYPTION_KEYS. */
export const devJobKeyFile = (dataDir: string): string => path.join(dataDir, 'job-key')

/**
 * A secret of the dev stack, made by `make` the first time, then read back from the data folder
 * (owner-only), so it outlives restarts.
 */
async function devSecret (dataDir: string, file: string, make: () => string): Promise<string> {
  const stored = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  if (stored !== undefined) return stored.trim()
  await mkdir(dataDir, { recursive: true })
  const made = make()
  // `wx`: when another stack starting at the same moment wrote first, both use its value.
  try {
    await writeFile(file, `${made}\n`, { mode: 0o600, flag: 'wx' })
    return made
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return (await readFile(file, 'utf8')).trim()
  }
}

/** The dev stack's JOB_ENCRYPTION_KEYS: 32 random bytes, so jobs sealed before a restart still open after it. */
export async function devJobKeys (dataDir: string): Promise<string> {
  return await devSecret(dataDir, devJobKeyFile(dataDir), () => `local:${randomBytes(32).toString('base64')}`)
}

/** The id of the MCP client `npm run dev` configures for the first local org. */
export const DEV_MCP_CLIENT_ID = 'local-acme'

/**
 * The dev stack's MCP client secret and token signing key, kept in the data folder so a client's
 * credentials and tokens stay good across restarts of the service.
 */
export async function devMcpSecrets (dataDir: string): Promise<{ clientSecret: string, signingKey: string }> {
  return {
    clientSecret: await devSecret(dataDir, path.join(dataDir, 'mcp-client-secret'), () => randomBytes(24).toString('base64url')),
    signingKey: await devSecret(dataDir, path.join(dataDir, 'mcp-signing-key'), () => randomBytes(32).toString('base64'))
  }
}
