// The CLI's machine-readable output, a real client using what it prints, and snapshot persistence.
import t from 'tap'
import { spawn } from 'node:child_process'
import { appendFileSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { ADMIN, REP1, applink, orgFor } from './helper.ts'

const CLI = join(import.meta.dirname, '../src/cli.ts')

t.test('cli prints LOCAL_ORG_URL and one CONTEXT line per user, serves until SIGTERM', async t => {
  const child = spawn(process.execPath, [CLI, '--port', '0', '--seed', '5', '--latency-ms', '1'], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL') })
  const lines: string[] = []
  const rl = createInterface({ input: child.stdout })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('cli did not start')), 30_000)
    rl.on('line', line => {
      lines.push(line)
      if (lines.length === 7) { clearTimeout(timer); resolve() }
    })
    child.on('exit', code => reject(new Error(`cli exited ${String(code)}`)))
  })
  const url = /^LOCAL_ORG_URL=(http:\/\/127\.0\.0\.1:\d+)$/.exec(lines[0] ?? '')?.[1]
  t.ok(url, String(lines[0]))
  const contexts = new Map(lines.slice(1).map(l => { const [kind, user, b64] = l.split(' '); t.equal(kind, 'CONTEXT'); return [user, b64] }))
  t.same([...contexts.keys()].sort(), ['admin@acme.local', 'integration@acme.local', 'readonly@acme.local', 'rep1@acme.local', 'rep2@acme.local', 'rep3@acme.local'])
  const ctx = JSON.parse(Buffer.from(contexts.get(REP1) ?? '', 'base64').toString())
  t.equal(ctx.orgDomainUrl, url)
  const { context } = applink().init().salesforce.parseRequest({ 'x-client-context': contexts.get(REP1) }, {}, undefined)
  const res = await context.org.dataApi.query('SELECT Id FROM Account LIMIT 3')
  t.equal(res.records.length, 3, 'the SDK works with a printed context')
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  child.kill('SIGTERM')
  t.equal(await exited, 0, 'clean exit on SIGTERM')
})

t.test('cli rejects a bad dataset', async t => {
  const child = spawn(process.execPath, [CLI, '--dataset', 'huge'], { stdio: ['ignore', 'ignore', 'pipe'] })
  const code = await new Promise<number | null>(resolve => child.on('exit', c => resolve(c)))
  t.equal(code, 2)
})

t.test('snapshot: data survives a restart', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'local-org-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const first = await orgFor(t, { snapshotDir: dir })
  const acc = first.insertRecord('Account', { Name: 'Persisted Co', External_Id__c: 'SNAP-1' }, REP1)
  first.updateRecord(String(acc.Id), { Industry: 'Finance' })
  const gone = first.records('Case')[0]
  first.deleteRecord(String(gone?.Id))
  const countsBefore = first.counts()
  await first.close()

  const second = await orgFor(t, { snapshotDir: dir, seed: 999 })
  t.same(second.counts(), countsBefore, 'same records (the seed is not re-run)')
  t.equal(second.getRecord(String(acc.Id))?.Industry, 'Finance')
  t.equal(second.getRecord(String(gone?.Id))?.IsDeleted, true)
  t.equal(second.user(REP1).id, first.user(REP1).id)
  const next = second.insertRecord('Account', { Name: 'After restart' })
  t.ok(String(next.Id) > String(acc.Id), 'ids continue after the saved counter')
  const r = await fetch(`${second.url}/services/data/v62.0/query?q=${encodeURIComponent("SELECT Id, Owner.Username FROM Account WHERE External_Id__c = 'SNAP-1'")}`, { headers: { Authorization: `Bearer ${second.user(ADMIN).accessToken}` } })
  const body = await r.json() as { records: Array<{ Owner: { Username: string } }> }
  t.equal(body.records[0]?.Owner.Username, REP1, 'indexes rebuilt')
})

t.test('snapshot: a save appends what changed; a large journal is compacted; a torn line is skipped', async t => {
  const dir = mkdtempSync(join(tmpdir(), 'local-org-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const first = await orgFor(t, { snapshotDir: dir })
  const files = () => readdirSync(dir).sort()
  const base = files().find((f) => f.startsWith('records-')) as string
  const baseBytes = statSync(join(dir, base)).size
  const acc = first.insertRecord('Account', { Name: 'Journaled Co' }, REP1)
  first.saveSnapshot()
  const journal = files().find((f) => f.startsWith('journal-')) as string
  t.ok(journal, 'a journal next to the base')
  t.equal(statSync(join(dir, base)).size, baseBytes, 'the base is not rewritten')
  t.equal(readFileSync(join(dir, journal), 'utf8').trim().split('\n').length, 1, 'one line for one changed record')
  first.updateRecord(String(acc.Id), { Industry: 'Finance' })
  first.saveSnapshot()
  t.equal(readFileSync(join(dir, journal), 'utf8').trim().split('\n').length, 2)
  // A crash in the middle of an append leaves half a line.
  appendFileSync(join(dir, journal), '{"type":"Account","f":{"Id":')
  await first.close()

  const second = await orgFor(t, { snapshotDir: dir })
  t.equal(second.getRecord(String(acc.Id))?.Industry, 'Finance', 'the latest state of a journaled record')
  for (let i = 0; i < 5_100; i++) second.insertRecord('Contact', { LastName: `Bulk ${i}` })
  second.saveSnapshot()
  t.notOk(files().includes(base), 'a journal past its bound is compacted into a new base')
  t.same(files().filter((f) => f.startsWith('journal-')), [], 'and the old journal goes')
  const counts = second.counts()
  await second.close()
  const third = await orgFor(t, { snapshotDir: dir })
  t.same(third.counts(), counts)
})
