// The example calls `npm run dev` prints: one per action, each answering 2xx on the local stack as
// printed (the chained ones with the id their first call answers).
import t from 'tap'
import { actions } from '../../src/actions/index.ts'
import { exampleCalls, type ExampleCall } from '../../scripts/dev-examples.ts'
import { startStack, type Stack } from '../stack.ts'

const USER = 'rep1@acme.local'

/** The shell words of a printed single-quoted command: the operation and its JSON body. */
function parsePrinted (command: string): { operationId: string, body: unknown } {
  const match = /^npm run -s invoke -- (\w+) '([^']*)'$/.exec(command)
  if (match === null) throw new Error(`not a plain invoke command: ${command}`)
  return { operationId: match[1] ?? '', body: JSON.parse(match[2] ?? '') }
}

async function run (s: Stack, example: ExampleCall): Promise<{ statusCode: number, answer: Record<string, unknown> }> {
  let body: unknown = example.body
  if (example.after !== undefined) {
    const first = await run(s, example.after.call)
    body = { [example.after.field]: first.answer[example.after.field] }
  } else {
    const printed = parsePrinted(example.command)
    body = printed.body
  }
  const res = await s.call(example.operationId, body, USER)
  return { statusCode: res.statusCode, answer: res.json() }
}

t.test('an example call per action, with real ids, that works as printed', async (t) => {
  const s = await startStack(t, { env: { CALLBACK_ALLOW_PRIVATE_ADDRESSES: 'true' } })
  const examples = exampleCalls(s.org, USER)
  t.same(examples.map((e) => e.operationId), actions.map((a) => a.operationId), 'one per action, in the registry\'s order')
  for (const example of examples) {
    const { statusCode, answer } = await run(s, example)
    t.ok(statusCode === 200 || statusCode === 202, `${example.operationId}: ${statusCode} ${JSON.stringify(answer).slice(0, 200)}`)
  }
  const chained = examples.filter((e) => e.after !== undefined).map((e) => e.command)
  t.ok(chained.length >= 2 && chained.every((c) => c.includes('--pick')), 'ids from an earlier answer are picked from it')
})
