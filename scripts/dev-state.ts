/** What `npm run dev` leaves for `npm run invoke`: where things run, and a context per user. */
export interface DevState {
  serviceUrl: string
  localOrgUrl: string
  contexts: Record<string, string>
}

export const DEV_STATE_FILE = '.data/dev.json'
