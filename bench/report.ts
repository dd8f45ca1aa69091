import { existsSync, readFileSync } from 'node:fs'
import type { LoadResult } from './measure.ts'
import type { Machine } from './env.ts'
import type { StartupResults } from './startup.ts'
import type { AsyncResults, RescoreCalls } from './async.ts'
import type { FrameworkResults, QuoteResults, CpuLoadResult, RoundSpread, TracingResults } from './dyno.ts'
import type { TenantResults } from './tenants.ts'
import type { McpResults } from './mcp.ts'
import type { ScalePoint, ScaleResults } from './scale.ts'

/** The figures measured on servers in processes of their own (bench/dyno.ts). */
export interface DynoResults {
  framework: FrameworkResults
  quote: QuoteResults
  /** Absent in runs recorded before telemetry. */
  tracing?: TracingResults
  /** Absent in runs recorded before the MCP door. */
  mcp?: McpResults
  orgQuery: {
    sampleSoql: string
    ourSoql: string
    /** CPU per answer over HTTP, ms. */
    sampleMs: number
    oursMs: number
    ratio: number
    /** The SOQL engine alone, µs per answer (absent in runs recorded before it was measured). */
    engine?: { sampleUs: number, oursUs: number }
  }
}

export interface Results {
  machine: Machine
  command: string
  date: string
  seconds: number
  rounds: number
  /** 1-minute load average when the run started and ended: other work on the machine shows here. */
  loadAverage: { start: number, end: number }
  framework: FrameworkResults
  /** Figure 1 as measured before, both servers in the bench's process. */
  frameworkInBenchProcess: { baseline: LoadResult, whoAmI: LoadResult, ratio: number }
  quote: QuoteResults
  tracing?: TracingResults
  mcp?: McpResults
  orgQuery: DynoResults['orgQuery']
  mirror: { products: number, baseline: LoadResult, action: LoadResult, ratio: number }
  mirrorVsApi: Array<{
    latencyMs: number
    mirrorColdMs: number
    mirrorWarmMs: number
    apiMs: number
    mirrorColdCalls: number
    mirrorWarmCalls: number
    apiCalls: number
  }>
  apiCalls: {
    quote: Array<{ lines: number, service: number, naive: number, serviceMs: number, naiveMs: number }>
    insights: { first: number, cached: number }
    rescore: RescoreCalls
  }
  async: AsyncResults
  startup: StartupResults
  localOrg: {
    accounts: number
    seedMs: number
    roundTripMs: number
    byIdMs: number
    byIdP99Ms: number
    byParentMs: number
    page2000Ms: number
    graph200Ms: number
  }
  /** Figure 8 (absent in runs recorded before it was measured). */
  tenants?: TenantResults
  /** Figure 9, the scale curve (absent in runs recorded before it was measured). */
  scale?: ScaleResults
  runtimeS: number
}

/** Figure 1 in the bench's process: `framework` in runs recorded before figure 1 moved to processes. */
const inBenchProcess = (r: Results): Results['frameworkInBenchProcess'] =>
  (r as Partial<Results>).frameworkInBenchProcess ?? r.framework

/** A hot spot fixed after a recorded run: what changed, and the figures it moved. */
interface HotSpot { title: string, change: string, figures: Array<{ figure: string, pick: (r: Results) => string }> }

const fmt = (n: number, digits = 0): string => Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a'
const ms = (n: number): string => `${fmt(n, n < 10 ? 2 : n < 100 ? 1 : 0)} ms`
const ratio = (n: number): string => `${fmt(n, 2)}×`
const mark = (ok: boolean): string => ok ? 'met' : '**missed**'

/** The run recorded before the hot-spot fixes (bench/before.json), for "what changed each figure". */
function loadBefore (): Results | undefined {
  const file = new URL('./before.json', import.meta.url)
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as Results : undefined
}

const HOT_SPOTS: HotSpot[] = [
  {
    title: 'AppLink SDK objects built on every request',
    change: '`@heroku/applink`\'s `parseRequest` built a jsforce `Connection` for the Bulk API, a data API and a user on every action request (≈ 0.1 ms of CPU, and garbage), though no action calls the SDK\'s data API (rescoreAccounts only reads its `accessToken`). The caller-context hook now hands handlers a data API that runs `parseRequest` on first use (src/salesforce/plugin.ts); the decorator and its type are unchanged.',
    figures: [
      { figure: 'whoAmI ÷ bare Fastify, both in the bench process, req/s', pick: (r) => ratio(inBenchProcess(r).ratio) },
      { figure: 'whoAmI p99', pick: (r) => ms(inBenchProcess(r).whoAmI.p99) },
      { figure: 'app ÷ bare server process, req/s', pick: (r) => ratio(r.startup.app.load.rps / r.startup.bare.load.rps) },
      { figure: 'app RSS under load', pick: (r) => `${fmt(r.startup.app.loadRssMb)} MB` }
    ]
  },
  {
    title: 'The AppLink SDK loaded at start-up',
    change: 'Importing `@heroku/applink` loads jsforce, @salesforce/core, zod, undici and more: about 0.8 s and 70 MB before the server can listen. The SDK is now required on first use of the data API (src/salesforce/plugin.ts), which no current action makes.',
    figures: [
      { figure: 'start-up to listening', pick: (r) => ms(r.startup.app.startMs) },
      { figure: 'start-up ÷ bare Fastify', pick: (r) => ratio(r.startup.app.startMs / r.startup.bare.startMs) },
      { figure: 'app RSS idle', pick: (r) => `${fmt(r.startup.app.idleRssMb)} MB` }
    ]
  },
  {
    title: 'Two unprepared statements for the mirror\'s freshness',
    change: '`mirror.freshness`, which checkAvailability and accountInsights run on every call, sent two unnamed statements one after the other (newest SystemModstamp, then the last poll from `_hcmeta`). It is now one named (prepared) statement with two scalar subqueries (src/postgres/mirror.ts): checkAvailability makes 2 round trips instead of 3. The baseline of figure 2 runs the same statements as the action, so the ratio does not show this; the absolute figures do (on a machine shared with other work, take them with care).',
    figures: [
      { figure: 'checkAvailability, req/s', pick: (r) => fmt(r.mirror.action.rps) },
      { figure: 'checkAvailability p50', pick: (r) => ms(r.mirror.action.p50) },
      { figure: 'its SQL on a pg pool, req/s', pick: (r) => fmt(r.mirror.baseline.rps) }
    ]
  }
]

