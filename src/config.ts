import { Type, type Static } from 'typebox'
import { Value } from 'typebox/value'
import { keyringFrom } from './keyring.ts'
import { ConfigError } from './errors.ts'

/** Salesforce My Domain hosts (see src/salesforce/org-domains.ts for the formats behind it). */
export const DEFAULT_ORG_DOMAINS = '.my.salesforce.com'

/** Every setting the service reads, validated once at start; nothing else reads `process.env`. */
/** One org's authorization in APPLINK_AUTHORIZATIONS: an org id (15 or 18 characters), a colon, a developer name. */
const ORG_AUTHORIZATION = '00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?:[A-Za-z][A-Za-z0-9_]*'
/** One MCP client in MCP_CLIENTS: id, SHA-256 (hex) of its secret, its org, the tools it may call (`*`: all). */
const MCP_CLIENT = '[A-Za-z0-9._~-]{1,100}:[0-9a-f]{64}:00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?:(\\*|[A-Za-z][A-Za-z0-9]*(\\|[A-Za-z][A-Za-z0-9]*)*)'
/** A host name (or IP literal) without a port, as MCP_ALLOWED_HOSTS lists them. */
const HOST_NAME = '(\\[[0-9a-fA-F:.]+\\]|[A-Za-z0-9.-]+)'

