// What a span may name: an org call's path becomes a template without record ids or a query string.
import t from 'tap'
import { pathTemplate } from '../../src/telemetry/tracing.ts'

t.test('a REST path loses its ids and its query string', async (t) => {
  t.equal(pathTemplate('/sobjects/Quote/0Q0Lo00000000ktKAA'), '/sobjects/Quote/{id}', '18 characters')
  t.equal(pathTemplate('/sobjects/Account/001Lo00000001aB/Contacts'), '/sobjects/Account/{id}/Contacts', '15, mid-path')
  t.equal(pathTemplate('/query?q=SELECT+Id+FROM+Account+WHERE+Id+%3D+%27001Lo00000001aBAAQ%27'), '/query')
  t.equal(pathTemplate('/services/data/v62.0/query/01gLo00000000abIAA-2000'), '/services/data/v62.0/query/{id}',
    'a query cursor (nextRecordsUrl)')
  t.equal(pathTemplate('/jobs/ingest/750Lo00000000AbIAI/batches'), '/jobs/ingest/{id}/batches')
})

t.test('names that look like ids but hold no digit stay', async (t) => {
  t.equal(pathTemplate('/sobjects/ProcessInstance/describe'), '/sobjects/ProcessInstance/describe')
  t.equal(pathTemplate('/sobjects/OpportunityLineItem'), '/sobjects/OpportunityLineItem')
  t.equal(pathTemplate('/composite/graph'), '/composite/graph')
})
