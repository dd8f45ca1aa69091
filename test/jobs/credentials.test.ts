import t from 'tap'
import { randomBytes } from 'node:crypto'
import { authorizationFor, loadConfig } from '../../src/config.ts'
import { keyringFrom, openCredentials, sealCredentials, type JobCredentials } from '../../src/jobs/credentials.ts'

const credentials: JobCredentials = {
  instanceUrl: 'https://acme.my.salesforce.com',
  apiVersion: '62.0',
  accessToken: '00D5g000004Sxyz!AQthis-is-the-token',
  orgId: '00D5g000004SxyzEAC',
  userId: '0055g00000AbcdeAAB'
}
const key = () => randomBytes(32).toString('base64')
const keysFor = (value: string) => keyringFrom({ JOB_ENCRYPTION_KEYS: value })
const KEYS = `k1:${randomBytes(32).toString('base64')}`

t.test('sealed credentials open with the key and job they were sealed for, and show no token', async (t) => {
  const keyring = keysFor(`k1:${key()}`)
  const sealed = sealCredentials(keyring, credentials, 'job-1')
  t.match(sealed, /^v1\.k1\.[\w-]+\.[\w-]+\.[\w-]+$/, 'versioned, names its key')
  t.notOk(sealed.includes('this-is-the-token') || sealed.includes(Buffer.from(credentials.accessToken).toString('base64')), 'no token in clear or base64')
  t.same(openCredentials(keyring, sealed, 'job-1'), credentials)
  t.not(sealCredentials(keyring, credentials, 'job-1'), sealed, 'a fresh IV each time')
  t.throws(() => openCredentials(keyring, sealed, 'job-2'), { name: 'CredentialsError' }, 'bound to its job')
  const [v, kid, iv, tag, body = ''] = sealed.split('.')
  // The first character holds 6 bits of the first byte: changing it always changes the ciphertext.
  const flipped = `${body.startsWith('A') ? 'B' : 'A'}${body.slice(1)}`
  t.throws(() => openCredentials(keyring, [v, kid, iv, tag, flipped].join('.'), 'job-1'), { name: 'CredentialsError' }, 'tampering is detected')
})

t.test('keys rotate by config: the first encrypts, all decrypt', async (t) => {
  const old = key()
  const sealedWithOld = sealCredentials(keysFor(`old:${old}`), credentials, 'job')
  const rotated = keysFor(`new:${key()},old:${old}`)
  t.same(openCredentials(rotated, sealedWithOld, 'job'), credentials, 'queued jobs still open after rotation')
  t.match(sealCredentials(rotated, credentials, 'job'), /^v1\.new\./, 'new jobs use the new key')
  t.throws(() => openCredentials(keysFor(`new:${key()}`), sealedWithOld, 'job'), { message: /key old .* no longer configured/ }, 'a retired key says so')
})

t.test('no environment has a default key: without one the start stops and says how to make it', async (t) => {
  const howTo = /JOB_ENCRYPTION_KEYS is required unless APPLINK_AUTHORIZATION is set.*k1:\$\(openssl rand -base64 32\)/
  t.throws(() => keyringFrom({}), { message: howTo }, 'no key stands in')
  for (const NODE_ENV of ['development', 'test', 'production']) {
    t.throws(() => loadConfig({ NODE_ENV, DATABASE_URL: 'postgres://x/y' }), { message: howTo }, NODE_ENV)
  }
  t.throws(() => loadConfig({}), { message: howTo }, 'nor when NODE_ENV is unset')
  t.equal(loadConfig({ JOB_ENCRYPTION_KEYS: KEYS }).JOB_ENCRYPTION_KEYS, KEYS, 'a key given is taken in development')
})

t.test('under an AppLink authorization no session is sealed, so no key is needed', async (t) => {
  const authorized = {
    APPLINK_AUTHORIZATION: 'RunAs',
    HEROKU_APP_ID: 'b1f0',
    HEROKU_APPLINK_API_URL: 'https://applink.example/addons/1',
    HEROKU_APPLINK_TOKEN: 'x'
  }
  for (const NODE_ENV of ['development', 'test', 'production']) {
    const config = loadConfig({ ...authorized, NODE_ENV, DATABASE_URL: 'postgres://x/y' })
    t.equal(config.JOB_ENCRYPTION_KEYS, undefined, NODE_ENV)
  }
  t.throws(() => loadConfig({ ...authorized, JOB_ENCRYPTION_KEYS: 'k1:c2hvcnQ=' }), { message: /AES-256 needs 32/ },
    'a key given anyway is still checked (it opens jobs sealed before)')
})

