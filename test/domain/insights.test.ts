import t from 'tap'
import { summarize } from '../../src/domain/insights.ts'

type Facts = Parameters<typeof summarize>[1]

const quiet: Facts = {
  account: { name: 'Acme', type: 'Customer', industry: 'Manufacturing', billingCountry: 'Germany' },
  pipeline: [],
  wonRevenue12Months: 0,
  openCases: [],
  lastActivityAt: null,
  topProducts: [],
  webOrders: { count12Months: 0, total12Months: 0, lastOrderAt: null }
}

t.test('an account with nothing going on', async (t) => {
  t.equal(summarize('Acme', quiet), 'Acme has no open opportunities and won $0 in the last 12 months. ' +
    'There are no open cases and no web orders in the last 12 months.')
})

t.test('a busy account: pipeline with its main stage, cases with the high-priority ones, orders', async (t) => {
  const facts: Facts = {
    ...quiet,
    // As the query orders them: the largest amount first.
    pipeline: [
      { stage: 'Negotiation/Review', count: 2, amount: 150_000 },
      { stage: 'Prospecting', count: 3, amount: 20_500.4 }
    ],
    wonRevenue12Months: 1_234_567.89,
    openCases: [{ priority: 'Medium', count: 3 }, { priority: 'High', count: 2 }],
    webOrders: { count12Months: 12, total12Months: 8_999.5, lastOrderAt: '2026-11-30T10:00:00.000Z' }
  }
  t.equal(summarize('Globex', facts),
    'Globex has $170,500 in open pipeline across 5 opportunities, mostly in Negotiation/Review, ' +
    'and won $1,234,568 in the last 12 months. ' +
    'There are 5 open cases (2 high priority) and 12 web orders worth $9,000 in the last 12 months.')
})

t.test('one of each reads in the singular; no high-priority note without high-priority cases', async (t) => {
  const facts: Facts = {
    ...quiet,
    pipeline: [{ stage: 'Qualification', count: 1, amount: 9_999 }],
    wonRevenue12Months: 500,
    openCases: [{ priority: 'Low', count: 1 }],
    webOrders: { count12Months: 1, total12Months: 250, lastOrderAt: '2026-06-01T00:00:00.000Z' }
  }
  t.equal(summarize('Initech', facts),
    'Initech has $9,999 in open pipeline across 1 opportunity, mostly in Qualification, ' +
    'and won $500 in the last 12 months. ' +
    'There is 1 open case and 1 web order worth $250 in the last 12 months.')
})
