import { formatPath, type JsonPath } from './lint-path.ts'
import { RULES, type RuleId } from './lint-rules.ts'

export interface LintIssue {
  /** JSON path of the offending node, e.g. $.paths['/actions/whoAmI'].post.operationId */
  path: string
  /** Stable rule id, a key of RULES (src/spec/lint-rules.ts) */
  rule: RuleId
  message: string
  severity: 'error' | 'warning'
}

/** Reports one finding; the severity is the rule's (RULES), which also names the document behind it. */
export type Report = (rule: RuleId, path: JsonPath, message: string) => void

export function collector (): { issues: LintIssue[], report: Report } {
  const issues: LintIssue[] = []
  const report: Report = (rule, path, message) => {
    issues.push({ path: formatPath(path), rule, message, severity: RULES[rule].severity })
  }
  return { issues, report }
}
