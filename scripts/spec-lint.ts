// npm run spec:lint [-- path/to/spec.yaml]: what Salesforce would reject, before publishing.
import { fileURLToPath } from 'node:url'
import { formatIssue, hasErrors, lintSpecFile } from '../src/spec/lint-file.ts'

const root = fileURLToPath(new URL('..', import.meta.url))
const file = process.argv[2] ?? `${root}openapi/api-spec.yaml`
const metadataDir = `${root}salesforce/force-app/main/default`

const issues = await lintSpecFile(file, metadataDir)
for (const issue of issues) process.stdout.write(`${formatIssue(issue)}\n`)
const errors = issues.filter((i) => i.severity === 'error').length
process.stdout.write(`${file}: ${errors} error(s), ${issues.length - errors} warning(s)\n`)
process.exitCode = hasErrors(issues) ? 1 : 0
