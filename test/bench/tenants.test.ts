// The bench's many-org figure (bench/tenants.ts): its load spreads callers, its report states the
// targets, and the org → schema map stays under its memory budget.
import t from 'tap'
import { createServer } from 'node:http'
import { httpLoad } from '../../bench/measure.ts'
import { measureOrgMapMemory } from '../../bench/org-map-memory.ts'
import { tenantHeadlines, tenantSection } from '../../bench/report.ts'
import type { TenantResults } from '../../bench/tenants.ts'

t.test('the org → schema map costs under 1 MB per 1,000 orgs', async (t) => {
  const [map] = await measureOrgMapMemory([2000])
  t.equal(map?.orgs, 2000)
  t.ok((map?.bytesPerThousandOrgs ?? Infinity) < 2 ** 20, `${map?.bytesPerThousandOrgs} bytes per 1,000 orgs`)
})

t.test('a load with callers sends each caller\'s context and body in turn, however many', async (t) => {
  const seen = new Map<string, string>()
  const server = createServer((req, res) => {
    let body = ''
    req.on('data', (chunk: Buffer) => { body += chunk.toString('utf8') })
    req.on('end', () => {
      seen.set(String(req.headers['x-client-context']), body)
      res.end('{}')
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.teardown(() => { server.close() })
  const { port } = server.address() as { port: number }
  // Past one command-line argument's 128 KB: the options go to the load process through a file.
  const callers = Array.from({ length: 200 }, (_, i) => ({ context: `ctx-${i}-${'x'.repeat(1000)}`, body: `{"n":${i}}` }))
  const result = await httpLoad({ url: `http://127.0.0.1:${port}/`, method: 'POST', callers, connections: 2, durationS: 1 })
  t.equal(result.failures, 0)
  t.equal(seen.size, 200, 'every caller sent')
  t.equal(seen.get(callers[7]?.context ?? ''), '{"n":7}', 'with its own body')
})

const side = (rps: number, peak: number) => ({
  rps,
  p50: 1,
  p99: 4,
  requests: rps * 9,
  failures: 0,
  cpu: { serverMs: 0.5, postgresMs: 0.3, orgMs: 0 },
  pool: { max: 11, peak }
})

t.test('the report gives each figure with its target', async (t) => {
  const results: TenantResults = {
    orgs: 200,
    products: 10,
    cold: { seconds: 9, single: side(1000, 10), tenants: side(800, 10) },
    single: side(1000, 10),
    tenants: side(960, 10),
    ratio: 0.96,
    buildS: 150,
    orgMap: [
      { orgs: 1000, bytes: 300_000, bytesPerThousandOrgs: 300_000 },
      { orgs: 10_000, bytes: 3_100_000, bytesPerThousandOrgs: 310_000 }
    ]
  }
  const headlines = tenantHeadlines(results).join('\n')
  t.match(headlines, /callers of 200 orgs .*\| 960 \| 1,000 \| 0\.96× \| ≥ 0\.95: met \|/)
  t.match(headlines, /connections.*\| 10 \| 10 \| \| ≤ the pool's 11, whatever the orgs: met \|/)
  t.match(headlines, /per 1,000 orgs \(10,000 orgs\) \| 0\.30 MB .*< 1 MB: met/)
  t.match(tenantHeadlines({ ...results, ratio: 0.9 }).join('\n'), /≥ 0\.95: \*\*missed\*\*/)
  const section = tenantSection(results, 3, 9).join('\n')
  t.match(section, /## 8\. Many orgs on one database/)
  t.match(section, /\| 200 orgs \| 11 \| 10 \|/)
  t.notMatch(section, /before-tenants\.json/, 'no recorded run, no before and after')
  const withBefore = tenantSection(results, 3, 9, { ...results, ratio: 0.64 }).join('\n')
  t.match(withBefore, /\| 200 orgs ÷ 1 org, req\/s, warm \| 0\.64× \| 0\.96× \|/)
  t.match(section, /\| first 9 s from start \(cold\), req\/s \| 1,000 \| 800 \| 0\.80× \|/)
  t.match(section, /\| 1,000 \| 0\.29 MB \| 0\.29 MB \| < 1 MB: met \|/)
})
