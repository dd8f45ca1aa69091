// The deploy path against the service's own config: the environment that app.json (the Heroku Button)
// and the commands of docs/publishing.md give each Procfile process must be one loadConfig accepts, at
// every point the app restarts; and jobs must have a process to run them. A config var the service
// comes to require fails here until app.json and the docs set it. Nothing is hand-copied from
// src/config.ts: the rules are loadConfig's own.
import { randomBytes, randomUUID } from 'node:crypto'
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import t, { type Test } from 'tap'
import { loadConfig, webWorksJobs, type Config } from '../../src/config.ts'

type Env = Record<string, string>
const root = fileURLToPath(new URL('../..', import.meta.url))
const read = (file: string) => readFileSync(`${root}${file}`, 'utf8')

/**
 * The config vars an add-on sets. heroku-postgresql: DATABASE_URL (Dev Center, "Heroku Postgres");
 * heroku-applink: HEROKU_APPLINK_API_URL and HEROKU_APPLINK_TOKEN (Dev Center, "Working with Heroku
 * AppLink": "After provisioning, the add-on creates the config vars"); herokuconnect: none the service reads.
 */
const ADDON_VARS: Record<string, Env> = {
  'heroku-postgresql': { DATABASE_URL: 'postgres://u:p@ec2-3-4-5-6.compute-1.amazonaws.com:5432/d1' },
  'heroku-applink': {
    HEROKU_APPLINK_API_URL: 'https://heroku-applink.heroku.com/addons/894792c1-c1e8-4f34-ba32-000000000000',
    HEROKU_APPLINK_TOKEN: 'af0a7e7984d4ef28948db6431dc036ae'
  },
  herokuconnect: {}
}

function addonVars (plan: string): Env {
  const vars = ADDON_VARS[plan.split(':')[0] ?? '']
  if (vars === undefined) throw new Error(`add-on ${plan}: say in ADDON_VARS which config vars it sets`)
  return vars
}

/** What a person pastes when the Heroku Button asks for an app.json var that has no value. */
const ASKED: Record<string, () => string> = {
  JOB_ENCRYPTION_KEYS: () => `k1:${randomBytes(32).toString('base64')}`
}

/** The `$(…)` substitutions the docs' commands use, by the command inside. */
const SUBSTITUTIONS: Array<[RegExp, () => string]> = [
  [/^openssl rand -base64 32$/, () => randomBytes(32).toString('base64')],
  [/^heroku apps:info .*--json \| jq -r \.app\.id$/, () => randomUUID()]
]

function substitute (value: string): string {
  return value.replace(/\$\(([^)]*)\)/g, (_, command: string) => {
    const found = SUBSTITUTIONS.find(([pattern]) => pattern.test(command))
    if (found === undefined) throw new Error(`docs: no stand-in for $(${command})`)
    return found[1]()
  })
}

/** Procfile process types, each with the variables its command line sets before the command. */
function processes (procfile: string): Map<string, Env> {
  const found = new Map<string, Env>()
  for (const line of procfile.split('\n')) {
    const match = /^(\w+):\s*(.*)$/.exec(line.trim())
    if (match === null) continue
    const inline = [...(match[2] ?? '').matchAll(/(?:^|\s)(\w+)=(\S+)(?=\s)/g)]
    found.set(match[1] ?? '', Object.fromEntries(inline.map((m) => [m[1], m[2]])))
  }
  return found
}

const procs = processes(read('Procfile'))

/** Why the service refuses to start with this environment in some process, or undefined. */
function refusal (env: Env): string | undefined {
  for (const [name, inline] of procs) {
    try {
      loadConfig({ ...env, ...inline })
    } catch (err) {
      return `${name}: ${(err as Error).message}`
    }
  }
  return undefined
}

interface Deployment {
  env: Env
  /** Dynos per process type. */
  formation: Record<string, number>
  addons: string[]
}

interface AppJson {
  env: Record<string, { value?: string, generator?: string, required?: boolean }>
  addons: Array<string | { plan: string }>
  formation?: Record<string, { quantity?: number }>
}

function fromAppJson (app: AppJson): Deployment {
  const addons = app.addons.map((addon) => (typeof addon === 'string' ? addon : addon.plan))
  const env: Env = Object.assign({}, ...addons.map(addonVars))
  for (const [name, spec] of Object.entries(app.env)) {
    // app.json Schema: "generator: secret" makes "a pseudo-random string of characters" (hex here).
    if (spec.value !== undefined) env[name] = spec.value
    else if (spec.generator === 'secret') env[name] = randomBytes(32).toString('hex')
    else if (spec.required !== false) {
      const asked = ASKED[name]
      if (asked === undefined) throw new Error(`app.json asks for ${name}: give the test a stand-in in ASKED`)
      env[name] = asked()
    }
  }
  const formation = Object.fromEntries(Object.entries(app.formation ?? {}).map(([type, f]) => [type, f.quantity ?? 1]))
  return { env, formation, addons }
}

