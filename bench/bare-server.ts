// Baseline of the framework overhead and start-up figures: the smallest Fastify server that
// answers like whoAmI, started like the app (its own process, request logs at info to stdout).
import Fastify from 'fastify'

const server = Fastify({ logger: { level: 'info' } })
server.post('/bare', async () => ({ orgId: '00DLo0000000008MAA', userId: '005Lo0000000006IAA', username: 'rep1@acme.local', apiVersion: '62.0', orgDomainUrl: 'http://127.0.0.1' }))
const address = await server.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' })
server.log.info({ address }, 'bare Fastify listening')
process.on('SIGTERM', () => { void server.close().then(() => process.exit(0)) })
