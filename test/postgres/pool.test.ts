import t from 'tap'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { createServer, type AddressInfo } from 'node:net'
import { startEmbeddedPostgres } from '../../src/postgres/embedded.ts'
import { migrate } from '../../src/postgres/migrate.ts'
import { sslFor } from '../../src/postgres/pool.ts'
import { buildApp, testConfig, until } from '../helper.ts'

t.test('migrations are idempotent and safe to run concurrently', async (t) => {
  const { app } = await buildApp(t)
  t.same(await migrate(app.pg), [], 'a second run applies nothing')
  const results = await Promise.all([migrate(app.pg), migrate(app.pg)])
  t.same(results, [[], []], 'concurrent runs apply nothing twice')
  const { rows } = await app.pg.query<{ name: string }>('SELECT name FROM app_migrations ORDER BY name')
  t.ok(rows.some((r) => r.name === '001_idempotency.sql'))
  const { rows: tables } = await app.pg.query("SELECT to_regclass('idempotency_records') AS t")
  t.equal(tables[0].t, 'idempotency_records')
})

t.test('the pool is closed when the app closes', async (t) => {
  const { app } = await buildApp(t)
  await app.pg.query('SELECT 1')
  await app.close()
  t.equal(app.pg.ended, true)
  await t.rejects(app.pg.query('SELECT 1'))
})

t.test('an idle connection the server terminates is replaced, and said at info, not as an error', async (t) => {
  const { app, logs } = await buildApp(t)
  const [idle, other] = await Promise.all([app.pg.connect(), app.pg.connect()])
  const { rows: [own] } = await idle.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')
  idle.release()
  // Another connection ends the idle one, as a database restart does.
  await other.query('SELECT pg_terminate_backend($1)', [own?.pid]).finally(() => { other.release() })
  const line = await until('the log line', () => logs.map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((l) => String(l.msg).startsWith('PostgreSQL closed an idle connection')))
  t.match(line, { level: 30, err: { code: '57P01', message: /terminating connection due to administrator command/ } })
  const { rows } = await app.pg.query<{ one: number }>('SELECT 1 AS one')
  t.same(rows, [{ one: 1 }], 'the pool answers on a new connection')
})

t.test('without DATABASE_URL the app starts an embedded PostgreSQL and stops it on close', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'applink-embedded-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  // As root the package runs PostgreSQL as its own user, which must reach the data folder.
  await chmod(dir, 0o755)
  const config = testConfig({ DATABASE_URL: undefined, EMBEDDED_PG_DIR: path.join(dir, 'pg') })
  t.equal(config.DATABASE_URL, undefined)
  const { app } = await buildApp(t, { config })
  const { rows } = await app.pg.query<{ version: string }>('SELECT version()')
  t.match(rows[0]?.version, /PostgreSQL/)
  const { rows: ext } = await app.pg.query("SELECT count(*)::int AS n FROM pg_available_extensions WHERE name = 'hstore'")
  t.equal(ext[0].n, 1, 'hstore is available, as on Heroku Postgres')
  const res = await app.inject({ method: 'GET', url: '/healthcheck' })
  t.same(res.json().database.ok, true)
  await app.close()
})

t.test('an embedded PostgreSQL whose port is taken says so', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'applink-embedded-'))
  await chmod(dir, 0o755)
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const holder = createServer()
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve))
  t.teardown(() => new Promise<void>((resolve) => holder.close(() => { resolve() })))
  const port = (holder.address() as AddressInfo).port
  await t.rejects(startEmbeddedPostgres(path.join(dir, 'pg'), () => {}, port),
    { message: new RegExp(`did not start on port ${port}: .*Address already in use`) })
})

t.test('production refuses to start without DATABASE_URL, clearly', async (t) => {
  t.throws(() => testConfig({ NODE_ENV: 'production', DATABASE_URL: undefined }), /DATABASE_URL is required when NODE_ENV=production/)
})

t.test('TLS follows the URL, and Heroku Postgres in production', async (t) => {
  const dev = { DATABASE_SSL: 'auto', NODE_ENV: 'development' } as const
  const prod = { DATABASE_SSL: 'auto', NODE_ENV: 'production' } as const
  t.equal(sslFor('postgres://u:p@localhost/db', dev), false)
  t.same(sslFor('postgres://u:p@db.example/db?sslmode=require', dev), { rejectUnauthorized: false })
  t.same(sslFor('postgres://u:p@db.example/db?sslmode=verify-full', dev), { rejectUnauthorized: true })
  t.same(sslFor('postgres://u:p@ec2-1-2-3-4.compute-1.amazonaws.com:5432/d1', prod), { rejectUnauthorized: false })
  t.equal(sslFor('postgres://u:p@127.0.0.1/db', prod), false)
  t.equal(sslFor('postgres://u:p@db.example/db?sslmode=disable', prod), false)
})
