import fp from 'fastify-plugin'

/**
 * While the server closes, answers carry `Connection: close`: a keep-alive client would
 * otherwise hold the socket open for the keep-alive timeout and delay the exit past Heroku's
 * 30 s after SIGTERM.
 */
export default fp(async (app) => {
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  app.addHook('onSend', async (_request, reply) => {
    if (closing) void reply.header('connection', 'close')
  })
}, { name: 'graceful-close' })