/** docs/performance.md for `r`; `recordedScale`: figure 9's section as last recorded, for a run without it. */
export function renderMarkdown (r: Results, recordedScale?: string): string {
  const [at0, at100] = r.mirrorVsApi
  const before = loadBefore()
  const q100 = r.apiCalls.quote.find((q) => q.lines === 100)
  const lines: string[] = [
    '# Performance',
    '',
    `Measured by \`${r.command}\` on ${r.date.slice(0, 10)}; the whole run took ${fmt(r.runtimeS)} s. Every figure is compared with a baseline`,
    'measured in the same run on the same machine, so the ratios hold from one machine to another better than the raw numbers do.',
    'Load comes from autocannon in a child process (10 connections, loopback), against servers listening on 127.0.0.1.',
    `A throughput comparison warms each side up for 1 s, then alternates baseline and service in ${r.rounds} rounds (${r.seconds} s per side in all; ` +
      'each takes its turn first, every other round),',
    'so load from other processes weighs on both alike. Request logs are on (level info, to /dev/null), as in production.',
    '',
    `**Machine**: ${r.machine.cpu}, ${r.machine.cores} cores (\`nproc\`), ${r.machine.memoryGb} GB, ${r.machine.os}; Node ${r.machine.node}; PostgreSQL on 127.0.0.1.`,
    `1-minute load average ${fmt(r.loadAverage.start, 1)} at the start and ${fmt(r.loadAverage.end, 1)} at the end of the run${r.loadAverage.start > r.machine.cores || r.loadAverage.end > r.machine.cores ? ' (the machine was busy with other work: absolute figures are low, ratios hold better)' : ''}.`,
    '',
    '![Headline ratios and latencies](performance.svg)',
    '',
    '## Headlines',
    '',
    '| figure | service | baseline (same run) | ratio | target |',
    '|---|---|---|---|---|',
    `| 1. framework overhead: whoAmI on the service process vs a bare Fastify process, req/s | ${fmt(r.framework.whoAmI.rps)} | ${fmt(r.framework.baseline.rps)} | ${ratio(r.framework.ratio)} | ≥ 0.8: ${mark(r.framework.ratio >= 0.8)} |`,
    ...quoteHeadlines(r),
    ...tracingHeadlines(r),
    ...mcpHeadlines(r),
    `| 2. mirror reads: checkAvailability (${r.mirror.products} products) vs its SQL on a pg pool, req/s | ${fmt(r.mirror.action.rps)} | ${fmt(r.mirror.baseline.rps)} | ${ratio(r.mirror.ratio)} | ≥ 0.6: ${mark(r.mirror.ratio >= 0.6)} |`,
    ...(at0 === undefined || at100 === undefined
      ? []
      : [
      `| 3. account summary, org at 0 ms: mirror (access cached) vs REST API, latency | ${ms(at0.mirrorWarmMs)} | ${ms(at0.apiMs)} | ${ratio(at0.mirrorWarmMs / at0.apiMs)} | lower is better |`,
      `| 3. account summary, org at 100 ms: mirror (access cached) vs REST API, latency | ${ms(at100.mirrorWarmMs)} | ${ms(at100.apiMs)} | ${ratio(at100.mirrorWarmMs / at100.apiMs)} | lower is better |`
        ]),
    ...(q100 === undefined ? [] : [`| 4. generateQuote, 100 lines: API calls vs per-record | ${q100.service} | ${q100.naive} | ${ratio(q100.service / q100.naive)} | 2 calls: ${mark(q100.service === 2)} |`]),
    `| 6. start-up to listening: app vs bare Fastify | ${ms(r.startup.app.startMs)} | ${ms(r.startup.bare.startMs)} | ${ratio(r.startup.app.startMs / r.startup.bare.startMs)} | < 1 s (Heroku allows 60 s): ${mark(r.startup.app.startMs < 1000)} |`,
    ...(r.tenants === undefined ? [] : tenantHeadlines(r.tenants)),
    '',
    '## 1. Framework overhead',
    '',
    'whoAmI runs everything an action request runs but I/O: the caller-context hook (decode and check `x-client-context`),',
    'body validation, the handler, response serialization with its schema, its log line. It is measured on the service as a',
    'dyno runs it: `node src/server.ts` in a process of its own, NODE_ENV=production (no job worker in the web process),',
    'logs at info to stdout, here /dev/null. The baseline is a bare Fastify route that returns the same JSON, without a',
    'schema, in a process of its own (bench/bare-server.ts: Fastify\'s default request logging at info to stdout, /dev/null).',
    'CPU: user + system time of the server process from /proc/<pid>/stat over the measured rounds, per request.',
    '',
    '| | req/s | p50 | p99 | CPU per request |',
    '|---|---|---|---|---|',
    `| bare Fastify process | ${fmt(r.framework.baseline.rps)} | ${ms(r.framework.baseline.p50)} | ${ms(r.framework.baseline.p99)} | ${ms(r.framework.baseline.cpu.serverMs)} |`,
    `| whoAmI on the service process | ${fmt(r.framework.whoAmI.rps)} | ${ms(r.framework.whoAmI.p50)} | ${ms(r.framework.whoAmI.p99)} | ${ms(r.framework.whoAmI.cpu.serverMs)} |`,
    `| **ratio** | **${ratio(r.framework.ratio)}** | | | ${ratio(r.framework.whoAmI.cpu.serverMs / r.framework.baseline.cpu.serverMs)} |`,
    '',
    'Measured as before, with both servers in the bench\'s own process (the bare route on the app\'s server options): whoAmI',
    `${fmt(r.frameworkInBenchProcess.whoAmI.rps)} req/s, bare route ${fmt(r.frameworkInBenchProcess.baseline.rps)} req/s, ${ratio(r.frameworkInBenchProcess.ratio)}.`,
    'That reading flattered the service: the bare route then ran in a process carrying the whole app, the local org\'s data',
    'and the bench (a larger heap to collect, the same event loop), and used the app\'s own request-id and log settings, so the',
    'baseline paid part of the app\'s costs. Separate processes are what a dyno and a plain Fastify app are.',
    '',
    ...quoteSection(r),
    '## 2. Mirror reads',
    '',
    `checkAvailability for ${r.mirror.products} product codes over HTTP, against the statements it runs (the availability query and`,
    'the freshness query, two at a time as the action runs them) called in a loop on a `pg` pool of the same size (10) with the',
    'same concurrency (10), in process, without HTTP. The gap is what HTTP, validation, the handler and serialization cost.',
    '',
    '| | req/s | p50 | p99 |',
    '|---|---|---|---|',
    `| SQL on a pg pool | ${fmt(r.mirror.baseline.rps)} | ${ms(r.mirror.baseline.p50)} | ${ms(r.mirror.baseline.p99)} |`,
    `| checkAvailability | ${fmt(r.mirror.action.rps)} | ${ms(r.mirror.action.p50)} | ${ms(r.mirror.action.p99)} |`,
    `| **ratio** | **${ratio(r.mirror.ratio)}** | | |`,
    '',
    '## 3. Mirror vs API',
    '',
    'The same account summary (open pipeline by stage, revenue won in 12 months, open cases by priority) from the mirror, as',
    'accountInsights serves it over HTTP (it also reads top products and web orders), and from the org\'s REST API as the',
    'user: one parent-child SOQL query, the cheapest the API allows, called in process (no HTTP hop into the app, which',
    'favours the baseline). "Cold" is an account the caller has not asked about within the access cache\'s TTL, so',
    'accountInsights first asks the org for the caller\'s access (UserRecordAccess). Medians of sequential calls.',
    '',
    '| org latency | mirror, cold | mirror, access cached | REST API | cached ÷ API | cold ÷ API | API calls: cold / cached / API |',
    '|---|---|---|---|---|---|---|',
    ...r.mirrorVsApi.map((m) => `| ${m.latencyMs} ms | ${ms(m.mirrorColdMs)} | ${ms(m.mirrorWarmMs)} | ${ms(m.apiMs)} | ${ratio(m.mirrorWarmMs / m.apiMs)} | ${ratio(m.mirrorColdMs / m.apiMs)} | ${fmt(m.mirrorColdCalls, 1)} / ${fmt(m.mirrorWarmCalls, 1)} / ${fmt(m.apiCalls, 1)} |`),
    '',
    '## 4. API calls per action',
    '',
    'Counted by the local org per user. The per-record generateQuote (bench/baselines.ts) reads the opportunity the same way,',
    'then creates the Quote and each QuoteLineItem with its own REST call: what a hand-written integration without a',
    'composite request does, not what Heroku\'s org-action sample does (its unit of work is one composite graph, 2 calls',
    'like ours; figure 1b compares with it). The per-record figures only show what one graph per quote saves.',
    '',
    '| generateQuote | service calls | per-record calls | service ÷ per-record | service time | per-record time (org at 0 ms) |',
    '|---|---|---|---|---|---|',
    ...r.apiCalls.quote.map((q) => `| ${q.lines} line${q.lines === 1 ? '' : 's'} | ${q.service} | ${q.naive} | ${ratio(q.service / q.naive)} | ${ms(q.serviceMs)} | ${ms(q.naiveMs)} |`),
    '',
    `accountInsights: ${r.apiCalls.insights.first} API call on the first question about an account, ${r.apiCalls.insights.cached} while the access answer is cached (target 1, then 0: ${mark(r.apiCalls.insights.first === 1 && r.apiCalls.insights.cached === 0)}).`,
    '',
    ...rescoreSection(r.apiCalls.rescore),
    '',
    '## 5. Async throughput',
    '',
    ...asyncSection(r.async),
    '',
    '## 6. Start-up and memory',
    '',
    '`node src/server.ts` with DATABASE_URL at an already migrated database (a dyno restart), from spawn to the',
    `"AppLink Actions listening" log line (median of ${r.startup.starts} starts), against a bare Fastify server started the same way`,
    `(bench/bare-server.ts). RSS from /proc/<pid>/status 1 s after listening, and its peak under ${r.startup.seconds} s of whoAmI (bare: its route) load.`,
    '',
    '| | start-up | RSS idle | RSS under load | req/s under load |',
    '|---|---|---|---|---|',
    `| bare Fastify | ${ms(r.startup.bare.startMs)} | ${fmt(r.startup.bare.idleRssMb)} MB | ${fmt(r.startup.bare.loadRssMb)} MB | ${fmt(r.startup.bare.load.rps)} |`,
    `| AppLink Actions | ${ms(r.startup.app.startMs)} | ${fmt(r.startup.app.idleRssMb)} MB | ${fmt(r.startup.app.loadRssMb)} MB | ${fmt(r.startup.app.load.rps)} |`,
    `| **ratio** | **${ratio(r.startup.app.startMs / r.startup.bare.startMs)}** | ${ratio(r.startup.app.idleRssMb / r.startup.bare.idleRssMb)} | ${ratio(r.startup.app.loadRssMb / r.startup.bare.loadRssMb)} | |`,
    '',
    `Heroku gives a web dyno 60 s to bind its port: the service uses ${fmt(100 * r.startup.app.startMs / 60_000, 1)} % of it.`,
    '',
    '## 7. Local org',
    '',
    `The local org (packages/local-org) on the \`large\` data set (${fmt(r.localOrg.accounts)} accounts, seeded in ${fmt(r.localOrg.seedMs / 1000, 1)} s), over HTTP with`,
    '`fetch`, as the admin user. Baseline: its cheapest authenticated call (`GET /limits`). Medians.',
    '',
    '| call | time | ÷ GET /limits |',
    '|---|---|---|',
    `| GET /limits (baseline) | ${ms(r.localOrg.roundTripMs)} | 1.00× |`,
    `| SOQL by Id (Account) | ${ms(r.localOrg.byIdMs)} (p99 ${ms(r.localOrg.byIdP99Ms)}) | ${ratio(r.localOrg.byIdMs / r.localOrg.roundTripMs)} |`,
    `| SOQL by parent id (Opportunity.AccountId) | ${ms(r.localOrg.byParentMs)} | ${ratio(r.localOrg.byParentMs / r.localOrg.roundTripMs)} |`,
    `| a 2,000-row query page (Account) | ${ms(r.localOrg.page2000Ms)} | ${ratio(r.localOrg.page2000Ms / r.localOrg.roundTripMs)} |`,
    `| composite graph, 200 nodes (Account + 199 Contacts) | ${ms(r.localOrg.graph200Ms)} | ${ratio(r.localOrg.graph200Ms / r.localOrg.roundTripMs)} |`,
    '',
    'The local org\'s own CPU per answer (this process\'s CPU time while autocannon in a child process sends the same query,',
    `${r.rounds} alternating rounds, small data set) for the query generateQuote sends (the opportunity, its account's country,`,
    'its lines with their products\' names and families, as a subquery) and the query Heroku\'s sample sends (the lines\' own',
    'fields):',
    '',
    '| query | CPU per answer |',
    '|---|---|',
    `| sample: \`${r.orgQuery.sampleSoql.replace(/'[^']*'/, "'…'")}\` | ${ms(r.orgQuery.sampleMs)} |`,
    `| generateQuote: \`${r.orgQuery.ourSoql.replace(/'[^']*'/, "'…'")}\` | ${ms(r.orgQuery.oursMs)} |`,
    `| **ratio** | **${ratio(r.orgQuery.ratio)}** (target ≤ 1.2: ${mark(r.orgQuery.ratio <= 1.2)}) |`,
    '',
    ...(r.orgQuery.engine === undefined
      ? []
      : [
          'The SOQL engine alone (in process, no HTTP: execution from the compiled-query cache, the answer\'s JSON) takes',
      `${fmt(r.orgQuery.engine.oursUs, 1)} µs for our query and ${fmt(r.orgQuery.engine.sampleUs, 1)} µs for the sample's`,
      `(${ratio(r.orgQuery.engine.oursUs / r.orgQuery.engine.sampleUs)}): a few % of an answer's CPU, the rest is HTTP (parsing, the socket write),`,
      'so the over-HTTP ratio above moves with the machine\'s load more than with the queries.',
      ''
        ]),
    ...(r.tenants === undefined ? [] : [...tenantSection(r.tenants, r.rounds, r.seconds, loadTenantsBefore()), '']),
    ...(r.scale === undefined ? (recordedScale === undefined ? [] : [recordedScale, '']) : [...scaleSection(r.scale), '']),
    '## What changed each figure',
    '',
    ...hotSpotSection(r, before),
    ...dynoChanges(r),
    '## Where the time goes (profiles, issue 16)',
    '',
    'Profiled on this machine before the changes above (`node --cpu-prof` of the service process under load; PostgreSQL',
    'backends\' CPU from /proc, as pg_stat_statements needs `shared_preload_libraries` and a server restart, which a shared',
    'server does not allow; statements counted per action). Shares are of the process\'s busy (non-idle) CPU.',
    '',
    '- **whoAmI on the service process**: writing responses to sockets 28 %; the three log lines 11 % (synchronous',
    '  `fs.writeSync` to stdout, one system call each); Fastify, Ajv and fast-json-stringify ≈ 12 %; decoding',
    '  `x-client-context` ≈ 3 %; garbage collection 3–4 %. The bare process writes the same response and two log lines.',
    '- **Framework figure, 0.83× then, ≈ 0.5× in processes**: with both servers in the bench process the bare route shared',
    '  a heap holding the app, the local org\'s records and the bench, and the app\'s server options, so it paid part of',
    '  the app\'s costs; in processes of their own (what a dyno runs) the gap is the full one. Figure 1 now measures that.',
    '- **Besides the route, the web process ran pg-boss\'s maintenance** although it works no jobs in production',
    '  (WORKER_IN_WEB off): supervision and queue monitoring every 30 s, a flow poll every 5 s, a migration poll and a',
    '  queue-cache refresh every 60 s, a 2 s timer: database statements per dyno, whatever the traffic, for jobs the',
    '  worker dynos supervise anyway. The housekeeping purge already ran only where jobs are worked.',
    '- **Three log lines per action, written synchronously: confirmed** (above). Now one: the action\'s own line (status,',
    '  duration, API calls, queries, org and user); errors keep their line from the error handler; Heroku\'s router logs',
    '  every request anyway. An asynchronous destination was not adopted: it would lose the last lines of a crashing',
    '  process, and one line per request left little to save.',
    '- **Pricing rules read on every call: confirmed**: one statement per quote, ≈ 0.2 ms of backend CPU (measured on one',
    '  connection, 2,000 calls). Now reused for 5 s per pool (src/postgres/pricing-rules.ts); a change to the pricing',
    '  tables prices quotes within 5 s. LISTEN/NOTIFY invalidation would need a connection of its own per dyno and',
    '  triggers on three tables for tables that change a few times a year.',
    '- **The idempotency record: most of the PostgreSQL CPU per quote: confirmed**: `runOnce` (now with leases) ran',
    '  three unnamed, synchronously committed statements per quote: the claim (INSERT … ON CONFLICT), the sending mark',
    '  and the answer. Measured on its own (bench/idempotency-cpu.ts, backends\' CPU from /proc, WAL flushes from',
    '  pg_stat_wal): parse and plan of the claim ≈ 0.15 ms of its ≈ 0.3 ms, each synchronous commit one WAL flush',
    '  (≈ 2 per quote at the bench\'s pace). Now the three are named statements (parsed and planned once per',
    '  connection), and the sending mark and the answer commit asynchronously, each in its own autocommitted statement',
    '  (a CTE calling `set_config(\'synchronous_commit\', \'off\', true)`, which lasts until that statement\'s commit):',
    '  one WAL flush per quote, the claim\'s, which stays durable before the org is written. A database crash can lose',
    '  the mark or the answer; the retry then takes the lease over and asks the org, whose Quote and lines upsert on',
    '  the key. Fencing and takeover are unchanged (same rows, same locks). On its own: ≈ 1.0–1.5 ms → 0.55–1.0 ms per',
    '  call; in figure 1b, see the table above. What is left is the claim\'s commit (its WAL flush costs the backend',
    '  ≈ 0.1–0.25 ms on this machine\'s disk) and the wake-up of a backend per statement: ≤ 0.3 ms is not reached.',
    '- **The opportunity query in the local org: refuted as an engine cost**: executing it (subquery, Account and',
    '  Product2 fields) takes about twice the sample\'s line query, but both are ≈ 10 µs of an answer\'s ≈ 150 µs; the',
    '  rest is HTTP. What does cost is parsing: the compiled-query cache is keyed by the exact SOQL text, so every new',
    '  opportunity id is a new parse (≈ 70–150 µs with soql-parser-js, ours about twice the sample\'s). The bench reuses',
    '  one opportunity, as the issue\'s comparison did; a cache keyed by the query\'s shape with its literals bound',
    '  afterwards would remove the parse from real use. Not built.',
    '- **The tail**: on this 2-core machine shared with other sessions (load average far above 2), p99 follows the',
    '  machine\'s load for both sides; within the service, 8 connections never wait for the 10-connection pool, the',
    '  idempotency wait only applies to duplicates (none here: a new request id per call), and garbage collection is',
    '  4–5 % of the CPU. No single cause of the tail was isolated.',
    '- **Second round (issue 16, again profiled before changing)**: in generateQuote\'s service process undici through',
    '  `fetch` (web streams, Request/Response objects, an `AbortSignal.timeout` timer firing 10 s after each call)',
    '  took 22 % of the CPU, pg 26 %; the org client alone went from 0.85 to 0.25 ms per quote on `undici.request`.',
    '  In PostgreSQL, one claim cost more to plan than to run (custom plans of the `unnest` statements: ≈ 0.65–0.9 ms',
    '  of backend CPU per claim, ≈ 0.4 ms generic), and only 5 % of the answers\' updates were heap-only (full pages);',
    '  with fillfactor 50, about 80 %. The remaining PostgreSQL CPU is one synchronous commit per claim (or per batch',
    '  of claims) and the answer. In whoAmI the gap to the bare route is user-mode JavaScript spread thin: decoding and',
    '  checking `x-client-context` (≈ 2.5 µs: base64, JSON, TypeBox), the AsyncLocalStorage run that counts queries,',
    '  the org client made per request, body validation and schema serialization, each under 1 µs; system time per',
    '  request is the same for both processes (/proc, per thread). In the local org, the engine is a few µs of an',
    '  answer; its HTTP handling and socket writes dominate, so figure 7\'s ratio moves with load from run to run.',
    '- **Third round: whoAmI counted in instructions.** On this machine figure 1\'s throughput and CPU time move by',
    '  5–10 % between runs of the same code, too much to see a change of a few per cent. Instructions hold still:',
    '  `valgrind --tool=callgrind` on the service process, with V8\'s `--predictable` (no concurrent compiler or GC',
    '  threads), counters zeroed after 6,000 warm-up requests, then 4,000 whoAmI requests. Two copies of the same code',
    '  measured side by side differ by under 1 %; across runs with other processes beside them, by up to 6 %, so each',
    '  comparison is within one run. The counts rank the parts; they do not convert to time, as `--predictable` runs',
    '  V8\'s compiler and collector on the main thread (the log line below, formatted without being written, takes ≈ 1 µs in a loop).',
    '  Per request, a bare Fastify route took 184 k instructions and whoAmI 240 k. Taking',
    '  one part out at a time: decoding and checking `x-client-context` 35 k (its whitespace strip and base64 regular expression,',
    '  two passes over ≈ 460 characters, cost as much as the JSON parse), the action\'s log line 25 k, the',
    '  AsyncLocalStorage run that counts queries 3 k; the per-request org client, body validation, serialization and',
    '  the hooks each less than the noise. Profiles had put the decode at ≈ 2.5 µs, measured hot in a loop; on the',
    '  request path, among everything else a request touches, it costs several times that: timed there under load',
    '  (`performance.now()` around each step), ≈ 5 µs, of which the JSON parse 2.0, base64 and UTF-8 1.3, the regular',
    '  expression 0.7, the checks 0.8 and the strip 0.3. After the change above',
    '  (atob): 222 k, the decode ≈ 17 k, mostly the JSON parse that every call needs.',
    '- **Tried and not adopted** (third round): a synchronous log destination (one `write` per line instead of waking a',
    '  libuv thread for nearly every line) saved about 1 % of the instructions and did not move figure 1 in three',
    '  runs; a buffered one (4 KB, flushed every 250 ms) saved none. Pino\'s default destination stays. The log line',
    '  itself is left: the bare process writes two lines per request (Fastify\'s request logging), so it is not what',
    '  separates the two.',
    '- **Fourth round: figure 7, the local org\'s CPU per answer.** Measured on the code before it (1.28×), with the',
    '  org\'s user and system time apart (`process.cpuUsage`): the sample\'s query 11.6 µs user + 6.3 µs system per',
    '  answer, ours 14.5 + 7.4. Hot in a loop, ours cost 3.7 µs in the engine against the sample\'s 1.9: building the',
    '  answer\'s objects 1.2 µs against 0.3, JSON.stringify 1.8 against 0.75, execution the rest. The third',
    '  round\'s reading (the answer\'s size, ≈ 4 µs more to write) was wrong: a bare `node:http`',
    '  server answering 800, 1,300 or 1,800 bytes costs the same ≈ 11 µs per answer. What grows the write is the',
    '  server\'s own work per answer: spinning 3 µs more per request cost 3–5 µs more CPU per request, as the socket',
    '  write (system time, charged to the writer on loopback) more often has to wake the load generator. So each µs',
    '  of JavaScript saved in the org counts more than once over HTTP. Writing the records as JSON text (above) brought',
    '  our query\'s engine time near the sample\'s; most of what is left comes with the longer query: the sample\'s query',
    '  padded to our query\'s length (ten more `AND Id != null` terms, the same answer) measured 1.12–1.14×.',
    '- **Fourth round, figure 7 counted in instructions** (callgrind on the org process, as for whoAmI: 6,000 answers to',
    '  warm up, 4,000 counted): 215 k per answer for the sample\'s query, 242 k for ours (1.13×), against 1.12–1.20× in',
    '  CPU time across runs. The 27 k: copying our answer\'s pieces into one string for the socket (+8 k), adding them',
    '  up (+4 k), decoding and parsing the longer URL (+4 k), measuring the longer answer for Content-Length (+2 k),',
    '  hashing the longer SOQL for the compiled-query cache (+1 k), and the JavaScript of five more records. Tried and',
    '  not adopted: gathering the pieces in an array joined once (+10 % for ours), one string carried through the',
    '  recursion (no change), and encoding the answer to a Buffer before writing it (+3 % for both).',
    '- **Fourth round, whoAmI, on this session\'s machine**: 0.87–0.99× the bare process in twelve runs of figure 1, CPU',
    '  per request 1.06–1.15×; counted as in the third round, 217 k instructions per request against the bare route\'s',
    '  199 k (0.92×). The earlier machine counted 222 k against 184 k (0.83×) for the same whoAmI code and read',
    '  0.72–0.81×: counts compare within one machine only, and on both the ratio in time stayed near the one in',
    '  instructions, so the margin over 0.8× depends on the machine.',
    '- **Start-up**: importing src/app.ts takes most of the start-up (typebox and fastify are the largest modules left);',
    '  the rest is the pool, the migration check and pg-boss\'s start.',
    ''
  ]
  return lines.join('\n')
}