export const ConfigSchema = Type.Object({
  NODE_ENV: Type.Enum(['development', 'test', 'production'], {
    default: 'development',
    description: 'production refuses to start without DATABASE_URL and turns the /docs page off by default'
  }),
  APP_PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000, description: 'port the service mesh forwards to' }),
  HOST: Type.String({ default: '127.0.0.1', description: 'the mesh forwards to loopback; only change it for local experiments' }),
  LOG_LEVEL: Type.Enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], { default: 'info' }),
  DATABASE_URL: Type.Optional(Type.String({ minLength: 1, description: 'PostgreSQL URL; unset outside production → embedded PostgreSQL' })),
  DATABASE_SSL: Type.Enum(['auto', 'on', 'off'], {
    default: 'auto',
    description: 'auto: TLS when the URL carries sslmode, or in production for a non-local host (Heroku Postgres)'
  }),
  DATABASE_POOL_MAX: Type.Integer({ minimum: 1, default: 10 }),
  DATABASE_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 5000, description: 'connect timeout (statements get four times as long): a database outage answers 503 within this bound' }),
  EMBEDDED_PG_DIR: Type.String({ default: '.data/postgres', description: 'data folder of the embedded PostgreSQL' }),
  CONNECT_SCHEMA: Type.String({
    pattern: '^[a-z_][a-z0-9_]*$',
    default: 'salesforce',
    description: 'schema the local stack\'s sync fills and seeds (the service finds each org\'s schema itself)'
  }),
  MIRROR_SCHEMAS: Type.Optional(Type.String({
    pattern: '^00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?:[a-z_][a-z0-9_]*(,00D[A-Za-z0-9]{12}(?:[A-Za-z0-9]{3})?:[a-z_][a-z0-9_]*)*$',
    description: 'orgId:schema pairs, comma-separated, that override the org each schema\'s Heroku Connect ' +
      '_hcmeta names (for setups where it says nothing, or two schemas claim one org)'
  })),
  MIRROR_REFRESH_SECONDS: Type.Number({
    minimum: 1,
    default: 60,
    description: 'how often the schemas are read again for the org each mirrors, so a new or moved mirror is ' +
      'found without a restart'
  }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  ORG_TIMEOUT_MS: Type.Integer({ minimum: 100, default: 10_000, description: 'timeout of one Salesforce API call (well under the router\'s 30 s)' }),
  ACCESS_CACHE_TTL_MS: Type.Integer({ minimum: 0, default: 60_000, description: 'how long a UserRecordAccess answer is reused per user and record' }),
  IDEMPOTENCY_RETENTION_MS: Type.Integer({ minimum: 0, default: 86_400_000, description: 'how long a write action\'s answer is returned again for the same idempotency key' }),
  API_LIMIT_FLOOR_PERCENT: Type.Number({ minimum: 0, maximum: 100, default: 5, description: 'below this share of the daily API allowance left, actions that call the org answer 503' }),
  REQUEST_BUDGET_MS: Type.Integer({ minimum: 1000, default: 25_000, description: 'time a request may spend on org calls (the Heroku router cuts at 30 s)' }),
  REQUEST_TIMEOUT_MS: Type.Integer({
    minimum: 1000,
    default: 10_000,
    description: 'time a caller has to send a whole request, headers and body; a slower one gets 408. ' +
      'The handler\'s time is not counted'
  }),
  CONNECTION_TIMEOUT_MS: Type.Integer({
    minimum: 1000,
    default: 35_000,
    description: 'a connection silent this long in the middle of a request is closed; longer than ' +
      'REQUEST_BUDGET_MS, so a handler waiting on the org is never cut'
  }),
  IDEMPOTENCY_WAIT_MS: Type.Integer({ minimum: 0, default: 20_000, description: 'how long a duplicate call waits for the first one to finish' }),
  IDEMPOTENCY_LEASE_MS: Type.Integer({
    minimum: 100,
    default: 10_000,
    description: 'a claim whose process stopped showing life this long is taken over by the next retry'
  }),
  WORKER_IN_WEB: Type.Optional(Type.Boolean({ description: 'the web process also works jobs; unset: yes unless NODE_ENV=production (run `npm run worker` there)' })),
  JOB_ENCRYPTION_KEYS: Type.Optional(Type.String({
    pattern: '^[A-Za-z0-9_-]+:[A-Za-z0-9+/]+={0,2}(,[A-Za-z0-9_-]+:[A-Za-z0-9+/]+={0,2})*$',
    description: 'kid:base64 32-byte keys, comma-separated: the first encrypts job credentials, all decrypt ' +
      '(rotate by prepending). Required unless APPLINK_AUTHORIZATION is set'
  })),
  JOB_CONCURRENCY: Type.Integer({ minimum: 1, maximum: 50, default: 2, description: 'jobs one process works at a time' }),
  JOB_POLL_SECONDS: Type.Number({ minimum: 0.5, default: 2, description: 'how often an idle worker looks for jobs' }),
  JOB_RETRY_LIMIT: Type.Integer({ minimum: 0, default: 5, description: 'retries of a job after a transient failure before it is dead-lettered' }),
  JOB_RETRY_DELAY_SECONDS: Type.Integer({ minimum: 1, default: 15, description: 'first retry delay; doubles (with jitter) per retry' }),
  JOB_HEARTBEAT_SECONDS: Type.Integer({ minimum: 10, default: 30, description: 'a job whose worker stops beating this long (killed) goes back to the queue' }),
  JOB_SUPERVISE_SECONDS: Type.Integer({ minimum: 1, default: 30, description: 'how often the queue looks for jobs of dead workers' }),
  CALLBACK_ALLOWED_ORIGINS: Type.Optional(Type.String({
    pattern: '^https?://[^\\s,/]+(,https?://[^\\s,/]+)*$',
    description: 'comma-separated origins a callbackUrl may use besides the caller\'s own org; they get the summary without the caller\'s session'
  })),
  CALLBACK_ALLOW_PRIVATE_ADDRESSES: Type.Boolean({
    default: false,
    description: 'let job callbacks reach loopback, private and link-local addresses (the local stack, whose ' +
      'org lives on loopback); off: only public addresses, checked after DNS resolution'
  }),
  ORG_DOMAINS: Type.String({
    pattern: '^\\s*(\\.[a-z0-9.-]+|https?://[a-z0-9.-]+(:(\\d+|\\*))?)\\s*(,\\s*(\\.[a-z0-9.-]+|https?://[a-z0-9.-]+(:(\\d+|\\*))?)\\s*)*$',
    default: DEFAULT_ORG_DOMAINS,
    description: 'hosts a caller\'s orgDomainUrl may name, comma-separated: host suffixes reached over https ' +
      '(.my.salesforce.com), or exact origins (http://127.0.0.1:41563; port * for any), as the local stack adds'
  }),
  IDENTITY_CACHE_TTL_MS: Type.Integer({
    minimum: 0,
    default: 600_000,
    description: 'how long a token the org confirmed (userinfo) is trusted without asking again, at most'
  }),
  JOB_MAX_ACTIVE_PER_ORG: Type.Integer({
    minimum: 1,
    default: 5,
    description: 'jobs of one org queued or running at once; more answer 429 TOO_MANY_JOBS'
  }),
  JOB_LIMIT_WAIT_SECONDS: Type.Integer({
    minimum: 1,
    default: 300,
    description: 'how long a job waits when the org is under API_LIMIT_FLOOR_PERCENT before it spends one call to read ' +
      'the usage again'
  }),
  APPLINK_AUTHORIZATION: Type.Optional(Type.String({
    pattern: '^[A-Za-z][A-Za-z0-9_]*$',
    description: 'developer name of an AppLink authorization (heroku salesforce:authorizations:add): jobs call the ' +
      'org as its run-as user with a token fetched when they start, and keep no token; unset: jobs use the ' +
      'caller\'s sealed session'
  })),
  APPLINK_AUTHORIZATIONS: Type.Optional(Type.String({
    pattern: `^${ORG_AUTHORIZATION}(,${ORG_AUTHORIZATION})*$`,
    description: 'the AppLink authorization of each org, as orgId:DeveloperName pairs, comma-separated (org ids ' +
      'of 15 or 18 characters): a job of a listed org runs under its org\'s authorization; other orgs\' jobs under ' +
      'APPLINK_AUTHORIZATION, or their caller\'s sealed session when that is unset'
  })),
  APPLINK_ATTACHMENT: Type.String({
    pattern: '^[A-Za-z][A-Za-z0-9_]*$',
    default: 'HEROKU_APPLINK',
    description: 'attachment name or color of the AppLink add-on whose <ATTACHMENT>_API_URL and <ATTACHMENT>_TOKEN ' +
      'the SDK reads'
  }),
  RESCORE_SCHEDULE_CRON: Type.Optional(Type.String({
    pattern: '^\\S+( \\S+){4,5}$',
    description: 'cron expression (5 fields, or 6 with seconds) of the scheduled rescore of every account, ' +
      'e.g. 0 2 * * *, one per org authorization (APPLINK_AUTHORIZATION and APPLINK_AUTHORIZATIONS); ' +
      'unset or empty: no schedule. Needs an authorization'
  })),
  RESCORE_SCHEDULE_TZ: Type.String({
    minLength: 1,
    default: 'UTC',
    description: 'IANA time zone RESCORE_SCHEDULE_CRON is read in'
  }),
  // Bulk API 2.0 Developer Guide: "Any data operation that includes more than 2,000 records is a good
  // candidate for Bulk API 2.0".
  RESCORE_BULK_THRESHOLD: Type.Integer({
    minimum: 0,
    default: 2000,
    description: 'rescore runs of more accounts than this write through Bulk API 2.0, ' +
      'smaller ones through sObject Collections'
  }),
  RESCORE_PLAN_PAGE_SIZE: Type.Integer({
    minimum: 200,
    maximum: 50_000,
    default: 10_000,
    description: 'accounts a rescore reads from the mirror at a time, and asks the org which the caller may see ' +
      'in one query (its answer comes 2,000 ids a call)'
  }),
  // Bulk API 2.0 Developer Guide, "Upload Job Data": "A request can provide CSV data that does not in
  // total exceed 150 MB of base64 encoded content. [...] To account for the base64 conversion increase,
  // upload data that does not exceed 100 MB." The minimum holds one batch of 200 records.
  RESCORE_BULK_UPLOAD_BYTES: Type.Integer({
    minimum: 10_000,
    maximum: 100_000_000,
    default: 100_000_000,
    description: 'the most CSV bytes a Bulk API 2.0 rescore uploads to one ingest job; a larger run is split ' +
      'into several ingest jobs'
  }),
  MCP_CLIENTS: Type.Optional(Type.String({
    pattern: `^${MCP_CLIENT}(,${MCP_CLIENT})*$`,
    description: 'the clients that may get a token for /mcp (OAuth 2.0 client credentials), comma-separated, each ' +
      'clientId:sha256hex(secret):orgId:tools, tools being * or names joined by |: a client acts as its org\'s ' +
      'AppLink authorization (APPLINK_AUTHORIZATIONS, else APPLINK_AUTHORIZATION) and calls only its tools'
  })),
  MCP_TOKEN_SIGNING_KEY: Type.Optional(Type.String({
    pattern: '^[A-Za-z0-9+/]{43,}={0,2}$',
    description: 'base64 key (32 bytes or more) that signs and checks the /mcp access tokens (HS256); the same on ' +
      'every dyno. Required with MCP_CLIENTS'
  })),
  MCP_TOKEN_TTL_SECONDS: Type.Integer({
    minimum: 30,
    maximum: 3600,
    default: 300,
    description: 'lifetime of an /mcp access token; a client asks for a new one when it ends'
  }),
  MCP_ALLOWED_HOSTS: Type.String({
    pattern: `^${HOST_NAME}(,${HOST_NAME})*$`,
    default: 'localhost,127.0.0.1,[::1]',
    description: 'host names the MCP and OAuth routes answer to (the Host header, any port); others get 403, ' +
      'against DNS rebinding. On Heroku: the app\'s own host name(s)'
  }),
  MCP_ALLOWED_ORIGINS: Type.Optional(Type.String({
    pattern: '^https?://[^\\s,/]+(,https?://[^\\s,/]+)*$',
    description: 'origins (browser pages) besides those of MCP_ALLOWED_HOSTS (any port) that may call the MCP and OAuth routes; a ' +
      'request with another Origin header gets 403'
  })),
  MCP_STDIO_AUTHORIZATION: Type.Optional(Type.String({
    pattern: '^[A-Za-z][A-Za-z0-9_]*$',
    description: 'developer name of the AppLink authorization npm run mcp:stdio acts as; unset: APPLINK_AUTHORIZATION'
  })),
  DOCS_ENABLED: Type.Optional(Type.Boolean({ description: 'serve the interactive API reference at /docs; unset: yes unless NODE_ENV=production' })),
  DOCS_CLIENT_CONTEXT: Type.Optional(Type.String({
    minLength: 1,
    description: 'base64 x-client-context the /docs "try it" calls run with, added on the server, never sent to ' +
      'the page (npm run dev mints one for a local-org user)'
  }))
})
export type Config = Static<typeof ConfigSchema>

