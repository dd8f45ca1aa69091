import Fastify from 'fastify'
import closeWithGrace from 'close-with-grace'
import app from './app.ts'
import { serverOptions } from './server-options.ts'
import { loadConfigOrExit } from './config.ts'
import { stopTelemetry } from './telemetry/sdk.ts'

const config = loadConfigOrExit(process.env)
const server = Fastify(serverOptions(config))

// Heroku sends SIGTERM and kills 30 s later: stop accepting, let in-flight requests finish, close pools.
closeWithGrace({ delay: 25_000, logger: server.log }, async ({ err, signal }) => {
  if (err !== undefined) server.log.error({ err }, 'closing after an unexpected error')
  else server.log.info({ signal }, 'shutting down')
  await server.close()
  // Spans and metrics of the last calls go out before the process ends.
  await stopTelemetry()
})

try {
  await server.register(app, { config })
  const address = await server.listen({ port: config.APP_PORT, host: config.HOST })
  server.log.info({ address }, 'AppLink Actions listening')
} catch (err) {
  server.log.error({ err }, 'could not start')
  await server.close()
  process.exit(1)
}
