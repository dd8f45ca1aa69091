// The local stand-in for Heroku Connect. Never imported by production code: the product passes its mapping in.
export { createConnectSchema } from './schema.ts'
export { startLocalSync, type LocalSync, type LocalSyncOptions } from './sync.ts'
