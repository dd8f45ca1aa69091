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
 * The dev stack's JOB_ENCRYPTION_KEYS: 32 random bytes made the first time, then read back from
 * the data folder (owner-only), so jobs sealed before a restart still open after it.
 */
export async function devJobKeys (dataDir: string): Promise<string> {
  const file = devJobKeyFile(dataDir)
  const stored = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined
    throw err
  })
  if (stored !== undefined) return stored.trim()
  await mkdir(dataDir, { recursive: true })
  const keys = `local:${randomBytes(32).toString('base64')}`
  // `wx`: when another stack starting at the same moment wrote first, both use its key.
  try {
    await writeFile(file, `${keys}\n`, { mode: 0o600, flag: 'wx' })
    return keys
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return (await readFile(file, 'utf8')).trim()
  }
}
