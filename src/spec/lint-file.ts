// Shared by `npm run spec:lint` and `npm run publish:org`: lint the YAML file that gets published.
import { readFile } from 'node:fs/promises'
import { parse } from 'yaml'
import { lintSpec, RULES, type LintIssue } from './lint.ts'

export async function lintSpecFile (file: string, metadataDir: string): Promise<LintIssue[]> {
  return await lintSpecText(await readFile(file, 'utf8'), metadataDir)
}

/** The same checks on YAML not written anywhere (publish:org --dry-run lints the spec it generated). */
export async function lintSpecText (yamlText: string, metadataDir: string): Promise<LintIssue[]> {
  return await lintSpec(parse(yamlText), { yamlText, metadataDir })
}

/** The finding, then the document behind its rule (and what the rule infers beyond the quote). */
export function formatIssue ({ severity, rule, path, message }: LintIssue): string {
  const { title, quote, inferred } = RULES[rule].source as { title: string, quote: string, inferred?: string }
  const basis = inferred === undefined ? '' : `\n  inferred: ${inferred}`
  return `${severity} ${rule} ${path}\n  ${message}\n  source: ${title}: "${quote}"${basis}`
}

export function hasErrors (issues: LintIssue[]): boolean {
  return issues.some((i) => i.severity === 'error')
}
