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

/** The one `npm run invoke` reads: the default folder's. */
export const DEV_STATE_FILE = devStateFile(DEV_DATA_DIR)
