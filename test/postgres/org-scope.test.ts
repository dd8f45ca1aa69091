// The second wall: row-level security on the app tables. Superusers bypass it always, so the app's
// database user is played by a role made here that, like Heroku Postgres's default credential, is
// no superuser and owns the tables it migrated (owners are held to the policies by FORCE).
import t from 'tap'
import pg from 'pg'
import { randomBytes } from 'node:crypto'
import { migrate } from '../../src/postgres/migrate.ts'
import { orgScope, withOrg } from '../../src/postgres/org-scope.ts'
import { purgeExpired } from '../../src/postgres/housekeeping.ts'
import { serverUrl, testDatabase } from '../helper.ts'

const ORG_A = '00D000000000001AAA'
const ORG_B = '00D000000000002AAA'

t.test('as a non-superuser owner, a query without the org filter sees only the org it set', async (t) => {
  const { url, pool: admin } = await testDatabase(t, 'rls')
  const role = `rls_app_${randomBytes(4).toString('hex')}`
  const database = new URL(url).pathname.slice(1)
  // A password too: the embedded PostgreSQL asks for one (the machine's server trusts loopback).
  const password = randomBytes(12).toString('hex')
  await admin.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '${password}'`)
  await admin.query(`GRANT ALL ON DATABASE ${database} TO ${role}; GRANT ALL ON SCHEMA public TO ${role}`)
  const appUrl = new URL(serverUrl(database))
  appUrl.username = role
  appUrl.password = password
  // One connection: what one org's transaction set would be seen by the next borrower if it leaked.
  const pool = new pg.Pool({ connectionString: appUrl.toString(), max: 1 })
  t.teardown(async () => {
    await pool.end()
    // Dropped with its objects once the test database is gone (the teardowns run in reverse).
    await admin.query(`REASSIGN OWNED BY ${role} TO postgres; DROP OWNED BY ${role}`).catch(() => {})
  })
  t.teardown(async () => {
    const server = new pg.Client({ connectionString: serverUrl('postgres') })
    await server.connect()
    await server.query(`DROP ROLE IF EXISTS ${role}`).catch(() => {})
    await server.end()
  })
  await migrate(pool)
  const { rows: [who] } = await pool.query('SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user')
  t.same(who, { rolsuper: false, rolbypassrls: false }, 'the app role neither is a superuser nor bypasses RLS')

  const a = orgScope(pool, ORG_A)
  await a.transaction(async (client) => {
    await client.query("INSERT INTO warehouses (code, name, country, lead_time_days) VALUES ('FRA', 'Frankfurt', 'DE', 1)")
    await client.query("INSERT INTO warehouse_stock (warehouse_code, product_code, quantity_on_hand) VALUES ('FRA', 'P-1', 5)")
    await client.query("INSERT INTO web_orders (account_sfid, ordered_at, total) VALUES ('001000000000001AAA', now(), 10)")
    await client.query('INSERT INTO pricing_settings (max_total_discount_percent) VALUES (20)')
    await client.query("INSERT INTO feedback_owners (feedback_id, org_id, user_id) VALUES (1, $1, '005000000000001AAA')", [ORG_A])
    await client.query('INSERT INTO job_progress (job_id, done, total) VALUES (gen_random_uuid(), 1, 2)')
  })
  const unfiltered = `SELECT (SELECT count(*) FROM warehouses)::int AS warehouses,
    (SELECT count(*) FROM warehouse_stock)::int AS stock, (SELECT count(*) FROM web_orders)::int AS orders,
    (SELECT count(*) FROM pricing_settings)::int AS pricing, (SELECT count(*) FROM feedback_owners)::int AS owners,
    (SELECT count(*) FROM job_progress)::int AS progress`
  const all = { warehouses: 1, stock: 1, orders: 1, pricing: 1, owners: 1, progress: 1 }
  const none = { warehouses: 0, stock: 0, orders: 0, pricing: 0, owners: 0, progress: 0 }
  t.same((await a.query(unfiltered)).rows[0], all, 'org A sees its rows')
  t.same((await orgScope(pool, ORG_B).query(unfiltered)).rows[0], none, 'org B, unfiltered: nothing of org A')
  t.same((await pool.query(unfiltered)).rows[0], none,
    'the same pooled connection after A\'s transactions, with no org set: nothing (the setting was transaction-local)')
  t.same((await admin.query(unfiltered)).rows[0], { ...all, pricing: 2 },
    'a superuser bypasses the policies (why the test needs the role): it also sees the unassigned default pricing')

  await t.rejects(orgScope(pool, ORG_B).query(
    'INSERT INTO web_orders (org_id, account_sfid, ordered_at, total) VALUES ($1, $2, now(), 1)', [ORG_A, '001000000000001AAA']),
  /row-level security/, 'org B cannot write a row of org A')
  const sameId = await orgScope(pool, ORG_B).query(
    "INSERT INTO feedback_owners (feedback_id, org_id, user_id) VALUES (1, $1, '005000000000002AAA')", [ORG_B])
  t.equal(sameId.rowCount, 1, 'B records its own feedback row 1 (ids come from each org\'s mirror): keys lead with the org')
  const changed = await orgScope(pool, ORG_B).query('UPDATE warehouse_stock SET quantity_on_hand = 0')
  t.equal(changed.rowCount, 0, 'nor change one')
  await t.rejects(pool.query("INSERT INTO warehouses (code, name, country, lead_time_days) VALUES ('X', 'X', 'X', 1)"),
    /null value in column "org_id"|row-level security/, 'a write outside any org is refused')
  await t.rejects(withOrg(pool, '00D000000000001', async () => {}), /18-character/, 'a 15-character id is refused')

  await admin.query("UPDATE job_progress SET updated_at = now() - interval '30 days'")
  t.equal((await purgeExpired(pool, 86_400_000)).jobProgress, 1, 'the purge deletes expired job rows of every org')
})
