// The Salesforce metadata in salesforce/ is well-formed and its names agree with each other
// and with the published spec, so a deploy or a publish does not fail on a typo.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { XMLParser, XMLValidator } from 'fast-xml-parser'
import t from 'tap'
import { parse } from 'yaml'
import { METADATA_DIR } from './fixtures.ts'

const CLIENT = 'AppLinkActions'
const PERMISSION_SET = 'AppLinkActions_User'
const METADATA_NS = 'http://soap.sforce.com/2006/04/metadata'
const root = fileURLToPath(new URL('../..', import.meta.url))
const sfdxRoot = join(root, 'salesforce')

const ROOT_ELEMENT: Record<string, string> = {
  '.field-meta.xml': 'CustomField',
  '.object-meta.xml': 'CustomObject',
  '.permissionset-meta.xml': 'PermissionSet',
  '.flow-meta.xml': 'Flow',
  '.cls-meta.xml': 'ApexClass',
}

function filesUnder (dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
}

const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' })
const read = (file: string) => readFileSync(file, 'utf8')
const xml = (file: string): Record<string, any> => parser.parse(read(file))
const list = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value])
const fieldFile = (object: string, field: string) => join(METADATA_DIR, 'objects', object, 'fields', `${field}.field-meta.xml`)
const objectFile = (object: string) => join(METADATA_DIR, 'objects', object, `${object}.object-meta.xml`)

const allFiles = filesUnder(sfdxRoot)
const xmlFiles = allFiles.filter((f) => f.endsWith('.xml'))
const customFields = allFiles.filter((f) => f.endsWith('.field-meta.xml'))
const permissionSets = allFiles.filter((f) => f.endsWith('.permissionset-meta.xml'))
const SPEC_FILE = join(root, 'openapi/api-spec.yaml')
const spec: any = existsSync(SPEC_FILE) ? parse(read(SPEC_FILE)) : undefined
const specOperationIds = new Set<string>(
  Object.values(spec?.paths ?? {}).flatMap((item: any) => Object.values(item).map((op: any) => op?.operationId))
)

t.test('sfdx-project.json points at folders that exist', async (t) => {
  const project = JSON.parse(read(join(sfdxRoot, 'sfdx-project.json')))
  t.ok(project.packageDirectories.length > 0)
  for (const dir of project.packageDirectories) t.ok(existsSync(join(sfdxRoot, dir.path)), dir.path)
})

t.test('every XML file is well-formed metadata of the type its suffix says', async (t) => {
  t.ok(xmlFiles.length > 0)
  for (const file of xmlFiles) {
    const name = relative(sfdxRoot, file)
    t.equal(XMLValidator.validate(read(file)), true, `${name} is well-formed`)
    const suffix = Object.keys(ROOT_ELEMENT).find((s) => file.endsWith(s))
    t.ok(suffix, `${name} has a known metadata suffix`)
    const element = xml(file)[ROOT_ELEMENT[suffix ?? ''] ?? '']
    t.equal(element?.['@xmlns'], METADATA_NS, `${name} is a ${suffix && ROOT_ELEMENT[suffix]} in the metadata namespace`)
  }
})

t.test('custom fields are named after their files; lookups point at objects that exist', async (t) => {
  for (const file of customFields) {
    const field = xml(file).CustomField
    t.equal(field.fullName, basename(file, '.field-meta.xml'), relative(sfdxRoot, file))
    for (const target of list<string>(field.referenceTo)) {
      if (target.endsWith('__c')) t.ok(existsSync(objectFile(target)), `${field.fullName} → ${target} exists`)
    }
  }
})

t.test('the feedback object has the fields Heroku Connect maps', async (t) => {
  t.ok(existsSync(objectFile('Product_Feedback__c')))
  for (const field of ['Product__c', 'Rating__c', 'Comment__c', 'External_Id__c']) {
    t.ok(existsSync(fieldFile('Product_Feedback__c', field)), field)
  }
  const externalId = xml(fieldFile('Product_Feedback__c', 'External_Id__c')).CustomField
  t.same([externalId.externalId, externalId.unique], [true, true], 'the upsert key is a unique external id')
})

t.test('the rescore event is high volume, publishes immediately; flows read only its fields', async (t) => {
  const event = xml(objectFile('Account_Rescore__e')).CustomObject
  t.equal(event.eventType, 'HighVolume')
  t.equal(event.publishBehavior, 'PublishImmediately')
  const flows = allFiles.filter((f) => f.endsWith('.flow-meta.xml'))
  for (const file of flows) {
    for (const [, field] of read(file).matchAll(/\$Record\.(\w+)/g)) {
      const flow = xml(file).Flow
      const object = String(flow.start.object)
      t.ok(existsSync(fieldFile(object, field ?? '')), `${basename(file)}: ${object}.${field} exists`)
    }
  }
})

