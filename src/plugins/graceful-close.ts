import fp from 'fastify-plugin'

/**
 * While the server closes, answers carry `Connection: close`: a keep-alive client would
 * otherwise hold the socket open for the keep-alive timeout and delay the exit past Heroku's
 * 30 s after SIGTERM.
 */
export default fp(async (app) => {
  let closing = false
  app.addHook('preClose', async () => { closing = true })
  // A callback, not an async hook: it runs on every answer, and an async hook costs a promise and
  // a turn of the microtask queue each time (issue 16).
  app.addHook('onSend', (_request, reply, _payload, done) => {
    if (closing) void reply.header('connection', 'close')
    done()
  })
}, { name: 'graceful-close' })
