import { existsSync, readFileSync } from 'node:fs'
import type { LoadResult } from './measure.ts'
import type { Machine } from './env.ts'
import type { StartupResults } from './startup.ts'
import type { AsyncResults, RescoreCalls } from './async.ts'

export interface Results {
  machine: Machine
  command: string
  date: string
  seconds: number
  rounds: number
  /** 1-minute load average when the run started and ended: other work on the machine shows here. */
  loadAverage: { start: number, end: number }
  framework: { baseline: LoadResult, whoAmI: LoadResult, ratio: number }
  mirror: { products: number, baseline: LoadResult, action: LoadResult, ratio: number }
  mirrorVsApi: Array<{ latencyMs: number, mirrorColdMs: number, mirrorWarmMs: number, apiMs: number, mirrorColdCalls: number, mirrorWarmCalls: number, apiCalls: number }>
  apiCalls: {
    quote: Array<{ lines: number, service: number, naive: number, serviceMs: number, naiveMs: number }>
    insights: { first: number, cached: number }
    rescore: RescoreCalls
  }
  async: AsyncResults
  startup: StartupResults
  localOrg: { accounts: number, seedMs: number, roundTripMs: number, byIdMs: number, byIdP99Ms: number, byParentMs: number, page2000Ms: number, graph200Ms: number }
  runtimeS: number
}

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
      { figure: 'whoAmI ÷ bare Fastify, req/s', pick: (r) => ratio(r.framework.ratio) },
      { figure: 'whoAmI p99', pick: (r) => ms(r.framework.whoAmI.p99) },
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

export function renderMarkdown (r: Results): string {
  const [at0, at100] = r.mirrorVsApi
  const before = loadBefore()
  const q100 = r.apiCalls.quote.find((q) => q.lines === 100)
  const lines: string[] = [
    '# Performance',
    '',
    `Measured by \`${r.command}\` on ${r.date.slice(0, 10)}; the whole run took ${fmt(r.runtimeS)} s. Every figure is compared with a baseline`,
    'measured in the same run on the same machine, so the ratios hold from one machine to another better than the raw numbers do.',
    'Load comes from autocannon in a child process (10 connections, loopback), against servers listening on 127.0.0.1.',
    `A throughput comparison warms each side up for 1 s, then alternates baseline and service in ${r.rounds} rounds (${r.seconds} s per side in all),`,
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
    `| 1. framework overhead: whoAmI vs bare Fastify route, req/s | ${fmt(r.framework.whoAmI.rps)} | ${fmt(r.framework.baseline.rps)} | ${ratio(r.framework.ratio)} | ≥ 0.8: ${mark(r.framework.ratio >= 0.8)} |`,
    `| 2. mirror reads: checkAvailability (${r.mirror.products} products) vs its SQL on a pg pool, req/s | ${fmt(r.mirror.action.rps)} | ${fmt(r.mirror.baseline.rps)} | ${ratio(r.mirror.ratio)} | ≥ 0.6: ${mark(r.mirror.ratio >= 0.6)} |`,
    ...(at0 === undefined || at100 === undefined ? [] : [
      `| 3. account summary, org at 0 ms: mirror (access cached) vs REST API, latency | ${ms(at0.mirrorWarmMs)} | ${ms(at0.apiMs)} | ${ratio(at0.mirrorWarmMs / at0.apiMs)} | lower is better |`,
      `| 3. account summary, org at 100 ms: mirror (access cached) vs REST API, latency | ${ms(at100.mirrorWarmMs)} | ${ms(at100.apiMs)} | ${ratio(at100.mirrorWarmMs / at100.apiMs)} | lower is better |`
    ]),
    ...(q100 === undefined ? [] : [`| 4. generateQuote, 100 lines: API calls vs per-record | ${q100.service} | ${q100.naive} | ${ratio(q100.service / q100.naive)} | 2 calls: ${mark(q100.service === 2)} |`]),
    `| 6. start-up to listening: app vs bare Fastify | ${ms(r.startup.app.startMs)} | ${ms(r.startup.bare.startMs)} | ${ratio(r.startup.app.startMs / r.startup.bare.startMs)} | < 1 s (Heroku allows 60 s): ${mark(r.startup.app.startMs < 1000)} |`,
    '',
    '## 1. Framework overhead',
    '',
    'whoAmI runs everything an action request runs but I/O: the caller-context hook (decode and check `x-client-context`),',
    'body validation, the handler, response serialization with its schema, request logging. The baseline is a bare Fastify',
    'route on an instance with the same server options (logger, request ids) that returns the same JSON, without a schema,',
    'to the same request (same headers and body).',
    '',
    '| | req/s | p50 | p99 |',
    '|---|---|---|---|',
    `| bare Fastify route | ${fmt(r.framework.baseline.rps)} | ${ms(r.framework.baseline.p50)} | ${ms(r.framework.baseline.p99)} |`,
    `| whoAmI | ${fmt(r.framework.whoAmI.rps)} | ${ms(r.framework.whoAmI.p50)} | ${ms(r.framework.whoAmI.p99)} |`,
    `| **ratio** | **${ratio(r.framework.ratio)}** | | |`,
    ...(r.framework.ratio > 1 ? ['', 'A ratio above 1 is within the noise of the measurement: the action costs no more than the bare route.'] : []),
    '',
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
    'Counted by the local org per user. The naive generateQuote (bench/baselines.ts) reads the opportunity the same way,',
    'then creates the Quote and each QuoteLineItem with its own REST call, as Heroku\'s samples do.',
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
    `\`node src/server.ts\` with DATABASE_URL at an already migrated database (a dyno restart), from spawn to the`,
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
    '## What changed each figure',
    '',
    ...hotSpotSection(r, before),
    '## Hot spots seen and left',
    '',
    '- **Request logs**: every action request writes three log lines (Fastify\'s two and the action\'s own), each a synchronous',
    '  write; in a CPU profile of checkAvailability under load, writes take about 40 % of the process\'s time. Fastify\'s',
    '  `disableRequestLogging` with the action line kept would save two of three (src/app.ts, outside this change).',
    '- **Context decoding**: `decodeClientContext` (base64, JSON, TypeBox check) costs ≈ 20 µs per request, once per request',
    '  (cached by the raw request). Left as is: it is what makes a bad header a clear 401.',
    '- **Start-up**: importing src/app.ts takes most of the start-up (typebox and fastify are the largest modules left);',
    '  the rest is the pool, the migration check and pg-boss\'s start.',
    '- **DNS look-up per call** in the SDK\'s DataApi (`ensureResolvable`): no longer on any request path, since no action',
    '  calls the SDK\'s data API and it is now built only on use. **Keep-alive**: the org client uses Node\'s `fetch`, whose',
    '  global undici agent keeps connections alive; the local org keeps them 5 s. Not a hot spot.',
    ''
  ]
  return lines.join('\n')
}