t.test('permission sets grant custom fields and objects that exist, never a required field', async (t) => {
  for (const file of permissionSets) {
    const set = xml(file).PermissionSet
    for (const { field } of list<{ field: string }>(set.fieldPermissions)) {
      const [object = '', name = ''] = field.split('.')
      const path = fieldFile(object, name)
      // Standard fields (Quote.Status) have no file here; custom ones must be deployed with the set.
      if (name.endsWith('__c')) t.ok(existsSync(path), `${field} exists`)
      // "Salesforce does not allow required fields to be included in permission set fieldPermissions
      // metadata—deployments will fail with the error: 'You cannot deploy to a required field.'"
      if (existsSync(path)) t.not(xml(path).CustomField.required, true, `${field} is not required`)
    }
    for (const { object } of list<{ object: string }>(set.objectPermissions)) {
      if (object.endsWith('__c')) t.ok(existsSync(objectFile(object)), `${object} exists`)
    }
  }
})

/**
 * Who writes what, and so which set grants it. Heroku Dev Center, "Heroku AppLink User Mode Options":
 * "In user-plus mode, the developer and admin can define and grant an additional session-based
 * permission set": it is active only during the call, so it covers the caller's writes within a call
 * (generateQuote). Heroku Connect's writes and a job's writes after the call run outside any AppLink
 * session ("Authorizations, or authorized-user mode, ... It's common to have a dedicated user to run
 * workloads, such as in worker dynos or nightly jobs"): those users get ordinary permission sets.
 */
const WRITERS: Record<string, { session: boolean, objects: Record<string, ('allowCreate' | 'allowEdit')[]>, fields: string[] }> = {
  [PERMISSION_SET]: {
    session: true,
    objects: { Quote: ['allowCreate', 'allowEdit'] },
    fields: ['Quote.ExpirationDate', 'Quote.Status', 'Quote.Idempotency_Key__c', 'QuoteLineItem.Discount', 'QuoteLineItem.Idempotency_Key__c'],
  },
  AppLinkActions_Connect: {
    session: false,
    objects: { Product_Feedback__c: ['allowCreate', 'allowEdit'] },
    fields: ['Product_Feedback__c.Comment__c', 'Product_Feedback__c.External_Id__c', 'Product_Feedback__c.Product__c'],
  },
  AppLinkActions_Jobs: {
    session: false,
    objects: { Account: ['allowEdit'], Account_Rescore__e: ['allowCreate'] },
    fields: ['Account.Health_Score__c', 'Account.Health_Scored_At__c'],
  },
}

for (const [name, writes] of Object.entries(WRITERS)) {
  t.test(`${name} is ${writes.session ? 'session-based' : 'an ordinary set'} and grants the writes of its user`, async (t) => {
    const file = join(METADATA_DIR, 'permissionsets', `${name}.permissionset-meta.xml`)
    t.ok(existsSync(file), `${name} is shipped`)
    const set = xml(file).PermissionSet
    t.equal(set.hasActivationRequired, writes.session)
    const editable = new Set(list<{ field: string, editable: boolean }>(set.fieldPermissions)
      .filter((p) => p.editable)
      .map((p) => p.field))
    for (const field of writes.fields) t.ok(editable.has(field), `${field} is editable`)
    const objects = new Map(list<Record<string, any>>(set.objectPermissions).map((p) => [p.object, p]))
    for (const [object, grants] of Object.entries(writes.objects)) {
      for (const grant of grants) t.equal(objects.get(object)?.[grant], true, `${object}: ${grant}`)
      t.equal(objects.get(object)?.allowRead, true, `${object}: allowRead`)
    }
  })
}

t.test('every optional custom field here is granted by one of the sets', async (t) => {
  const granted = new Set(permissionSets.flatMap((file) =>
    list<{ field: string }>(xml(file).PermissionSet.fieldPermissions).map((p) => p.field)))
  for (const file of customFields) {
    const object = basename(join(file, '../..'))
    // Platform events: "Field-level security permissions don't apply and the event message contains
    // all fields" (Platform Events Developer Guide, "Considerations for Defining and Publishing Platform Events").
    if (object.endsWith('__e')) continue
    const field = xml(file).CustomField
    if (field.required !== true) t.ok(granted.has(`${object}.${field.fullName}`), `${object}.${field.fullName} is granted`)
  }
})

