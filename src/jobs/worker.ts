// `npm run worker`: works queued jobs, no HTTP. Several workers (and, in development, the web
// process) share one queue in PostgreSQL.
import Fastify from 'fastify'
import closeWithGrace from 'close-with-grace'
import { stopTelemetry } from '../telemetry/sdk.ts'
import { serverOptions } from '../server-options.ts'
import { loadConfigOrExit } from '../config.ts'
import configPlugin from '../plugins/config.ts'
import pgPlugin from '../postgres/plugin.ts'
import mirrorPlugin from '../postgres/mirror-plugin.ts'
import jobsPlugin from './plugin.ts'

const config = loadConfigOrExit(process.env)

// The same pool, embedded PostgreSQL and migrations as the web process, as plugins without routes.
const worker = Fastify(serverOptions(config))

// Heroku sends SIGTERM and kills 30 s later: running jobs stop after their current batch and go
// back to the queue for another worker.
closeWithGrace({ delay: 25_000, logger: worker.log }, async ({ err, signal }) => {
  if (err !== undefined) worker.log.error({ err }, 'worker closing after an unexpected error')
  else worker.log.info({ signal }, 'worker shutting down')
  await worker.close()
  await stopTelemetry()
})

try {
  await worker.register(configPlugin, { config })
  await worker.register(pgPlugin)
  await worker.register(mirrorPlugin)
  await worker.register(jobsPlugin, { work: true })
  await worker.ready()
  worker.log.info({ pid: process.pid }, 'worker ready')
} catch (err) {
  worker.log.error({ err }, 'worker could not start')
  await worker.close()
  process.exit(1)
}