function rescoreSection (rescore: RescoreCalls): string[] {
  if ('notMeasured' in rescore) return [`rescoreAccounts: not measured: ${rescore.notMeasured}`]
  return [
    '| rescoreAccounts | API calls | expected ⌈N/200⌉ + 1 | per-record calls (N + 1) |',
    '|---|---|---|---|',
    ...rescore.rows.map((row) => `| ${fmt(row.accounts)} accounts | ${fmt(row.calls)} | ${fmt(Math.ceil(row.accounts / 200) + 1)} | ${fmt(row.accounts + 1)} |`)
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

// ---- chart ---------------------------------------------------------------------------------

interface Bar { label: string, value: number, text: string, target?: number, good: boolean }

const escapeXml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

/** One panel of horizontal bars; `scale` maps a value to the share of the bar width (0..1). */
function panel (title: string, bars: Bar[], scale: (v: number) => number, y0: number, width: number): { svg: string, height: number } {
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
    { label: `checkAvailability ÷ its SQL on pg, req/s`, value: r.mirror.ratio, text: `${ratio(r.mirror.ratio)} (target 0.6)`, target: 0.6, good: r.mirror.ratio >= 0.6 },
    { label: 'app ÷ bare server process, req/s', value: r.startup.app.load.rps / r.startup.bare.load.rps, text: ratio(r.startup.app.load.rps / r.startup.bare.load.rps), good: true }
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
  let y = 10
  const panels = [
    panel('Throughput against same-run baselines (dashed: target)', ratios, linear(Math.max(1.1, ...ratios.map((b) => b.value))), 0, width),
    panel('Salesforce API calls per action (log scale; red: per-record baseline)', calls, logarithmic(Math.max(...calls.map((b) => b.value))), 0, width),
    panel('Latency, ms (log scale; red: baselines)', latencies, logarithmic(Math.max(...latencies.map((b) => b.value))), 0, width)
  ]
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
    `<text x="10" y="${height - 6}" class="foot">${escapeXml(`${r.command} · ${r.date.slice(0, 10)} · ${r.machine.cores} cores · Node ${r.machine.node}`)}</text>`,
    '</svg>',
    ''
  ].join('\n')
}
