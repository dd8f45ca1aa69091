// One style for the whole repository: neostandard (the Fastify team's choice), plus the rules that
// keep its shape: no import cycles between files, dependencies between folders of src/ in one
// direction only, and the product never importing the local stand-ins.
import neostandard from 'neostandard'
import importX from 'eslint-plugin-import-x'

/** What sits above actions: the routes and the plugins, the app, and its entries. */
const TOP = ['routes', 'plugins', 'server-options.ts', 'mcp', 'app.ts', 'spec', 'server.ts']

/** A folder (or file) of src/ that must not import the folders above it. */
const layer = (folder, above) => ({
  target: `./src/${folder}`,
  from: above.map((other) => `./src/${other}`),
  message: `src/${folder} sits below ${above.join(', ')}: dependencies point one way.`
})

export default [
  ...neostandard({ ts: true, ignores: ['node_modules/**', '.data/**', 'docs/**', 'openapi/**'] }),
  {
    plugins: { 'import-x': importX },
    settings: { 'import-x/extensions': ['.ts', '.js'] },
    rules: {
      '@stylistic/max-len': ['error', {
        code: 120,
        ignoreStrings: true,
        ignoreTemplateLiterals: true,
        ignoreUrls: true,
        ignoreRegExpLiterals: true,
        ignoreComments: false
      }],
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      // `void promise` marks a promise deliberately not awaited (a timer, a signal handler).
      'no-void': ['error', { allowAsStatement: true }]
    }
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      // Layers, lowest first: telemetry (the OpenTelemetry API, beneath everything that reports) <
      // schemas < domain < salesforce, postgres < jobs < actions < routes, plugins, server-options.ts
      // < mcp < app.ts < spec, server.ts. mcp builds on the action context (routes), the error bodies
      // (plugins) and the validation options (server-options). A folder may use the ones below it,
      // never one above. spec sits on top: generating the spec builds the app. jobs/worker.ts is an
      // entry like server.ts (it uses server-options and the config plugin), so jobs may use plugins.
      'import-x/no-restricted-paths': ['error', {
        zones: [
          layer('telemetry', ['schemas', 'domain', 'salesforce', 'postgres', 'jobs', 'actions', ...TOP]),
          layer('schemas', ['domain', 'salesforce', 'postgres', 'jobs', 'actions', ...TOP]),
          layer('domain', ['salesforce', 'postgres', 'jobs', 'actions', ...TOP]),
          layer('salesforce', ['postgres', 'jobs', 'actions', ...TOP]),
          layer('postgres', ['salesforce', 'jobs', 'actions', ...TOP]),
          layer('jobs', ['actions', 'routes', 'mcp', 'app.ts', 'spec', 'server.ts']),
          layer('actions', TOP),
          layer('routes', ['plugins', 'server-options.ts', 'mcp', 'app.ts', 'spec', 'server.ts']),
          layer('plugins', ['routes', 'server-options.ts', 'mcp', 'app.ts', 'spec', 'server.ts']),
          layer('server-options.ts', ['jobs', 'actions', 'routes', 'mcp', 'app.ts', 'spec',
            'server.ts']),
          layer('mcp', ['app.ts', 'spec', 'server.ts']),
          layer('app.ts', ['spec', 'server.ts']),
          layer('spec', ['server.ts']),
          ...['config.ts', 'errors.ts', 'keyring.ts'].map((base) => ({
            target: `./src/${base}`,
            from: './src/*/**',
            message: 'The base modules of src/ (config, errors, keyring) import nothing from its folders.'
          }))
        ]
      }],
      'no-restricted-imports': ['error', {
        patterns: [{
          group: ['@applink-actions/local-*', '**/packages/local-*', '**/packages/local-*/**'],
          message: 'The product never imports the local stand-ins (they are dev and test tools).'
        }]
      }]
    }
  }
]
