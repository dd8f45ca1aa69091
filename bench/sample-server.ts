// Baseline of the generateQuote comparison: what Heroku's org-action sample
// (heroku-reference-apps/heroku-applink-pattern-org-action-nodejs, src/server/services/pricingEngine.js)
// does per request, on the real @heroku/applink SDK, in a bare Fastify app of its own process:
// parseRequest, one dataApi.query of the opportunity's lines, one unit of work with the Quote and
// one QuoteLineItem per line, commitUnitOfWork. Written for the bench, not copied from the sample.
import Fastify from 'fastify'
import { init } from '@heroku/applink'
import { sampleQuery } from './org-cpu.ts'

const sdk = init()
// Request logs at info to stdout, as the sample's Fastify app has them (the bench sends stdout to /dev/null).
const server = Fastify({ logger: { level: 'info' } })

server.post<{ Body: { opportunityId: string } }>('/generateQuote', async (request, reply) => {
  let org
  try {
    org = sdk.salesforce.parseRequest(request.headers, request.body, request.log).context.org
  } catch {
    return await reply.status(401).send({ message: 'Failed to initialize Salesforce client' })
  }
  if (org === undefined) return await reply.status(401).send({ message: 'no org in the context' })
  const { opportunityId } = request.body
  const { records } = await org.dataApi.query(sampleQuery(opportunityId))
  if (records.length === 0) return await reply.status(404).send({ message: 'no line items' })
  const discountRate = 0.10
  const unitOfWork = org.dataApi.newUnitOfWork()
  const quote = unitOfWork.registerCreate({
    type: 'Quote',
    fields: { Name: 'New Quote', OpportunityId: opportunityId }
  })
  for (const { fields } of records) {
    const quantity = Number(fields.Quantity)
    const unitPrice = Number(fields.UnitPrice)
    unitOfWork.registerCreate({
      type: 'QuoteLineItem',
      fields: {
        QuoteId: quote.toApiString(),
        PricebookEntryId: fields.PricebookEntryId,
        Quantity: quantity,
        UnitPrice: unitPrice * (1 - discountRate)
      }
    })
  }
  const results = await org.dataApi.commitUnitOfWork(unitOfWork)
  return { quoteId: results.get(quote)?.id }
})

const address = await server.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
process.stderr.write(`sample listening ${JSON.stringify({ address })}\n`)
process.on('SIGTERM', () => { void server.close().then(() => process.exit(0)) })
