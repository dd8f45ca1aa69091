// The Apex and Flows in salesforce/ use only classes, methods and fields that the published spec
// makes Salesforce generate (src/spec/consumer.ts): a renamed or removed field fails here, not in
// the org. The Apex is parsed with a real Apex parser.
import { readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import {
  ApexParserFactory, ApexParserListener, ApexParseTreeWalker, DotExpressionContext, FieldDeclarationContext,
  FormalParameterContext, LocalVariableDeclarationContext, NewExpressionContext, PrimaryExpressionContext,
  TypeRefContext, type ExpressionContext,
} from '@apexdevtools/apex-parser'
import { XMLParser } from 'fast-xml-parser'
import t from 'tap'
import { parse } from 'yaml'
import {
  APEX_NAMESPACE, FLOW_NAMESPACE, flowClassName, flowUsable, generatedService, listElement, type GeneratedService,
} from '../../src/spec/consumer.ts'
import { METADATA_DIR } from './fixtures.ts'

const CLIENT = 'AppLinkActions'
const SPEC_FILE = new URL('../../openapi/api-spec.yaml', import.meta.url)
const realSpec = () => parse(readFileSync(SPEC_FILE, 'utf8')) as Record<string, any>
const filesIn = (folder: string, suffix: string) => readdirSync(join(METADATA_DIR, folder))
  .filter((f) => f.endsWith(suffix)).map((f) => join(METADATA_DIR, folder, f))

const isGenerated = (type: string) => type.toLowerCase().startsWith(`${APEX_NAMESPACE.toLowerCase()}.`)

/** What one Apex source uses of the service that the service does not have. */
function apexProblems (source: string, file: string, service: GeneratedService): string[] {
  const problems = new Set<string>()
  const variables = new Map<string, string>()
  const typeNamed = (text: string): string | undefined => {
    if (!isGenerated(text)) return undefined
    const generated = service.classes.get(text.toLowerCase())
    if (generated === undefined) problems.add(`${file}: ${text} is not a class the spec generates`)
    return generated?.name
  }
  const declare = (type: TypeRefContext | null, names: string[]) => {
    const resolved = type === null ? undefined : typeNamed(type.getText())
    if (resolved !== undefined) for (const name of names) variables.set(name.toLowerCase(), resolved)
  }

  // Apex member access is resolved through the declared types of variables (enough for examples).
  const typeOfExpression = (expression: ExpressionContext): string | undefined => {
    if (expression instanceof PrimaryExpressionContext) return variables.get(expression.getText().toLowerCase())
    if (expression instanceof NewExpressionContext) return typeNamed(expression.creator().createdName().getText())
    if (!(expression instanceof DotExpressionContext)) return undefined
    const owner = typeOfExpression(expression.expression())
    const generated = owner === undefined ? undefined : service.classes.get(owner.toLowerCase())
    if (generated === undefined) return undefined
    const call = expression.dotMethodCall()
    const member = (call?.anyId() ?? expression.anyId()).getText()
    const members = call === null ? generated.fields : generated.methods
    const found = [...members.entries()].find(([name]) => name.toLowerCase() === member.toLowerCase())
    if (found === undefined) {
      problems.add(`${file}: ${generated.name} has no ${call === null ? 'field' : 'method'} ${member}`)
      return undefined
    }
    const [, type] = found
    return listElement(type) === undefined && isGenerated(type) ? type : undefined
  }

  const listener = new ApexParserListener()
  listener.enterLocalVariableDeclaration = (ctx: LocalVariableDeclarationContext) => {
    declare(ctx.typeRef(), ctx.variableDeclarators().variableDeclarator_list().map((d) => d.id().getText()))
  }
  listener.enterFieldDeclaration = (ctx: FieldDeclarationContext) => {
    declare(ctx.typeRef(), ctx.variableDeclarators().variableDeclarator_list().map((d) => d.id().getText()))
  }
  listener.enterFormalParameter = (ctx: FormalParameterContext) => declare(ctx.typeRef(), [ctx.id().getText()])
  listener.enterTypeRef = (ctx: TypeRefContext) => { typeNamed(ctx.getText()) }
  const parser = ApexParserFactory.createParser(source, true)
  const tree = parser.compilationUnit()
  ApexParseTreeWalker.DEFAULT.walk(listener, tree)
  const uses = new ApexParserListener()
  uses.exitDotExpression = (ctx: DotExpressionContext) => { typeOfExpression(ctx) }
  uses.enterNewExpression = (ctx: NewExpressionContext) => { typeOfExpression(ctx) }
  ApexParseTreeWalker.DEFAULT.walk(uses, tree)
  return [...problems]
}

const xml = new XMLParser()
const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])