/** Figures measured in processes (`BENCH_ONLY=dyno npm run bench`), read from a file of bench/. */
function loadDyno (name: string): DynoResults | undefined {
  const file = new URL(`./${name}`, import.meta.url)
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as DynoResults : undefined
}

/** A round of issue-16 changes: the figures recorded on the code before it, and after it (this run when absent). */
interface DynoRound { title: string, before: string, after?: string, changes: string[] }

const DYNO_ROUNDS: DynoRound[] = [
  {
    title: 'One log line per action; pg-boss maintenance only where jobs are worked; pricing rules reused for 5 s',
    before: 'before-dyno.json',
    after: 'before-dyno-2.json',
    changes: [
      'The two were recorded in different sessions, the after on a quiet machine and the before on a busy one: figure',
      '1b\'s ratios moved with the load (generateQuote was 0.73× the sample in that session\'s last full run, 0.58×',
      'here), so this table says little about these changes\' own effect on figure 1b.'
    ]
  },
  {
    title: 'One idempotency statement per quote; undici instead of fetch; callback hooks; a compiled answer shape in the local org',
    before: 'before-dyno-2.json',
    after: 'before-dyno-3.json',
    changes: [
      '- **The idempotency record** (src/postgres/idempotency.ts): the claim is still committed durably before the org is',
      '  written, but claims arriving while one is in flight share the next statement (one commit for all), the answers',
      '  of finished calls ride in the next claim statement (or go alone, asynchronously committed, after 20 ms), and the',
      '  sending mark is replaced by a local fence: within half the lease since the claim was sent no other process can',
      '  take it over, so `sending()` needs no statement; past that it runs the fenced statement as before. A takeover',
      '  is always told the write may have been sent, and asks the org. These batched statements run on a connection of',
      '  their own with generic plans (planned once: custom plans re-planned them on every claim, which cost more than',
      '  running them), safe because answers are upserts found through the primary key; the table keeps room on its',
      '  pages (fillfactor 50) so an answer is a heap-only update.',
      '- **The org client** (src/salesforce/org-client.ts): `undici.request` on one keep-alive agent instead of the',
      '  global `fetch` (WHATWG streams, a Request and Response object per call), one cleared timer per call instead of',
      '  `AbortSignal.timeout`; failures are classified as before (before the headers or inside the body).',
      '- **The request path** (src/routes/actions.ts, src/salesforce/context.ts): per-request state on the request',
      '  instead of WeakMaps, callback-style hooks (no promise and microtask per hook), and response serializers compiled',
      '  once per schema instead of once per route.',
      '- **The local org** (packages/local-org): a query\'s answer shape compiled once per query, parents looked up once',
      '  per record, subqueries reading the parent-id index without copying it, indexes kept per type and field, and a',
      '  new record copied from one blank per object.'
    ]
  },
  {
    title: 'The caller context decoded and checked by atob in one pass; no second sort of Id-ordered children',
    before: 'before-dyno-3.json',
    after: 'before-dyno-4.json',
    changes: [
      'The before was recorded on the machine of that session, the after on the next session\'s, which answers about',
      'twice the requests per second: figure 1\'s ratio moved with the machine as much as with the change (the',
      'instruction counts below are what showed the change).',
      '- **The caller context** (src/salesforce/context.ts): a header in standard base64, as AppLink sends it, is decoded',
      '  and checked by `atob` in one native pass, instead of a whitespace strip, the alphabet\'s regular expression and a',
      '  Buffer; any other spelling (URL-safe alphabet, whitespace, no padding) takes the strict path as before, with the',
      '  same messages. A context that passes the schema skips the field-by-field checks, which only name the fault.',
      '  In instructions per whoAmI request (see "Where the time goes"): 240 k → 222 k; a bare Fastify route takes 184 k.',
      '- **The local org** (packages/local-org/src/soql.ts): a subquery\'s children come in Id order, and an',
      '  `ORDER BY Id` (generateQuote\'s lines) sorted them again through the generic keyed sort; a list already in the',
      '  order asked for is now left as it is (checked, not assumed). Over HTTP, timed inside the org for a second',
      '  look: of the ≈ 10 µs our answer costs more than the sample\'s, ≈ 2.5 µs are the engine (the subquery and its',
      '  projection), ≈ 2.6 µs JSON.stringify and ≈ 4 µs writing it: our answer is 1,777 bytes, the sample\'s 798 (the',
      '  opportunity, its account and its lines\' products, each with Salesforce\'s `attributes`), so figure 7 is',
      '  mostly the answer\'s size and stays near its target. (The fourth round refuted this reading of the size:',
      '  see "Where the time goes".)'
    ]
  },
  {
    title: 'Query answers written as JSON text by the local org; generateQuote reads only the fields it uses',
    before: 'before-dyno-4.json',
    changes: [
      '- **The local org** (packages/local-org/src/soql.ts, server.ts): a query\'s records are written as JSON text',
      '  straight from the store, along the compiled answer shape, instead of built as objects (an `attributes` object',
      '  and a record object per row, parent and child) for JSON.stringify to walk again. Values are written as',
      '  JSON.stringify writes them (a string with a quote, backslash, control character or surrogate goes through it);',
      '  a test checks the text is canonical JSON and every tricky value reads back. The engine alone, hot in a loop',
      '  (median of five runs of 100,000 answers): our query 3.7 → 1.8 µs (2.0 µs for its old field list), the',
      '  sample\'s 1.9 → 1.6 µs.',
      '- **generateQuote\'s opportunity query** (src/salesforce/queries.ts) no longer selects StageName, Account.Name',
      '  and Product2.ProductCode, which the quote never used: each field the caller cannot read fails the whole',
      '  query, and each costs the org its projection and the answer its bytes.'
    ]
  }
]