/** Validates the environment; throws one error naming every bad variable. */
export function loadConfig (env: Record<string, string | undefined>): Config {
  const known = Object.fromEntries(
    Object.keys(ConfigSchema.properties).flatMap((key) => (env[key] === undefined || env[key] === '' ? [] : [[key, env[key]]]))
  )
  const value = Value.Convert(ConfigSchema, Value.Default(ConfigSchema, known))
  if (!Value.Check(ConfigSchema, value)) {
    const problems = new Map<string, string>()
    for (const e of Value.Errors(ConfigSchema, value)) {
      const key = e.instancePath.slice(1) || 'config'
      if (!problems.has(key)) problems.set(key, `${key} ${e.message}`)
    }
    throw new ConfigError(`invalid configuration: ${[...problems.values()].join('; ')}`)
  }
  const config = value as Config
  if (config.NODE_ENV === 'production' && config.DATABASE_URL === undefined) {
    throw new ConfigError('DATABASE_URL is required when NODE_ENV=production (the embedded PostgreSQL is for development only)')
  }
  // Housekeeping forgets a claim after the retention; its owner counts on keeping it for the lease.
  if (config.IDEMPOTENCY_RETENTION_MS < config.IDEMPOTENCY_LEASE_MS) {
    throw new ConfigError('IDEMPOTENCY_RETENTION_MS must be at least IDEMPOTENCY_LEASE_MS: a record is kept at least as long as a claim lasts')
  }
  // The socket is silent while a handler waits on the org: a shorter idle limit would cut a legitimate slow call.
  if (config.CONNECTION_TIMEOUT_MS <= config.REQUEST_BUDGET_MS) {
    throw new ConfigError('CONNECTION_TIMEOUT_MS must be longer than REQUEST_BUDGET_MS: a connection is silent while ' +
      'its request waits on the org')
  }
  authorizationsByOrg(config)
  checkAuthorizationSettings(config, env)
  checkMcpClients(config)
  // Checked here too, so a missing or malformed key stops the start with this message, before any connection.
  // Under an AppLink authorization no session is sealed, so a key is needed only to open older jobs.
  if (config.APPLINK_AUTHORIZATION === undefined || config.JOB_ENCRYPTION_KEYS !== undefined) keyringFrom(config)
  return config
}

