import t from 'tap'
import { allowedCallbackOrigins, callbackTarget } from '../../src/salesforce/callback-url.ts'
import { loadConfig } from '../../src/config.ts'
import { testConfig } from '../helper.ts'

const PROD = 'https://acme.my.salesforce.com'
const SANDBOX = 'https://acme--uat.sandbox.my.salesforce.com'
const target = (url: string, org = PROD, allowed: string[] = []) => callbackTarget(url, org, allowed)

t.test('the caller\'s own org gets the summary with the session: its My Domain and its other Salesforce hosts', async (t) => {
  t.same(target(`${PROD}/services/data/v64.0/x`), { allowed: true, withSession: true })
  t.same(target('https://acme.lightning.force.com/cb'), { allowed: true, withSession: true })
  t.same(target('https://acme.my.site.com/cb'), { allowed: true, withSession: true })
  t.same(target('https://acme--uat.sandbox.lightning.force.com/cb', SANDBOX), { allowed: true, withSession: true })
  t.same(target('http://127.0.0.1:4000/callback', 'http://127.0.0.1:4000'), { allowed: true, withSession: true }, 'the local org')
})

t.test('another org, another kind of the same name, plain http or a look-alike host are refused', async (t) => {
  for (const url of [
    'https://evil.my.salesforce.com/cb',
    'https://acme--uat.sandbox.my.salesforce.com/cb',
    'http://acme.my.salesforce.com/cb',
    'https://acme.my.salesforce.com.evil.example/cb',
    'https://user:pw@acme.my.salesforce.com/cb',
    'https://attacker.example/steal',
    'not a url',
  ]) t.same(target(url), { allowed: false, withSession: false }, url)
})

t.test('configured origins are allowed without the caller\'s session', async (t) => {
  const config = testConfig({ CALLBACK_ALLOWED_ORIGINS: 'https://hooks.acme.example,https://b.example:8443' })
  const allowed = allowedCallbackOrigins(config)
  t.same(allowed, ['https://hooks.acme.example', 'https://b.example:8443'])
  t.same(target('https://hooks.acme.example/rescore/done', PROD, allowed), { allowed: true, withSession: false })
  t.same(target('https://b.example/x', PROD, allowed), { allowed: false, withSession: false }, 'the port is part of the origin')
  t.throws(() => loadConfig({ CALLBACK_ALLOWED_ORIGINS: 'hooks.acme.example' }), /CALLBACK_ALLOWED_ORIGINS/)
})