t.test('each org\'s jobs run under its own authorization; other orgs under the default, or sealed', async (t) => {
  const addon = { HEROKU_APP_ID: 'b1f0', HEROKU_APPLINK_API_URL: 'https://applink.example/addons/1', HEROKU_APPLINK_TOKEN: 'x' }
  const ACME = '00D5g000004SxyzEAC'
  const GLOBEX = '00D7x000001AbCdEAE'
  const OTHER = '00D9z000000ZzZzEAA'
  const mapped = { ...addon, APPLINK_AUTHORIZATIONS: `${ACME}:AcmeRunAs,${GLOBEX.slice(0, 15)}:GlobexRunAs` }
  const withDefault = loadConfig({ ...mapped, APPLINK_AUTHORIZATION: 'DefaultRunAs' })
  t.equal(authorizationFor(withDefault, ACME), 'AcmeRunAs')
  t.equal(authorizationFor(withDefault, ACME.slice(0, 15)), 'AcmeRunAs', 'org ids of 15 or 18 characters')
  t.equal(authorizationFor(withDefault, GLOBEX), 'GlobexRunAs')
  t.equal(authorizationFor(withDefault, OTHER), 'DefaultRunAs', 'an org not listed: APPLINK_AUTHORIZATION')
  const onlyMapped = loadConfig({ ...mapped, JOB_ENCRYPTION_KEYS: KEYS })
  t.equal(authorizationFor(onlyMapped, OTHER), undefined, 'no default: the caller\'s sealed session')
  t.throws(() => loadConfig(mapped), { message: /JOB_ENCRYPTION_KEYS is required/ },
    'orgs not listed seal their sessions, so a key is needed')
  t.throws(() => loadConfig({ ...mapped, APPLINK_AUTHORIZATIONS: `${ACME}:A,${ACME.slice(0, 15)}:B`, JOB_ENCRYPTION_KEYS: KEYS }),
    { message: /names the org 00D5g000004Sxyz more than once/ })
  t.throws(() => loadConfig({ ...mapped, APPLINK_AUTHORIZATIONS: 'AcmeRunAs', JOB_ENCRYPTION_KEYS: KEYS }),
    { message: /APPLINK_AUTHORIZATIONS/ }, 'pairs of org id and developer name')
  t.throws(() => loadConfig({ APPLINK_AUTHORIZATIONS: `${ACME}:AcmeRunAs`, JOB_ENCRYPTION_KEYS: KEYS }),
    { message: /APPLINK_AUTHORIZATIONS is set but HEROKU_APP_ID/ }, 'the add-on\'s settings are needed as for one')
})

t.test('keys are checked with the config', async (t) => {
  t.throws(() => keysFor(`k1:${randomBytes(16).toString('base64')}`), { message: /16 bytes, AES-256 needs 32/ })
  t.throws(() => keysFor(`k1:${key()},k1:${key()}`), { message: /appears twice/ })
  t.throws(() => keysFor(`k1:${Buffer.alloc(32).toString('base64')}`), { message: /one byte repeated/ }, 'a placeholder key of zeros')
  t.throws(() => loadConfig({ JOB_ENCRYPTION_KEYS: 'no key here' }), { message: /JOB_ENCRYPTION_KEYS/ }, 'the format is checked with the config')
  t.throws(
    () => loadConfig({ JOB_ENCRYPTION_KEYS: KEYS, IDEMPOTENCY_RETENTION_MS: '500', IDEMPOTENCY_LEASE_MS: '1000' }),
    { message: /IDEMPOTENCY_RETENTION_MS must be at least IDEMPOTENCY_LEASE_MS/ }, 'no record forgotten within its lease')
})

t.test('the web process works jobs unless production says otherwise', async (t) => {
  t.equal(loadConfig({ JOB_ENCRYPTION_KEYS: KEYS }).WORKER_IN_WEB, undefined,
    'unset: the jobs plugin decides by NODE_ENV')
  t.equal(loadConfig({ JOB_ENCRYPTION_KEYS: KEYS, WORKER_IN_WEB: 'false' }).WORKER_IN_WEB, false)
  const production = { NODE_ENV: 'production', DATABASE_URL: 'postgres://x/y', JOB_ENCRYPTION_KEYS: KEYS }
  t.equal(loadConfig({ ...production, WORKER_IN_WEB: 'true' }).WORKER_IN_WEB, true)
})
