// The org → schema map's memory (OrgMirrors, src/postgres/org-mirrors.ts): the heap it adds when it
// finds N orgs' mirrors. Run as `node --expose-gc bench/org-map-memory.ts N` (measureOrgMapMemory
// below does), so the heap holds nothing else that a collection could free or a measurement add.
//
// The database is a stand-in that answers OrgMirrors' two statements as PostgreSQL would for N
// Connect schemas (`tenant_<i>`, each with an `_hcmeta` naming its org): every schema name and org id
// is a new string made when the statement is answered, as pg makes them from a row. What is
// measured is what the service keeps: the map, one Mirror per schema, the ids and names.
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type pg from 'pg'
import { OrgMirrors } from '../src/postgres/org-mirrors.ts'

export interface OrgMapMemory {
  orgs: number
  /** Heap after the map was read, less the heap before, both after a full collection. */
  bytes: number
  bytesPerThousandOrgs: number
}

/** A 15-character org id for tenant `i`, as Connect records it in `_hcmeta.org_id`. */
const orgIdOf = (i: number): string => `00DTn${String(i).padStart(10, '0')}`

/** Answers the catalog query with N schemas, and the `_hcmeta` statement with each schema's org. */
function connectCatalog (orgs: number): pg.Pool {
  const query = async (text: string) => {
    const latest = [...text.matchAll(/SELECT (\d+) AS i, org_id FROM "tenant_(\d+)"\._hcmeta/g)]
    if (latest.length === 0) return { rows: Array.from({ length: orgs }, (_, i) => ({ schema: `tenant_${i}` })) }
    return { rows: latest.map(([, i, tenant]) => ({ i: Number(i), org_id: orgIdOf(Number(tenant)) })) }
  }
  return { query } as unknown as pg.Pool
}

async function measure (orgs: number): Promise<OrgMapMemory> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with node --expose-gc')
  const mirrors = new OrgMirrors(connectCatalog(orgs), {
    overrides: new Map(), refreshMs: 60_000, missRefreshMs: 5000, onError: (err) => { throw err }
  })
  gc()
  const before = process.memoryUsage().heapUsed
  await mirrors.refresh()
  gc()
  const bytes = process.memoryUsage().heapUsed - before
  const last = orgIdOf(orgs - 1)
  if (mirrors.lookup(last)?.schema !== `tenant_${orgs - 1}`) throw new Error(`the map did not find ${last}`)
  return { orgs, bytes, bytesPerThousandOrgs: bytes * 1000 / orgs }
}

/** The map's memory for each count, each measured in a fresh process. */
export async function measureOrgMapMemory (counts: number[]): Promise<OrgMapMemory[]> {
  const script = fileURLToPath(import.meta.url)
  const out: OrgMapMemory[] = []
  for (const orgs of counts) {
    const { stdout } = await promisify(execFile)(process.execPath, ['--expose-gc', script, String(orgs)])
    out.push(JSON.parse(stdout) as OrgMapMemory)
  }
  return out
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(JSON.stringify(await measure(Number(process.argv[2] ?? 1000))))
}