t.test('the spec names the permission set that is here', { skip: !spec && 'openapi/api-spec.yaml is not generated yet' }, async (t) => {
  const named = Object.values(spec.paths).flatMap((item: any) => Object.values(item))
    .map((op: any) => op?.['x-sfdc']?.heroku?.authorization?.permissionSet)
    .filter(Boolean)
  t.ok(named.length > 0, 'some operation names a permission set')
  t.same([...new Set(named)], [PERMISSION_SET])
})

t.test(`flows call actions of client ${CLIENT} that the spec defines`, async (t) => {
  const flows = allFiles.filter((f) => f.endsWith('.flow-meta.xml'))
  t.ok(flows.length > 0)
  for (const file of flows) {
    const flow = xml(file).Flow
    const calls = list<Record<string, any>>(flow.actionCalls).filter((c) => c.actionType === 'externalService')
    if (flow.start?.triggerType === 'PlatformEvent') {
      const event = String(flow.start.object)
      t.ok(existsSync(objectFile(event)), `${basename(file)} is triggered by ${event}, defined here`)
    } else {
      t.ok(calls.length > 0, `${basename(file)} calls an external service action`)
    }
    for (const call of calls) {
      const [client, operation] = String(call.actionName).split('.')
      t.equal(client, CLIENT, call.actionName)
      t.equal(call.nameSegment, call.actionName)
      if (spec) t.ok(specOperationIds.has(operation ?? ''), `${operation} is an operationId of the spec`)
    }
    for (const variable of list<Record<string, any>>(flow.variables).filter((v) => v.dataType === 'Apex')) {
      t.match(variable.apexClass, new RegExp(`^herokuapplink__${CLIENT}_`), `${variable.name} is a type of client ${CLIENT}`)
    }
  }
})

t.test(`Apex classes call client ${CLIENT}, have meta files, and the example is tested with a callout mock`, async (t) => {
  const classes = allFiles.filter((f) => f.endsWith('.cls'))
  t.ok(classes.length > 0)
  for (const file of classes) {
    t.ok(existsSync(`${file}-meta.xml`), `${basename(file)} has a -meta.xml`)
    t.match(read(file), new RegExp(`\\bclass ${basename(file, '.cls')}\\b`), `${basename(file)} declares its class`)
    for (const [, client] of read(file).matchAll(/HerokuAppLink\.(\w+?)(?:_\w+)?\b/g)) t.equal(client, CLIENT)
    for (const [, operation] of read(file).matchAll(new RegExp(`HerokuAppLink\\.${CLIENT}\\.(\\w+)_Request\\b`, 'g'))) {
      if (spec) t.ok(specOperationIds.has(operation ?? ''), `${operation} is an operationId of the spec`)
    }
  }
  const testClass = read(join(METADATA_DIR, 'classes', 'QuoteServiceTest.cls'))
  t.match(testClass, /@IsTest/)
  t.match(testClass, /Test\.setMock\(HttpCalloutMock\.class/)
  t.match(testClass, /QuoteService\.generateQuote\(/)
})

const MAPPING_FILE = join(root, 'connect/mapping.json')
const mappingSkip = { skip: !existsSync(MAPPING_FILE) && 'no connect/mapping.json' }
t.test('custom objects and fields the Heroku Connect mapping syncs exist here', mappingSkip, async (t) => {
  const { mappings } = JSON.parse(read(MAPPING_FILE)) as {
    mappings: { object_name: string, config: { fields: Record<string, unknown> } }[]
  }
  for (const { object_name: object, config } of mappings) {
    if (object.endsWith('__c')) t.ok(existsSync(objectFile(object)), `${object} exists`)
    for (const field of Object.keys(config.fields)) {
      // Product__r__External_Id__c: write the lookup Product__c through the parent's external id.
      const viaParent = /^(\w+)__r__(\w+__c)$/.exec(field)
      if (viaParent) {
        const lookup = xml(fieldFile(object, `${viaParent[1]}__c`)).CustomField
        t.ok(existsSync(fieldFile(lookup.referenceTo, viaParent[2] ?? '')), `${object}.${field} resolves through ${lookup.referenceTo}`)
      } else if (field.endsWith('__c')) {
        t.ok(existsSync(fieldFile(object, field)), `${object}.${field} exists`)
      }
    }
  }
})