/**
 * The AppLink SDK reads its add-on settings from the environment itself (the one exception to
 * "only config reads the environment"): they are checked here, by the same lookup
 * (node_modules/@heroku/applink/dist/utils/addon-config.js: `<ATTACHMENT>_API_URL` and `_TOKEN`,
 * else `<HEROKU_APPLINK_ADDON_NAME or HEROKU_APPLINK>_<ATTACHMENT>_…`, and `HEROKU_APP_ID`), so a
 * missing one stops the start instead of failing every job.
 */
function checkAuthorizationSettings (config: Config, env: Record<string, string | undefined>): void {
  const noAuthorization = config.APPLINK_AUTHORIZATION === undefined && config.APPLINK_AUTHORIZATIONS === undefined
  if (config.RESCORE_SCHEDULE_CRON !== undefined && noAuthorization) {
    throw new ConfigError('RESCORE_SCHEDULE_CRON needs APPLINK_AUTHORIZATION (or APPLINK_AUTHORIZATIONS): a scheduled rescore has no caller ' +
      'whose session it could use, so it runs as the run-as user of an AppLink authorization ' +
      '(heroku salesforce:authorizations:add)')
  }
  if (noAuthorization) return
  const attachment = config.APPLINK_ATTACHMENT.toUpperCase()
  const addon = env.HEROKU_APPLINK_ADDON_NAME ?? 'HEROKU_APPLINK'
  const found = [attachment, `${addon}_${attachment}`]
    .find((prefix) => isSet(env[`${prefix}_API_URL`]) && isSet(env[`${prefix}_TOKEN`]))
  const missing = [
    ...(isSet(env.HEROKU_APP_ID) ? [] : ['HEROKU_APP_ID']),
    ...(found === undefined ? [`${attachment}_API_URL and ${attachment}_TOKEN`] : [])
  ]
  if (missing.length > 0) {
    const verb = missing.length > 1 ? 'are' : 'is'
    const name = config.APPLINK_AUTHORIZATION === undefined ? 'APPLINK_AUTHORIZATIONS' : 'APPLINK_AUTHORIZATION'
    throw new ConfigError(`${name} is set but ${missing.join(' and ')} ${verb} not: attach the ` +
      `heroku-applink add-on (it sets them), or unset ${name} to use the caller's sealed session`)
  }
}

