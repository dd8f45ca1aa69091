// Which schema is which org's mirror, read from what Heroku Connect records in each (_hcmeta.org_id).
import t from 'tap'
import { createConnectSchema } from '@applink-actions/local-connect'
import { MAPPING } from '../../src/postgres/mapping.ts'
import { OrgMirrors, parseMirrorSchemas } from '../../src/postgres/org-mirrors.ts'
import { testDatabase } from '../helper.ts'

const ACME = '00DLo0000000001AAA'
const GLOBEX = '00DLo0000000002AAA'
const SANDBOX = '00DLo0000000003AAA'

t.test('each org gets the schema whose _hcmeta names it; new schemas are found without a restart', async (t) => {
  const { pool } = await testDatabase(t, 'mirrors')
  const connect = async (schema: string, orgId: string | null) => {
    await createConnectSchema(pool, schema, MAPPING)
    await pool.query(`UPDATE ${schema}._hcmeta SET org_id = $1`, [orgId])
  }
  await connect('salesforce', ACME)
  await connect('globex', GLOBEX.slice(0, 15))
  await connect('nameless', null)
  const errors: unknown[] = []
  const mirrors = new OrgMirrors(pool, {
    overrides: new Map(), refreshMs: 60_000, missRefreshMs: 0, onError: (e) => errors.push(e)
  })
  await mirrors.start()
  t.teardown(() => { mirrors.stop() })

  t.equal(mirrors.lookup(ACME)?.schema, 'salesforce', 'by its 18-character id')
  t.equal(mirrors.lookup(ACME.slice(0, 15))?.schema, 'salesforce', 'and by its 15-character id')
  t.equal(mirrors.lookup(GLOBEX)?.schema, 'globex', 'an _hcmeta holding 15 characters matches 18')
  t.equal(await mirrors.mirrorFor(SANDBOX), undefined, 'an org no schema names has no mirror')
  t.same([...mirrors.schemas.values()].sort(), ['globex', 'salesforce'], 'a schema naming no org serves none')

  await connect('sandbox', SANDBOX)
  t.equal((await mirrors.mirrorFor(SANDBOX))?.schema, 'sandbox', 'a schema that appears later is found on the next miss')

  await connect('copy_of_acme', ACME)
  await mirrors.refresh()
  t.equal(mirrors.lookup(ACME), undefined, 'two schemas claiming one org: neither is used')
  t.match(String(errors[0]), /copy_of_acme.*salesforce|salesforce.*copy_of_acme/, 'and the service says so')

  const pinned = new OrgMirrors(pool, {
    overrides: parseMirrorSchemas(`${ACME}:salesforce`), refreshMs: 60_000, missRefreshMs: 0, onError: () => {}
  })
  await pinned.refresh()
  t.equal(pinned.lookup(ACME)?.schema, 'salesforce', 'MIRROR_SCHEMAS settles it')
  t.equal(pinned.lookup(GLOBEX)?.schema, 'globex', 'the others still come from _hcmeta')
})
