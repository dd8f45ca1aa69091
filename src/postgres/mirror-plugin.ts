import fp from 'fastify-plugin'
import { createMirror, type Mirror } from './mirror.ts'

declare module 'fastify' {
  interface FastifyInstance {
    mirror: Mirror
  }
}

/** Typed access to the tables Heroku Connect mirrors into CONNECT_SCHEMA. */
export default fp(async (app) => {
  app.decorate('mirror', createMirror(app.pg, app.config.CONNECT_SCHEMA))
}, { name: 'mirror', dependencies: ['pg', 'config'] })
