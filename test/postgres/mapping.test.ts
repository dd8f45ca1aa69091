import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import t from 'tap'
import { MAPPING, columnName, connectMappingFile, pgType } from '../../src/postgres/mapping.ts'

t.test('connect/mapping.json is the Connect export of src/postgres/mapping.ts', async (t) => {
  const committed = await readFile(new URL('../../connect/mapping.json', import.meta.url), 'utf8')
  t.equal(committed, connectMappingFile(), 'stale: run `npm run connect:mapping`')
})

t.test('npm run connect:mapping writes that export', async (t) => {
  const out = join(t.testdir(), 'mapping.json')
  const script = new URL('../../scripts/connect-mapping.ts', import.meta.url).pathname
  const { stdout } = await promisify(execFile)(process.execPath, [script, '--out', out])
  t.equal(stdout, `wrote ${out}\n`)
  t.equal(await readFile(out, 'utf8'), connectMappingFile())
})

t.test('the export has the shape heroku connect:import reads', async (t) => {
  const doc = JSON.parse(connectMappingFile())
  t.equal(doc.version, 1)
  const names = doc.mappings.map((m: { object_name: string }) => m.object_name)
  t.same(names, ['Account', 'Contact', 'Opportunity', 'OpportunityLineItem', 'Product2', 'Pricebook2', 'PricebookEntry', 'Case', 'Product_Feedback__c'])
  for (const m of doc.mappings) {
    t.match(m.config, { access: /^read_(only|write)$/, sf_polling_seconds: Number, fields: { Id: {}, SystemModstamp: {}, IsDeleted: {} }, indexes: { Id: { unique: true } } }, m.object_name)
    for (const value of Object.values(m.config.fields)) t.same(value, {}, 'field entries are empty objects, as Connect exports them')
  }
  const feedback = doc.mappings.find((m: { object_name: string }) => m.object_name === 'Product_Feedback__c')
  t.equal(feedback.config.access, 'read_write')
  t.equal(feedback.config.upsert_field, 'External_Id__c')
  t.ok(feedback.config.fields.Product__r__External_Id__c, 'parent written through the relationship external id')
})

t.test('column names and types follow Connect', async (t) => {
  t.equal(columnName('Id'), 'sfid')
  t.equal(columnName('Health_Score__c'), 'health_score__c')
  t.equal(pgType(MAPPING.Account.fields.OwnerId), 'varchar(18)')
  t.equal(pgType(MAPPING.Account.fields.Name), 'varchar(255)')
  t.equal(pgType(MAPPING.Account.fields.AnnualRevenue), 'double precision')
  t.equal(pgType(MAPPING.Opportunity.fields.Probability), 'double precision')
  t.equal(pgType(MAPPING.Account.fields.Health_Scored_At__c), 'timestamp without time zone')
  t.equal(pgType(MAPPING.Opportunity.fields.CloseDate), 'date')
  t.equal(pgType(MAPPING.Opportunity.fields.IsWon), 'boolean')
  t.equal(pgType(MAPPING.Case.fields.Status), 'varchar(255)')
  t.equal(pgType(MAPPING.Product_Feedback__c.fields.Comment__c), 'varchar(1000)')
})