/** Before/after of the figures measured in processes, one table per round of issue-16 changes. */
function dynoChanges (r: Results): string[] {
  const rows: Array<[string, (d: DynoResults) => string]> = [
    ['whoAmI ÷ bare Fastify process, req/s', (d) => ratio(d.framework.ratio)],
    ['whoAmI CPU per request ÷ bare', (d) => ratio(d.framework.whoAmI.cpu.serverMs / d.framework.baseline.cpu.serverMs)],
    ['generateQuote ÷ Heroku\'s sample, req/s', (d) => ratio(d.quote.ratio)],
    ['service CPU per quote ÷ the sample\'s', (d) => ratio(d.quote.generateQuote.cpu.serverMs / d.quote.baseline.cpu.serverMs)],
    ['PostgreSQL CPU per quote', (d) => ms(d.quote.generateQuote.cpu.postgresMs)],
    ['local org CPU per quote ÷ the sample\'s', (d) => ratio(d.quote.generateQuote.cpu.orgMs / d.quote.baseline.cpu.orgMs)],
    ['p99 ÷ the sample\'s', (d) => ratio(d.quote.generateQuote.p99 / d.quote.baseline.p99)],
    ['local org CPU per answer, our query ÷ the sample\'s', (d) => ratio(d.orgQuery.ratio)]
  ]
  return DYNO_ROUNDS.flatMap((round) => {
    const before = loadDyno(round.before)
    const after = round.after === undefined ? r : loadDyno(round.after)
    if (before === undefined || after === undefined) return []
    return [
      `**${round.title}** (issue 16).`,
      `Before: bench/${round.before}, recorded on the code before these changes; after: ` +
        `${round.after === undefined ? 'this run' : `bench/${round.after}, recorded on the code after them`}. Both`,
      '`BENCH_ONLY=dyno npm run bench` (figures 1, 1b and 7) on this machine: compare the ratios, not the raw figures.',
      '',
      ...(round.changes.length > 0 ? [...round.changes, ''] : []),
      '| figure | before | after |',
      '|---|---|---|',
      ...rows.map(([figure, pick]) => `| ${figure} | ${pick(before)} | ${pick(after)} |`),
      ''
    ]
  })
}

