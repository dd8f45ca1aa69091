import { createRequire } from 'node:module'

type ApplinkSdk = ReturnType<typeof import('@heroku/applink').init>
let sdk: ApplinkSdk | undefined

const requireFromHere = createRequire(import.meta.url)

/**
 * A module of the AppLink SDK (CommonJS): `''` for the package, or a path inside it. Loaded on
 * first use: its jsforce and @salesforce/core chain takes most of the start-up time and memory, and
 * only code that calls the org through it needs it.
 */
export function sdkModule<M> (path = ''): M {
  return requireFromHere(path === '' ? '@heroku/applink' : `@heroku/applink/${path}`) as M
}

/** The SDK, initialised once. */
export function applink (): ApplinkSdk {
  sdk ??= sdkModule<typeof import('@heroku/applink')>().init()
  return sdk
}
