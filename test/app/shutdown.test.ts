import t from 'tap'
import { spawn } from 'node:child_process'
import { setTimeout as sleep } from 'node:timers/promises'
import { Type } from 'typebox'
import { defineAction } from '../../src/actions/define.ts'
import { buildApp, clientContext, encodeContext, TEST_JOB_ENCRYPTION_KEYS } from '../helper.ts'

let handlerEntered: () => void = () => {}
const entered = new Promise<void>((resolve) => { handlerEntered = resolve })
const slow = defineAction({
  operationId: 'slowWork',
  summary: 'slow',
  description: 'Takes a while',
  request: Type.Object({}),
  response: Type.Object({ done: Type.Boolean() }),
  // A shutdown test: its fake context's org does not exist to confirm the token.
  identity: 'from-context',
  handler: async () => { handlerEntered(); await sleep(600); return { done: true } }
})

t.test('closing lets an in-flight request finish and refuses new ones', async (t) => {
  const { app } = await buildApp(t, { database: false, actions: [slow] })
  const url = await app.listen({ port: 0, host: '127.0.0.1' })
  const headers = { 'content-type': 'application/json', 'x-client-context': encodeContext(clientContext()) }
  const inFlight = fetch(`${url}/actions/slowWork`, { method: 'POST', headers, body: '{}' })
  await entered
  const closing = app.close()
  await sleep(50)
  const refused = await fetch(`${url}/actions/slowWork`, { method: 'POST', headers, body: '{}' }).then((r) => r.status, () => 'refused')
  t.ok(refused === 'refused' || refused === 503, `a new request is refused (${refused})`)
  const res = await inFlight
  t.equal(res.status, 200)
  t.same(await res.json(), { done: true }, 'the in-flight request completed')
  await closing
})

t.test('the server process exits cleanly on SIGTERM', async (t) => {
  const child = spawn(process.execPath, ['src/server.ts'], {
    env: {
      ...process.env,
      APP_PORT: '0',
      LOG_LEVEL: 'info',
      NODE_ENV: 'test',
      JOB_ENCRYPTION_KEYS: TEST_JOB_ENCRYPTION_KEYS
    },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const deadline = Date.now() + 30_000
  while (!out.includes('AppLink Actions listening') && Date.now() < deadline) await sleep(50)
  t.match(out, /AppLink Actions listening/)
  const started = Date.now()
  child.kill('SIGTERM')
  const code = await new Promise((resolve) => child.on('exit', resolve))
  t.equal(code, 0)
  t.ok(Date.now() - started < 10_000, 'exits well within Heroku\'s 30 s')
  t.match(out, /shutting down/)
})