/** The generateQuote comparison's rows in the headline table. */
function quoteHeadlines (r: Results): string[] {
  const { baseline: b, generateQuote: q } = r.quote
  const cpu = q.cpu.serverMs / b.cpu.serverMs
  const p99 = q.p99 / b.p99
  return [
    `| 1b. generateQuote (${r.quote.lines} lines) vs Heroku's org-action sample on the SDK, req/s | ${fmt(q.rps)} | ${fmt(b.rps)} | ${ratio(r.quote.ratio)} | ≥ 1.0: ${mark(r.quote.ratio >= 1)} |`,
    `| 1b. service CPU per quote vs the sample's | ${ms(q.cpu.serverMs)} | ${ms(b.cpu.serverMs)} | ${ratio(cpu)} | ≤ 1.0: ${mark(cpu <= 1)} |`,
    `| 1b. PostgreSQL CPU per quote (its backends) | ${ms(q.cpu.postgresMs)} | ${ms(b.cpu.postgresMs)} | | ≤ 0.3 ms: ${mark(q.cpu.postgresMs <= 0.3)} |`,
    `| 1b. p99 latency vs the sample's | ${ms(q.p99)} | ${ms(b.p99)} | ${ratio(p99)} | ≤ 1.5: ${mark(p99 <= 1.5)} |`,
    `| 7. local org CPU per answer: our opportunity query vs the sample's | ${ms(r.orgQuery.oursMs)} | ${ms(r.orgQuery.sampleMs)} | ${ratio(r.orgQuery.ratio)} | ≤ 1.2: ${mark(r.orgQuery.ratio <= 1.2)} |`
  ]
}

/** Telemetry's cost per quote in service CPU: on ÷ off (≤ 1.15), off ÷ without the SDK's --import (≤ 1.02). */
function tracingHeadlines (r: Results): string[] {
  if (r.tracing === undefined) return []
  const { bare, off, on, rate, saturated, spread } = r.tracing
  const onOff = on.cpu.serverMs / off.cpu.serverMs
  const offBare = off.cpu.serverMs / bare.cpu.serverMs
  const at = `at ${fmt(rate)} req/s each`
  // The ratio of the totals is the figure; the rounds' middle half shows how much one round's says.
  const rounds = (s: RoundSpread | undefined) => (s === undefined
    ? ''
    : `; ${s.rounds} pairs of rounds, the middle half ${ratio(s.low)}–${ratio(s.high)}`)
  return [
    `| 1d. service CPU per quote, tracing on (OTLP to a local sink) vs off, ${at}${rounds(spread?.onOff)} | ` +
      `${ms(on.cpu.serverMs)} | ${ms(off.cpu.serverMs)} | ${ratio(onOff)} | ≤ 1.15: ${mark(onOff <= 1.15)} |`,
    `| 1d. service CPU per quote, tracing off (\`npm start\`, no endpoint) vs without the SDK's --import, ${at}` +
      `${rounds(spread?.offBare)} | ${ms(off.cpu.serverMs)} | ${ms(bare.cpu.serverMs)} | ${ratio(offBare)} | ` +
      `≤ 1.02: ${mark(offBare <= 1.02)} |`,
    `| 1d. quotes/s as fast as answered (3 s, its processes' mean), tracing on vs off | ${fmt(saturated.on)} | ${fmt(saturated.off)} | ${ratio(saturated.on / saturated.off)} | (shown) |`
  ]
}