/**
 * APPLINK_AUTHORIZATIONS as a map from an org id's 15 characters to its authorization; an org named
 * twice stops the start (which one was meant is not for the service to guess).
 */
function authorizationsByOrg (config: Config): Map<string, string> {
  const byOrg = new Map<string, string>()
  for (const pair of config.APPLINK_AUTHORIZATIONS?.split(',') ?? []) {
    const [orgId = '', developerName = ''] = pair.split(':')
    const org = orgId.slice(0, 15)
    if (byOrg.has(org)) throw new ConfigError(`APPLINK_AUTHORIZATIONS names the org ${org} more than once`)
    byOrg.set(org, developerName)
  }
  return byOrg
}

/**
 * The AppLink authorization a job of the org runs under: the org's own in APPLINK_AUTHORIZATIONS,
 * else APPLINK_AUTHORIZATION; undefined: the caller's sealed session. The session still refuses an
 * authorization of another org (JobSession.authorized), so a wrong mapping fails the job, never leaks.
 */
export function authorizationFor (config: Config, orgId: string): string | undefined {
  return authorizationsByOrg(config).get(orgId.slice(0, 15)) ?? config.APPLINK_AUTHORIZATION
}

/** Every authorization the config names, the default first, each once: one scheduled rescore each. */
export function configuredAuthorizations (config: Config): string[] {
  const named = [config.APPLINK_AUTHORIZATION, ...authorizationsByOrg(config).values()]
  return [...new Set(named.filter((name) => name !== undefined))]
}

