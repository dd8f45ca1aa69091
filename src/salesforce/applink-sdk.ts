import { createRequire } from 'node:module'

type ApplinkSdk = ReturnType<typeof import('@heroku/applink').init>
let sdk: ApplinkSdk | undefined

/**
 * The AppLink SDK (CommonJS), loaded on first use: its jsforce and @salesforce/core chain takes most
 * of the start-up time and memory, and only code that calls the org through it needs it.
 */
export function applink (): ApplinkSdk {
  if (sdk === undefined) {
    const module = createRequire(import.meta.url)('@heroku/applink') as typeof import('@heroku/applink')
    sdk = module.init()
  }
  return sdk
}