/** checkAvailability over MCP against its REST route on the same process: throughput ≥ 0.7, CPU per call. */
function mcpHeadlines (r: Results): string[] {
  if (r.mcp === undefined) return []
  const { rest, mcp, ratio: rps, products } = r.mcp
  return [
    `| 1e. checkAvailability (${products} products) as an MCP tools/call vs its REST route, req/s | ${fmt(mcp.rps)} | ${fmt(rest.rps)} | ${ratio(rps)} | ≥ 0.7: ${mark(rps >= 0.7)} |`,
    `| 1e. service CPU per call, MCP vs REST | ${ms(mcp.cpu.serverMs)} | ${ms(rest.cpu.serverMs)} | ${ratio(mcp.cpu.serverMs / rest.cpu.serverMs)} | reported |`
  ]
}

const cpuRow = (label: string, side: CpuLoadResult): string =>
  `| ${label} | ${fmt(side.rps)} | ${ms(side.p50)} | ${ms(side.p99)} | ${ms(side.cpu.serverMs)} | ${ms(side.cpu.postgresMs)} | ${ms(side.cpu.orgMs)} |`

/** Figure 1b: generateQuote against Heroku's org-action sample, both as a dyno runs them. */
function quoteSection (r: Results): string[] {
  const { baseline: b, generateQuote: q, lines } = r.quote
  return [
    '## 1b. generateQuote vs Heroku\'s org-action sample',
    '',
    'The baseline does what Heroku\'s org-action sample (heroku-reference-apps/heroku-applink-pattern-org-action-nodejs,',
    '`pricingEngine.js`) does per request, on the real `@heroku/applink` SDK in a bare Fastify app of its own process',
    '(bench/sample-server.ts): `parseRequest`, one `dataApi.query` of the opportunity\'s OpportunityLineItems with their',
    'fields, one unit of work creating the Quote and one QuoteLineItem per line, `commitUnitOfWork` (one composite graph):',
    `2 API calls, as ours. Both against the same local org, on the same opportunity (${lines} lines), a new AppLink request id`,
    'per call (our idempotency key), 8 connections. generateQuote also prices each line with the rules in PostgreSQL,',
    'claims the idempotency key durably before writing and records the answer, and maps every failure to a clear error.',
    'CPU per request: the server process (/proc/<pid>/stat), the PostgreSQL backends serving the bench database',
    '(/proc of the pids in pg_stat_activity), and the local org (the bench process, which only runs the org meanwhile).',
    '',
    '| | req/s | p50 | p99 | service CPU | PostgreSQL CPU | local org CPU |',
    '|---|---|---|---|---|---|---|',
    cpuRow('Heroku\'s sample on the SDK', b),
    cpuRow('generateQuote', q),
    `| **ratio** | **${ratio(r.quote.ratio)}** | | ${ratio(q.p99 / b.p99)} | ${ratio(q.cpu.serverMs / b.cpu.serverMs)} | | ${ratio(q.cpu.orgMs / b.cpu.orgMs)} |`,
    ''
  ]
}

/** The largest of the org → schema map's measurements: the per-1,000 figure the most orgs give. */
const largestMap = (t: TenantResults) => t.orgMap.reduce((a, b) => (b.orgs > a.orgs ? b : a))
/** Bytes per 1,000 orgs the map may cost (issue 24): under 1 MB. */
const MAP_TARGET_BYTES = 2 ** 20
const mb = (bytes: number): string => `${fmt(bytes / 2 ** 20, 2)} MB`

/** Figure 8 as recorded on the code before its statements were planned once per connection and schema. */
export function loadTenantsBefore (): TenantResults | undefined {
  const file = new URL('./before-tenants.json', import.meta.url)
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) as TenantResults : undefined
}

/** What the plan change moved in figure 8: the recorded run before it against `t`. */
function tenantChange (t: TenantResults, before: TenantResults): string[] {
  const rows: Array<[string, (r: TenantResults) => string]> = [
    ['200 orgs ÷ 1 org, req/s, warm', (r) => ratio(r.ratio)],
    ['200 orgs ÷ 1 org, req/s, first seconds (cold)', (r) => ratio(r.cold.tenants.rps / r.cold.single.rps)],
    ['PostgreSQL CPU per request, 200 orgs ÷ 1 org', (r) => ratio(r.tenants.cpu.postgresMs / r.single.cpu.postgresMs)],
    ['service CPU per request, 200 orgs ÷ 1 org', (r) => ratio(r.tenants.cpu.serverMs / r.single.cpu.serverMs)]
  ]
  return [
    '**Statements planned once per connection and schema** (issue 24). Each org\'s mirror is its own schema, so each',
    'pooled connection prepares checkAvailability\'s two statements once per org, and PostgreSQL made five custom plans',
    'of each before it settled on the generic one: with 200 orgs and 10 connections, 12,000 executions before every',
    'connection is settled, and most of a run\'s were trial plans. Measured on one connection over the 200 schemas,',
    'backend CPU per call: 2.4 ms the first time (parse, catalog), 1.3–1.8 ms for calls 2 to 6, 0.6 ms after. Now the',
    'availability statement runs on its generic plan from the first call (`plan_cache_mode` set with the org, for its',
    'transaction only, in the same round trip; src/postgres/org-scope.ts) and the freshness statement takes no',
    'parameter (src/postgres/mirror.ts): 0.4 ms from the second call. Both look up by equality on keys, and',
    'PostgreSQL\'s own choice after its trials was the generic plan (pg_prepared_statements). What is left is the',
    'first call per connection and org. Before: bench/before-tenants.json, recorded on the code before the change;',
    'after: this run; both `npm run bench -- --only tenants` on this machine, shared with other work.',
    '',
    '| figure | before | after |',
    '|---|---|---|',
    ...rows.map(([figure, pick]) => `| ${figure} | ${pick(before)} | ${pick(t)} |`)
  ]
}

/** Figure 8's rows in the headline table. */
export function tenantHeadlines (t: TenantResults): string[] {
  const map = largestMap(t)
  return [
    `| 8. many orgs: checkAvailability, callers of ${t.orgs} orgs (${t.orgs} mirrors on one database) vs of 1 org, req/s | ` +
      `${fmt(t.tenants.rps)} | ${fmt(t.single.rps)} | ${ratio(t.ratio)} | ≥ 0.95: ${mark(t.ratio >= 0.95)} |`,
    `| 8. the service's PostgreSQL connections, most at once: ${t.orgs} orgs vs 1 org | ${t.tenants.pool.peak} | ` +
      `${t.single.pool.peak} | | ≤ the pool's ${t.tenants.pool.max}, whatever the orgs: ${mark(t.tenants.pool.peak <= t.tenants.pool.max)} |`,
    `| 8. the org → schema map, memory per 1,000 orgs (${fmt(map.orgs)} orgs) | ${mb(map.bytesPerThousandOrgs)} | | | ` +
      `< 1 MB: ${mark(map.bytesPerThousandOrgs < MAP_TARGET_BYTES)} |`
  ]
}

