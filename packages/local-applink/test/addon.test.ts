// The add-on stand-in's own answers, over HTTP, as the SDK's getAuthorization meets them.
import t from 'tap'
import { startLocalOrg } from '@applink-actions/local-org'
import { startLocalAppLink } from '../src/index.ts'

t.test('known, unknown and malformed developer names', async (t) => {
  const org = await startLocalOrg({ port: 0, seed: 3 })
  t.teardown(org.close)
  const applink = await startLocalAppLink({ org, authorizations: { RunAs: 'integration@acme.local' } })
  t.teardown(applink.close)
  const headers = {
    authorization: `Bearer ${applink.env.HEROKU_APPLINK_TOKEN}`,
    'x-app-uuid': applink.env.HEROKU_APP_ID
  }
  const get = async (name: string) => await fetch(`${applink.apiUrl}/authorizations/${name}`, { headers })

  t.equal((await get('RunAs')).status, 200, 'a known authorization')
  const unknown = await get('Nobody')
  t.equal(unknown.status, 404)
  t.match(await unknown.json(), { title: 'Not Found', detail: /Nobody/ })
  t.equal((await get('%zz')).status, 404, 'a malformed escape is an unknown name, not a crash')
  t.equal((await get('RunAs')).status, 200, 'and the server still answers')
  const refused = await fetch(`${applink.apiUrl}/authorizations/RunAs`, { headers: { ...headers, authorization: 'Bearer x' } })
  t.equal(refused.status, 401, 'a token it did not issue')
})
