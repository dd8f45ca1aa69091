// Catches, before `heroku salesforce:publish`, what Salesforce would reject or silently drop
// when AppLink registers the spec as an External Service and creates Agentforce actions.
import SwaggerParser from '@apidevtools/swagger-parser'
import { stringify } from 'yaml'
import { lintAgentActions, lintFlagPlacement, lintTopic } from './lint-agent.ts'
import { lintAuthorization } from './lint-authorization.ts'
import {
  lintNames, lintOperationIds, lintOperations, lintParametersAndHeaders, lintSchemas, lintSizes,
} from './lint-external-services.ts'
import { pointerToPath } from './lint-path.ts'
import { collector, type LintIssue, type Report } from './lint-report.ts'
import { isObject } from './lint-walk.ts'

export type { LintIssue } from './lint-report.ts'
export { RULES, type RuleId } from './lint-rules.ts'

export interface LintOptions {
  /** The YAML as it will be published; its length is what Salesforce limits. Derived from `doc` when absent. */
  yamlText?: string
  /** sfdx source folder holding the metadata the spec names (force-app/main/default). */
  metadataDir: string
}

interface AjvDetail { instancePath?: string, message?: string, keyword?: string, params?: { missingProperty?: string } }

// Ajv explains one bad node with a cascade of oneOf / "$ref required" alternatives; keep the real cause.
function isCascade (detail: AjvDetail): boolean {
  return detail.keyword === 'oneOf' || (detail.keyword === 'required' && detail.params?.missingProperty === '$ref')
}

async function lintOpenApi (doc: object, report: Report): Promise<void> {
  const version = (doc as { openapi?: unknown }).openapi
  if (typeof version !== 'string' || !/^3\.0\.\d+$/.test(version)) {
    report('openapi-version', ['openapi'], `openapi must be 3.0.x (found ${JSON.stringify(version)}); External Services does not register 3.1`)
  }
  try {
    // The parser dereferences in place: give it a copy so the rules below see the $refs.
    await SwaggerParser.validate(structuredClone(doc) as SwaggerParser['api'])
  } catch (err) {
    const details = ((err as { details?: AjvDetail[] }).details ?? [])
    const causes = details.filter((d) => !isCascade(d))
    const shown = causes.length > 0 ? causes : details
    if (shown.length === 0) report('openapi-valid', [], (err as Error).message)
    for (const detail of shown) {
      report('openapi-valid', pointerToPath(detail.instancePath ?? '', doc), detail.message ?? (err as Error).message)
    }
  }
}

export async function lintSpec (doc: unknown, opts: LintOptions): Promise<LintIssue[]> {
  const { issues, report } = collector()
  if (!isObject(doc)) {
    report('openapi-valid', [], 'the spec is not an object')
    return issues
  }
  await lintOpenApi(doc, report)
  lintOperationIds(doc, report)
  lintNames(doc, report)
  lintSchemas(doc, report)
  lintOperations(doc, report)
  lintParametersAndHeaders(doc, report)
  lintSizes(doc, opts.yamlText ?? stringify(doc), report)
  lintTopic(doc, report)
  lintAgentActions(doc, report)
  lintFlagPlacement(doc, report)
  await lintAuthorization(doc, opts.metadataDir, report)
  return issues
}
