import { formatPath, type JsonPath } from './lint-path.ts'

export interface LintIssue {
  /** JSON path of the offending node, e.g. $.paths['/actions/whoAmI'].post.operationId */
  path: string
  /** Stable rule id */
  rule: string
  message: string
  severity: 'error' | 'warning'
}

export type Report = (rule: string, path: JsonPath, message: string, severity?: LintIssue['severity']) => void

export function collector (): { issues: LintIssue[], report: Report } {
  const issues: LintIssue[] = []
  const report: Report = (rule, path, message, severity = 'error') => {
    issues.push({ path: formatPath(path), rule, message, severity })
  }
  return { issues, report }
}