const isSet = (value: string | undefined): value is string => value !== undefined && value !== ''

/**
 * Whether the web process works jobs too (WORKER_IN_WEB; unset: not in production). When it does not,
 * a worker process (Procfile `worker:`) must run, or queued jobs never start.
 */
export function webWorksJobs (config: Config): boolean {
  return config.WORKER_IN_WEB ?? config.NODE_ENV !== 'production'
}

/** One client of MCP_CLIENTS. */
export interface McpClientSetting {
  clientId: string
  /** SHA-256 of the secret, hex: the secret itself is never configured. */
  secretSha256: string
  orgId: string
  /** The tools it may call; undefined: every tool. */
  tools: string[] | undefined
}

/** MCP_CLIENTS, parsed (its pattern was checked with the rest of the config). */
export function mcpClients (config: Config): McpClientSetting[] {
  return (config.MCP_CLIENTS?.split(',') ?? []).map((entry) => {
    const [clientId = '', secretSha256 = '', orgId = '', tools = '*'] = entry.split(':')
    return { clientId, secretSha256, orgId, tools: tools === '*' ? undefined : tools.split('|') }
  })
}

/**
 * MCP clients need a key to sign their tokens with, distinct ids, and an AppLink authorization for
 * their org: a tool call has no user context, so it acts as that authorization's run-as user.
 */
function checkMcpClients (config: Config): void {
  const clients = mcpClients(config)
  if (clients.length === 0) return
  if (config.MCP_TOKEN_SIGNING_KEY === undefined || Buffer.from(config.MCP_TOKEN_SIGNING_KEY, 'base64').length < 32) {
    throw new ConfigError('MCP_CLIENTS needs MCP_TOKEN_SIGNING_KEY, a base64 key of 32 bytes or more (make one with ' +
      '`openssl rand -base64 32`), the same on every dyno')
  }
  const seen = new Set<string>()
  for (const client of clients) {
    if (seen.has(client.clientId)) throw new ConfigError(`MCP_CLIENTS names the client ${client.clientId} more than once`)
    seen.add(client.clientId)
    if (authorizationFor(config, client.orgId) === undefined) {
      throw new ConfigError(`MCP_CLIENTS: the client ${client.clientId} acts for the org ${client.orgId}, which has no ` +
        'AppLink authorization (APPLINK_AUTHORIZATIONS or APPLINK_AUTHORIZATION): a tool call has no user context, ' +
        'so it runs as an authorization\'s run-as user')
    }
  }
}

/** For process entry points: the validated config, or a one-line message and exit 1. */
export function loadConfigOrExit (env: Record<string, string | undefined>): Config {
  try {
    return loadConfig(env)
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err
    process.stderr.write(`${err.message}\n`)
    process.exit(1)
  }
}
