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

t.test('one add-on, an authorization per org: each hands out its own org\'s id, URL and token', async (t) => {
  const acme = await startLocalOrg({ port: 0, seed: 3 })
  t.teardown(acme.close)
  const globex = await startLocalOrg({ port: 0, seed: 5, userDomain: 'globex.local', pod: 'Gx' })
  t.teardown(globex.close)
  const applink = await startLocalAppLink({
    org: acme,
    authorizations: {
      AcmeRunAs: 'integration@acme.local',
      GlobexRunAs: { org: globex, username: 'integration@globex.local' }
    }
  })
  t.teardown(applink.close)
  const headers = { authorization: `Bearer ${applink.env.HEROKU_APPLINK_TOKEN}`, 'x-app-uuid': applink.env.HEROKU_APP_ID }
  interface Answer { org: { id: string, instance_url: string, user_auth: { username: string, access_token: string } } }
  const org = async (name: string) =>
    ((await (await fetch(`${applink.apiUrl}/authorizations/${name}`, { headers })).json()) as Answer).org
  t.match(await org('AcmeRunAs'),
    { id: acme.orgId, instance_url: acme.url, user_auth: { username: 'integration@acme.local' } })
  const g = await org('GlobexRunAs')
  t.match(g, { id: globex.orgId, instance_url: globex.url, user_auth: { username: 'integration@globex.local' } })
  t.equal(g.user_auth.access_token, globex.user('integration@globex.local').accessToken, 'a token of globex')
})
