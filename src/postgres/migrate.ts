import { readdir, readFile } from 'node:fs/promises'
import type pg from 'pg'

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url)
/** Any fixed number: serialises concurrent starts of web and worker processes. */
const LOCK_KEY = 7_204_113

/**
 * Applies the app's own SQL migrations (`src/postgres/migrations/NNN_name.sql`) once each, in
 * name order, each in its own transaction. Safe to run at every start and from several
 * processes at once. Returns the names it applied.
 */
export async function migrate (pool: pg.Pool): Promise<string[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort()
  const client = await pool.connect()
  const applied: string[] = []
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_KEY])
    await client.query(`CREATE TABLE IF NOT EXISTS app_migrations (
      name text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`)
    const { rows } = await client.query<{ name: string }>('SELECT name FROM app_migrations')
    const done = new Set(rows.map((r) => r.name))
    for (const file of files) {
      if (done.has(file)) continue
      const sql = await readFile(new URL(file, MIGRATIONS_DIR), 'utf8')
      await client.query('BEGIN')
      try {
        await client.query(sql)
        await client.query('INSERT INTO app_migrations (name) VALUES ($1)', [file])
        await client.query('COMMIT')
      } catch (err) {
        await client.query('ROLLBACK')
        throw new Error(`migration ${file} failed: ${(err as Error).message}`, { cause: err })
      }
      applied.push(file)
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_KEY]).catch(() => {})
    client.release()
  }
  return applied
}
