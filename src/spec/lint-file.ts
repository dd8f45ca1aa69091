// Shared by `npm run spec:lint` and `npm run publish:org`: lint the YAML file that gets published.
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { lintSpec, type LintIssue } from './lint.ts'

export async function lintSpecFile (file: string, metadataDir: string): Promise<LintIssue[]> {
  const yamlText = await readFile(file, 'utf8')
  return lintSpec(parse(yamlText), { yamlText, metadataDir })
}

export function formatIssue ({ severity, rule, path, message }: LintIssue): string {
  return `${severity} ${rule} ${path}\n  ${message}`
}

export function hasErrors (issues: LintIssue[]): boolean {
  return issues.some((i) => i.severity === 'error')
}