/** Figure 8: checkAvailability with many orgs on one database, connections, the map's memory. */
export function tenantSection (
  t: TenantResults, rounds: number, seconds: number, before?: TenantResults
): string[] {
  return [
    '## 8. Many orgs on one database',
    '',
    `${t.orgs} orgs, each mirrored into a schema of its own on one database, as Heroku Connect for ISVs provisions one`,
    'add-on per customer org: the bench\'s org (schema `salesforce`) and ' + `${t.orgs - 1} more, each a local org of its own`,
    '(own org id, users, tokens and seeded records) loaded by the local sync into `tenant_<n>`, whose `_hcmeta` names it,',
    'with its app data (warehouses, stock, pricing rules, web orders) seeded by scripts/app-data.ts under its row-level',
    `security; built in ${fmt(t.buildS)} s. The service finds every schema from \`_hcmeta\`, as in production.`,
    `checkAvailability (${t.products} products, each org's own) on a service process per database, as a dyno runs it:`,
    'a database built the same way with the bench org alone, one caller, against the many-org database with one caller',
    '(rep1) per org, in turn, request after request. Every caller was answered once before (its org\'s UserInfo confirms',
    `its token, then cached). Each service first takes ${fmt(t.cold.seconds)} s of load from its start (cold: a pooled connection`,
    'prepares and plans each org\'s statements the first time it serves that org); then the two alternate in',
    `${rounds} rounds after a 1 s warm-up, ${seconds} s per side in all, 10 connections. CPU per request as in figure 1b.`,
    'Connections: the service\'s backends in `pg_stat_activity` (its `application_name`) for its database, sampled every',
    '100 ms under load, cold and warm.',
    '',
    '| | 1 org, 1 mirror | ' + `${t.orgs} orgs, ${t.orgs} mirrors | ratio |`,
    '|---|---|---|---|',
    `| first ${fmt(t.cold.seconds)} s from start (cold), req/s | ${fmt(t.cold.single.rps)} | ${fmt(t.cold.tenants.rps)} | ` +
      `${ratio(t.cold.tenants.rps / t.cold.single.rps)} |`,
    `| warm, req/s (below) | ${fmt(t.single.rps)} | ${fmt(t.tenants.rps)} | ${ratio(t.ratio)} |`,
    '',
    '| | req/s | p50 | p99 | service CPU | PostgreSQL CPU | local orgs\' CPU |',
    '|---|---|---|---|---|---|---|',
    cpuRow('1 org, 1 mirror', t.single),
    cpuRow(`${t.orgs} orgs, ${t.orgs} mirrors`, t.tenants),
    `| **ratio** | **${ratio(t.ratio)}** (target ≥ 0.95: ${mark(t.ratio >= 0.95)}) | | ${ratio(t.tenants.p99 / t.single.p99)} | ` +
      `${ratio(t.tenants.cpu.serverMs / t.single.cpu.serverMs)} | ${ratio(t.tenants.cpu.postgresMs / t.single.cpu.postgresMs)} | |`,
    '',
    '| | pool max (DATABASE_POOL_MAX + the idempotency writer\'s) | connections at most |',
    '|---|---|---|',
    `| 1 org | ${t.single.pool.max} | ${t.single.pool.peak} |`,
    `| ${t.orgs} orgs | ${t.tenants.pool.max} | ${t.tenants.pool.peak} |`,
    '',
    'One pool serves every org: a request borrows a connection for its statements, whatever its org, and the org\'s',
    'schema is named in the statement, not set on the connection.',
    '',
    'The org → schema map (OrgMirrors): the heap it adds when it reads N orgs\' schemas, after a full collection',
    '(`node --expose-gc bench/org-map-memory.ts N`, the catalog answered as PostgreSQL would, every id and name a new',
    'string): the map, one Mirror per schema, the ids and names.',
    '',
    '| orgs | heap | per 1,000 orgs | target |',
    '|---|---|---|---|',
    ...t.orgMap.map((m) => `| ${fmt(m.orgs)} | ${mb(m.bytes)} | ${mb(m.bytesPerThousandOrgs)} | ` +
      `< 1 MB: ${mark(m.bytesPerThousandOrgs < MAP_TARGET_BYTES)} |`),
    ...(before === undefined ? [] : ['', ...tenantChange(t, before)])
  ]
}

/**
 * Collections: one call per 200 accounts; Bulk API 2.0 above the default threshold: 6 plus polls;
 * both + event + callback.
 */
function expectedCalls (accounts: number): string {
  return accounts > 2000 ? '6 + polls + 2 (Bulk API 2.0)' : fmt(Math.ceil(accounts / 200) + 2)
}

function rescoreSection (rescore: RescoreCalls): string[] {
  if ('notMeasured' in rescore) return [`rescoreAccounts: not measured: ${rescore.notMeasured}`]
  return [
    '| rescoreAccounts | API calls | expected | per-record calls (N + 1) |',
    '|---|---|---|---|',
    ...rescore.rows.map((row) => `| ${fmt(row.accounts)} accounts | ${fmt(row.calls)} | ${expectedCalls(row.accounts)} | ` +
      `${fmt(row.accounts + 1)} |`),
    '',
    'Every job also publishes one platform event (`Account_Rescore__e`) and POSTs its callback. Above ' +
      '`RESCORE_BULK_THRESHOLD` (2,000) accounts the scores go through Bulk API 2.0 ingest jobs of up to 50,000 ' +
      'accounts each: create, upload, close, three result reads, and the status polls.'
  ]
}

function asyncSection (results: AsyncResults): string[] {
  if ('notMeasured' in results) return [`Not measured: ${results.notMeasured}`]
  return [
    `rescoreAccounts over ${fmt(results.accounts)} accounts, from enqueue to the job's completion, by worker processes on the bench database.`,
    '',
    '| workers | records scored and written / s | ÷ 1 worker |',
    '|---|---|---|',
    ...results.rows.map((row) => `| ${row.workers} | ${fmt(row.recordsPerS)} | ${ratio(row.recordsPerS / (results.rows[0]?.recordsPerS ?? NaN))} |`)
  ]
}

function hotSpotSection (r: Results, before: Results | undefined): string[] {
  if (before === undefined) return ['No recorded run before the fixes (bench/before.json) to compare with.']
  const out = [
    `Before: the run recorded in bench/before.json (${before.date.slice(0, 10)}, same machine, same command) before the fixes below;`,
    'after: this run. Ratios are compared, each against its own baseline of its own run.',
    ''
  ]
  for (const spot of HOT_SPOTS) {
    out.push(`**${spot.title}.** ${spot.change}`, '', '| figure | before | after |', '|---|---|---|')
    for (const f of spot.figures) out.push(`| ${f.figure} | ${f.pick(before)} | ${f.pick(r)} |`)
    out.push('')
  }
  return out
}

// ---- figure 9: the scale curve -------------------------------------------------------------

/** Where figure 9 sits in docs/performance.md: `npm run bench -- --only scale` rewrites what is between. */
export const SCALE_MARKERS = ['<!-- scale: npm run bench -- --only scale -->', '<!-- /scale -->'] as const
/** "Reads stay flat with size": p99 at a size ÷ p99 on the small data set. */
const FLAT_TARGET = 1.5

const sizeLabel = (p: ScalePoint): string => p.dataset === 'small' ? `small (${fmt(p.records.Account ?? 0)})` : fmt(p.dataset)
const total = (p: ScalePoint): number => Object.values(p.records).reduce((a, b) => a + b, 0)

/** The scale section of docs/performance.md, between SCALE_MARKERS. */
export function scaleSection (s: ScaleResults): string[] {
  const [small] = s.points
  const largest = s.points[s.points.length - 1]
  const flat = (pick: (p: ScalePoint) => LoadResult): string =>
    small === undefined || largest === undefined ? 'n/a' : ratio(pick(largest).p99 / pick(small).p99)
  const flatOk = (pick: (p: ScalePoint) => LoadResult): boolean =>
    small !== undefined && largest !== undefined && pick(largest).p99 / pick(small).p99 <= FLAT_TARGET
  return [
    SCALE_MARKERS[0],
    `## 9. Scale: the same reads from ${small === undefined ? '' : sizeLabel(small)} to ${largest === undefined ? '' : sizeLabel(largest)} accounts`,
    '',
    '![p50 and p99 by data set size](performance-scale.svg)',
    '',
    'Each size in turn: the local org seeded (`dataset: \'large\', accounts: N`), the mirror loaded by the local sync as',
    'Heroku Connect loads a new mapping (tables over 10,000 records through Bulk API 2.0 query jobs written with COPY,',
    'the rest through the REST API), app data seeded, `ANALYZE` and a `CHECKPOINT`, the service started in a process of',
    'its own as `npm start` runs it, then accountInsights (100 of rep1\'s accounts with',
    `opportunities taking turns, their access already cached) and checkAvailability (10 products), ${s.connections}`,
    `connections for ${s.seconds} s each, each beside the same SQL run straight on a pg pool (no HTTP, no access check).`,
    `Target: p99 at the largest size ≤ ${FLAT_TARGET}× p99 on the small data set: accountInsights ${flat((p) => p.insights)}`,
    `(${mark(flatOk((p) => p.insights))}), checkAvailability ${flat((p) => p.availability)} (${mark(flatOk((p) => p.availability))}).`,
    '',
    '| accounts | records in the org | seeded | org heap | mirror loaded | accountInsights p50 / p99 | its SQL p50 / p99 | checkAvailability p50 / p99 | its SQL p50 / p99 | rescore, accounts/s |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...s.points.map((p) => `| ${sizeLabel(p)} | ${fmt(total(p))} | ${fmt(p.seedS, 1)} s | ${fmt(p.orgHeapMb)} MB | ` +
      `${fmt(p.mirrorLoadS, 1)} s | ${ms(p.insights.p50)} / ${ms(p.insights.p99)} | ${ms(p.insightsSql.p50)} / ` +
      `${ms(p.insightsSql.p99)} | ${ms(p.availability.p50)} / ${ms(p.availability.p99)} | ` +
      `${ms(p.availabilitySql.p50)} / ${ms(p.availabilitySql.p99)} | ` +
      `${p.rescoreAccountsPerS === undefined ? 'not measured' : fmt(p.rescoreAccountsPerS)} |`),
    '',
    SCALE_MARKERS[1]
  ]
}

