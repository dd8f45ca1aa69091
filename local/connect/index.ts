// The local stand-in for Heroku Connect. Never imported by production code.
export { createConnectSchema } from './schema.ts'
export { startLocalSync, type LocalSync, type LocalSyncOptions } from './sync.ts'