/** The shell lines of the docs' bash blocks, continuation lines joined and comments dropped. */
function commands (markdown: string): string[] {
  const blocks = [...markdown.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1] ?? '')
  return blocks.join('\n').replace(/\\\n\s*/g, ' ').split('\n')
    .map((line) => line.replace(/\s+#.*$/, '').trim()).filter((line) => line !== '' && !line.startsWith('#'))
}

/** Replays the docs' commands in order; `check` is called wherever the app (re)starts, `fail` on a misstep. */
function fromDocs (markdown: string, check: (env: Env, where: string) => void, fail: (why: string) => void) {
  const deployment: Deployment = { env: {}, formation: {}, addons: [] }
  const authorizations = new Set<string>()
  const imports: string[] = []
  let deployed = false
  for (const line of commands(markdown)) {
    let m: RegExpExecArray | null
    if ((m = /^heroku addons:create (\S+)/.exec(line)) !== null) {
      deployment.addons.push(m[1] ?? '')
      Object.assign(deployment.env, addonVars(m[1] ?? ''))
    } else if ((m = /^heroku config:set (.*)$/.exec(line)) !== null) {
      for (const [, name = '', quoted, bare] of (m[1] ?? '').matchAll(/(\w+)=(?:"([^"]*)"|(\S+))/g)) {
        deployment.env[name] = substitute(quoted ?? bare ?? '')
      }
      const authorization = deployment.env.APPLINK_AUTHORIZATION
      if (authorization !== undefined && !authorizations.has(authorization)) {
        fail(`${line}: APPLINK_AUTHORIZATION names no authorization the docs added before`)
      }
      if (deployed) check(deployment.env, line)
    } else if (/^git push heroku /.test(line)) {
      deployed = true
      check(deployment.env, line)
    } else if ((m = /^heroku ps:scale (.*?)(?: -a \S+)?$/.exec(line)) !== null) {
      for (const [, type = '', n] of (m[1] ?? '').matchAll(/(\w+)=(\d+)/g)) deployment.formation[type] = Number(n)
    } else if ((m = /^heroku salesforce:authorizations:add (\S+)/.exec(line)) !== null) {
      authorizations.add(m[1] ?? '')
    } else if ((m = /^heroku connect:import (\S+)/.exec(line)) !== null) {
      imports.push(m[1] ?? '')
    }
  }
  return { deployment, imports, deployed }
}

function checkJobsRun (t: Test, { env, formation }: Deployment, where: string) {
  const config: Config = loadConfig({ ...env, ...procs.get('web') })
  if (webWorksJobs(config)) return
  t.ok(procs.has('worker'), 'the Procfile declares a worker process')
  t.ok((formation.worker ?? 0) >= 1, `${where}: the web process works no jobs here, so a worker dyno is scaled`)
}

const appJson = JSON.parse(read('app.json')) as AppJson
const docs = read('docs/publishing.md')

t.test('the Procfile runs the service and its job worker', async (t) => {
  t.match(procs.get('web'), { APP_PORT: String }, 'web: the mesh forwards to APP_PORT')
  t.match(read('Procfile'), /^web: .*heroku-applink-service-mesh npm start$/m)
  t.match(read('Procfile'), /^worker: npm run worker$/m)
})

t.test('app.json (the Heroku Button) gives the service every config var it needs, and a worker', async (t) => {
  const deployment = fromAppJson(appJson)
  t.equal(refusal(deployment.env), undefined, 'the service starts with what app.json sets')
  checkJobsRun(t, deployment, 'app.json formation')
  for (const type of Object.keys(deployment.formation)) t.ok(procs.has(type), `formation ${type} is a Procfile process`)
})

t.test('a required config var missing from app.json fails this test', async (t) => {
  // The check itself, on a copy: without the key (and no authorization) the service refuses to start.
  const { JOB_ENCRYPTION_KEYS: _, ...env } = appJson.env
  t.match(refusal(fromAppJson({ ...appJson, env }).env), /JOB_ENCRYPTION_KEYS is required/)
  const { formation: _f, ...noFormation } = appJson
  t.equal(fromAppJson(noFormation).formation.worker, undefined)
})

t.test('the manual path of docs/publishing.md: the service starts at every restart, jobs run', async (t) => {
  const { deployment, imports, deployed } = fromDocs(docs, (env, where) => {
    t.equal(refusal(env), undefined, `the service starts after: ${where}`)
  }, (why) => t.fail(why))
  t.ok(deployed, 'the docs deploy the code (git push heroku)')
  checkJobsRun(t, deployment, 'heroku ps:scale')
  t.ok(deployment.env.APPLINK_AUTHORIZATION, 'the docs add the jobs\' AppLink authorization and set APPLINK_AUTHORIZATION')
  t.same(imports, ['connect/mapping.json'], 'the docs import the Connect mapping')
  t.ok(existsSync(`${root}connect/mapping.json`))
})

t.test('app.json and the manual path agree: same add-on plans, dynos and settings', async (t) => {
  const button = fromAppJson(appJson)
  const { deployment: manual } = fromDocs(docs, () => {}, () => {})
  t.same([...manual.addons].sort(), [...button.addons].sort())
  t.same(manual.formation, button.formation)
  const [a, b] = [loadConfig(button.env), loadConfig(manual.env)]
  for (const [name, spec] of Object.entries(appJson.env)) {
    if (spec.value !== undefined) t.same(b[name as keyof Config], a[name as keyof Config], `${name} as app.json sets it`)
  }
  const connect = button.addons.find((plan) => plan.startsWith('herokuconnect:'))
  t.equal(connect, 'herokuconnect:demo', 'an explicit Heroku Connect plan')
  t.match(docs, /`herokuconnect:demo`[^\n]*\n?[^\n]*10,000 rows/, 'the docs state the demo plan\'s row cap')
})