/** Figure 9 as a chart: p50 and p99 per size, each action beside its SQL (log scale). */
export function renderScaleSvg (s: ScaleResults, footer: string): string {
  const width = 780
  const rows = (title: string, pick: (p: ScalePoint) => LoadResult, good: boolean): Bar[] => s.points.map((p) => ({
    label: `${title}, ${sizeLabel(p)}`,
    value: pick(p).p99,
    text: `${ms(pick(p).p50)} / ${ms(pick(p).p99)}`,
    good
  }))
  const groups = [
    panelOf('accountInsights p50 / p99 by accounts (red: its SQL on a pg pool)',
      [...rows('action', (p) => p.insights, true), ...rows('SQL', (p) => p.insightsSql, false)]),
    panelOf('checkAvailability p50 / p99 by accounts (red: its SQL on a pg pool)',
      [...rows('action', (p) => p.availability, true), ...rows('SQL', (p) => p.availabilitySql, false)])
  ]
  return chart(groups, width, footer)
}

// ---- chart ---------------------------------------------------------------------------------

interface Bar { label: string, value: number, text: string, target?: number, good: boolean }

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** One panel of horizontal bars; `scale` maps a value to the share of the bar width (0..1). */
function panel (
  title: string,
  bars: Bar[],
  scale: (v: number) => number,
  y0: number,
  width: number
): { svg: string, height: number } {
  const labelW = 330
  const barW = width - labelW - 110
  const rowH = 24
  const parts = [`<text x="10" y="${y0 + 16}" class="title">${escapeXml(title)}</text>`]
  bars.forEach((bar, i) => {
    const y = y0 + 26 + i * rowH
    const w = Math.max(1, Math.min(1, scale(bar.value)) * barW)
    parts.push(`<text x="${labelW - 8}" y="${y + 13}" class="label" text-anchor="end">${escapeXml(bar.label)}</text>`)
    parts.push(`<rect x="${labelW}" y="${y + 2}" width="${w.toFixed(1)}" height="${rowH - 8}" class="${bar.good ? 'good' : 'bad'}"/>`)
    parts.push(`<text x="${(labelW + w + 6).toFixed(1)}" y="${y + 13}" class="value">${escapeXml(bar.text)}</text>`)
    if (bar.target !== undefined) {
      const x = labelW + Math.min(1, scale(bar.target)) * barW
      parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y - 1}" y2="${y + rowH - 3}" class="target"/>`)
    }
  })
  return { svg: parts.join('\n'), height: 26 + bars.length * rowH + 12 }
}

const linear = (max: number) => (v: number) => v / max
const logarithmic = (max: number) => (v: number) => Math.log10(1 + v) / Math.log10(1 + max)

/**
 * The headlines at a glance: ratios to the same-run baselines with their targets, API calls
 * against the per-record baseline, and latencies of the mirror against the REST API.
 */
export function renderSvg (r: Results): string {
  const width = 780
  const ratios: Bar[] = [
    { label: 'whoAmI ÷ bare Fastify, req/s', value: r.framework.ratio, text: `${ratio(r.framework.ratio)} (target 0.8)`, target: 0.8, good: r.framework.ratio >= 0.8 },
    { label: 'checkAvailability ÷ its SQL on pg, req/s', value: r.mirror.ratio, text: `${ratio(r.mirror.ratio)} (target 0.6)`, target: 0.6, good: r.mirror.ratio >= 0.6 },
    { label: 'app ÷ bare server process, req/s', value: r.startup.app.load.rps / r.startup.bare.load.rps, text: ratio(r.startup.app.load.rps / r.startup.bare.load.rps), good: true },
    ...(r.tenants === undefined
      ? []
      : [{ label: `checkAvailability, ${r.tenants.orgs} orgs ÷ 1 org, req/s`, value: r.tenants.ratio, text: `${ratio(r.tenants.ratio)} (target 0.95)`, target: 0.95, good: r.tenants.ratio >= 0.95 }])
  ]
  const rescore = 'rows' in r.apiCalls.rescore ? r.apiCalls.rescore.rows : []
  const calls: Bar[] = [
    ...r.apiCalls.quote.flatMap((q) => [
      { label: `generateQuote, ${q.lines} line${q.lines === 1 ? '' : 's'}`, value: q.service, text: `${q.service} calls`, good: true },
      { label: `per-record quote, ${q.lines} line${q.lines === 1 ? '' : 's'}`, value: q.naive, text: `${q.naive} calls`, good: false }
    ]),
    ...rescore.flatMap((row) => [
      { label: `rescoreAccounts, ${fmt(row.accounts)} accounts`, value: row.calls, text: `${fmt(row.calls)} calls`, good: true },
      { label: `per-record updates, ${fmt(row.accounts)} accounts`, value: row.accounts + 1, text: `${fmt(row.accounts + 1)} calls`, good: false }
    ])
  ]
  const latencies: Bar[] = [
    ...r.mirrorVsApi.flatMap((m) => [
      { label: `summary from mirror, access cached, org +${m.latencyMs} ms`, value: m.mirrorWarmMs, text: ms(m.mirrorWarmMs), good: true },
      { label: `summary from mirror, cold, org +${m.latencyMs} ms`, value: m.mirrorColdMs, text: ms(m.mirrorColdMs), good: true },
      { label: `summary from REST API, org +${m.latencyMs} ms`, value: m.apiMs, text: ms(m.apiMs), good: false }
    ]),
    { label: 'checkAvailability p50 / p99 under load', value: r.mirror.action.p99, text: `${ms(r.mirror.action.p50)} / ${ms(r.mirror.action.p99)}`, good: true },
    { label: 'start-up to listening (bare Fastify)', value: r.startup.bare.startMs, text: ms(r.startup.bare.startMs), good: false },
    { label: 'start-up to listening (AppLink Actions)', value: r.startup.app.startMs, text: ms(r.startup.app.startMs), good: r.startup.app.startMs < 1000 }
  ]
  return chart([
    { title: 'Throughput against same-run baselines (dashed: target)', bars: ratios, scale: linear(Math.max(1.1, ...ratios.map((b) => b.value))) },
    panelOf('Salesforce API calls per action (log scale; red: per-record baseline)', calls),
    panelOf('Latency, ms (log scale; red: baselines)', latencies)
  ], width, `${r.command} · ${r.date.slice(0, 10)} · ${r.machine.cores} cores · Node ${r.machine.node}`)
}

interface PanelSpec { title: string, bars: Bar[], scale: (v: number) => number }

/** A panel on a log scale up to its largest bar. */
const panelOf = (title: string, bars: Bar[]): PanelSpec =>
  ({ title, bars, scale: logarithmic(Math.max(...bars.map((b) => b.value))) })

/** Panels one under the other, on a white card with a footer line. */
function chart (specs: PanelSpec[], width: number, footer: string): string {
  let y = 10
  const panels = specs.map((p) => panel(p.title, p.bars, p.scale, 0, width))
  const parts: string[] = []
  for (const p of panels) {
    parts.push(`<g transform="translate(0 ${y})">${p.svg}</g>`)
    y += p.height + 8
  }
  const height = y + 16
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, -apple-system, Segoe UI, sans-serif">`,
    '<style>.title{font-size:13px;font-weight:600;fill:#222}.label{font-size:12px;fill:#333}.value{font-size:12px;fill:#111}' +
      '.good{fill:#2e7d32}.bad{fill:#c62828}.target{stroke:#111;stroke-width:2;stroke-dasharray:3 2}.foot{font-size:11px;fill:#666}</style>',
    `<rect width="${width}" height="${height}" fill="#fff"/>`,
    ...parts,
    `<text x="10" y="${height - 6}" class="foot">${escapeXml(footer)}</text>`,
    '</svg>',
    ''
  ].join('\n')
}