/** What one Flow uses of the service that the service does not have, or that Flow cannot use. */
function flowProblems (source: string, file: string, service: GeneratedService): string[] {
  const problems: string[] = []
  const flow = xml.parse(source).Flow as Record<string, any>
  for (const call of list<Record<string, any>>(flow.actionCalls).filter((c) => c.actionType === 'externalService')) {
    const action = service.actions.get(String(call.actionName))
    if (action === undefined) {
      problems.push(`${file}: ${call.actionName} is not an action of the spec`)
      continue
    }
    if (!action.flowUsable) problems.push(`${file}: ${call.actionName} is a callback operation, which Flow cannot call`)
    for (const input of list<Record<string, any>>(call.inputParameters)) {
      if (!action.inputs.includes(String(input.name))) problems.push(`${file}: ${call.actionName} has no input ${input.name}`)
    }
  }
  const apexVariables = new Map<string, string>()
  for (const variable of list<Record<string, any>>(flow.variables).filter((v) => v.dataType === 'Apex')) {
    const apexClass = String(variable.apexClass)
    if (!apexClass.startsWith(FLOW_NAMESPACE)) continue
    const className = `${APEX_NAMESPACE}.${apexClass.slice(FLOW_NAMESPACE.length)}`
    if (!service.classes.has(className.toLowerCase())) problems.push(`${file}: ${apexClass} is not a class the spec generates`)
    else if (!flowUsable(service, className)) problems.push(`${file}: ${apexClass} has fields Flow cannot use`)
    else apexVariables.set(String(variable.name), className)
  }
  // References like GenerateQuoteBody.opportunityId, wherever the Flow names one.
  const references: string[] = []
  const collect = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(collect)
    else if (node !== null && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if ((key === 'assignToReference' || key === 'elementReference') && typeof value === 'string') references.push(value)
        else collect(value)
      }
    }
  }
  collect(flow)
  for (const reference of references) {
    const [variable = '', ...path] = reference.split('.')
    let type = apexVariables.get(variable)
    for (const field of path) {
      const generated = type === undefined ? undefined : service.classes.get(type.toLowerCase())
      if (generated === undefined) break
      type = generated.fields.get(field)
      if (type === undefined) problems.push(`${file}: ${generated.name} (${flowClassName(generated.name)}) has no field ${field}`)
    }
  }
  return problems
}

function consumerProblems (spec: Record<string, any>): string[] {
  const service = generatedService(spec, CLIENT)
  return [
    ...filesIn('classes', '.cls').flatMap((file) => apexProblems(readFileSync(file, 'utf8'), basename(file), service)),
    ...filesIn('flows', '.flow-meta.xml').flatMap((file) => flowProblems(readFileSync(file, 'utf8'), basename(file), service)),
  ]
}

t.test('the Apex and Flows in salesforce/ use only what the published spec generates', async (t) => {
  t.same(consumerProblems(realSpec()), [])
})

t.test('a response field renamed in the spec turns the check red', async (t) => {
  const spec = realSpec()
  const out = spec.paths['/actions/generateQuote'].post.responses[200].content['application/json'].schema.properties
  out.quoteNumber = out.quoteId
  delete out.quoteId
  t.same(consumerProblems(spec), [
    `QuoteService.cls: ${APEX_NAMESPACE}.${CLIENT}_generateQuote_OUT_200 has no field quoteId`,
  ])
})

t.test('a request field renamed, or an operation gone, turns the check red for Apex and Flow', async (t) => {
  const spec = realSpec()
  const body = spec.paths['/actions/generateQuote'].post.requestBody.content['application/json'].schema.properties
  body.opportunity = body.opportunityId
  delete body.opportunityId
  const problems = consumerProblems(spec)
  t.ok(problems.some((p) => /^QuoteService\.cls: .*_generateQuote_IN_body has no field opportunityId$/.test(p)), 'Apex', { problems })
  t.ok(problems.some((p) => /^Generate_Quote_From_Opportunity\.flow-meta\.xml: .* has no field opportunityId$/.test(p)), 'Flow', { problems })
  delete spec.paths['/actions/generateQuote']
  t.ok(consumerProblems(spec).some((p) => p.endsWith('AppLinkActions.generateQuote is not an action of the spec')))
})

t.test('what Salesforce generates: classes, renamed members, and what Flow can hold', async (t) => {
  const spec = realSpec()
  spec.components.schemas.Grid = {
    type: 'object',
    properties: {
      type: { type: 'string' },
      row_count: { type: 'integer' },
      cells: { type: 'array', items: { type: 'array', items: { type: 'number' } } },
    },
  }
  spec.components.schemas.Tally = { type: 'object', additionalProperties: { type: 'integer' } }
  const service = generatedService(spec, CLIENT)
  const grid = service.classes.get('herokuapplink.applinkactions_grid')
  t.same(Object.fromEntries(grid?.fields ?? []), { z0type: 'String', rowx5fcount: 'Integer', cells: 'List<List<Double>>' })
  t.notOk(flowUsable(service, `${APEX_NAMESPACE}.${CLIENT}_Grid`), 'a list of lists')
  t.notOk(flowUsable(service, `${APEX_NAMESPACE}.${CLIENT}_Tally`), 'a map')
  t.ok(flowUsable(service, `${APEX_NAMESPACE}.${CLIENT}_ErrorBody`))
  t.equal(service.classes.get('herokuapplink.applinkactions')?.methods.get('generateQuote'), `${APEX_NAMESPACE}.${CLIENT}.generateQuote_Response`)
  t.ok(service.classes.has('herokuapplink.applinkactions.generatequote_responseexception'))
  t.equal(service.actions.get(`${CLIENT}.rescoreAccounts`)?.flowUsable, false, 'callback operations are Apex-only')
  t.equal(flowClassName(`${APEX_NAMESPACE}.${CLIENT}_ErrorBody`), `${FLOW_NAMESPACE}${CLIENT}_ErrorBody`)
})
