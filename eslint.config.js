// One style for the whole repository: neostandard (the Fastify team's choice), plus the rules that
// keep its shape: no import cycles, and the product never importing the local stand-ins.
import neostandard from 'neostandard'
import importX from 'eslint-plugin-import-x'

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
      'import-x/no-cycle': ['error', { ignoreExternal: true }]
    }
  },
  {
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {
        patterns: [{
          group: ['@applink-actions/local-*', '**/packages/local-*', '**/packages/local-*/**'],
          message: 'The product never imports the local stand-ins (they are dev and test tools).'
        }]
      }]
    }
  }
]
