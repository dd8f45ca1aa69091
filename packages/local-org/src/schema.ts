// Object and field definitions of the local org, and the describe shapes built from them.

export type FieldType =
  | 'id' | 'string' | 'textarea' | 'picklist' | 'multipicklist' | 'reference' | 'double' | 'currency'
  | 'percent' | 'int' | 'boolean' | 'date' | 'datetime' | 'email' | 'phone' | 'url'

export type Sharing = 'private' | 'parent' | 'publicRead' | 'publicReadWrite' | 'setup' | 'virtual'

export interface FieldDef {
  name: string
  label: string
  type: FieldType
  length: number
  precision: number
  scale: number
  nillable: boolean
  createable: boolean
  updateable: boolean
  defaultedOnCreate: boolean
  calculated: boolean
  autoNumber: boolean
  custom: boolean
  externalId: boolean
  unique: boolean
  /** Unique values compare case-sensitively ("ABC" and "abc" are two values). */
  caseSensitive: boolean
  idLookup: boolean
  indexed: boolean
  referenceTo: string[]
  relationshipName: string | null
  childRelationshipName: string | null
  cascadeDelete: boolean
  picklistValues: string[]
  restrictedPicklist: boolean
  /** Validation rule bounds (FIELD_CUSTOM_VALIDATION_EXCEPTION when outside). */
  min?: number
  max?: number
}

export interface ChildRelationship {
  childSObject: string
  field: string
  relationshipName: string
  cascadeDelete: boolean
}

export interface ObjectDef {
  name: string
  label: string
  labelPlural: string
  keyPrefix: string
  custom: boolean
  sharing: Sharing
  /** For sharing 'parent': the reference field whose record controls access. */
  parentField?: string
  fields: FieldDef[]
  fieldMap: Map<string, FieldDef>
  /** lower-case parent relationship name → the reference field. */
  parentRels: Map<string, FieldDef>
  /** lower-case child relationship name → relationship. */
  childRels: Map<string, ChildRelationship>
  childRelationships: ChildRelationship[]
  createable: boolean
  updateable: boolean
  deletable: boolean
  /** A platform event (`__e`): published, never stored, queried or read back. */
  event: boolean
}

export interface FieldSpec {
  name: string
  type: FieldType
  label?: string
  length?: number
  precision?: number
  scale?: number
  required?: boolean
  readOnly?: boolean
  createOnly?: boolean
  defaulted?: boolean
  calculated?: boolean
  autoNumber?: boolean
  externalId?: boolean
  unique?: boolean
  caseSensitive?: boolean
  indexed?: boolean
  referenceTo?: string
  relationshipName?: string
  childRelationshipName?: string
  cascadeDelete?: boolean
  values?: string[]
  restricted?: boolean
  min?: number
  max?: number
}

export interface ObjectSpec {
  name: string
  keyPrefix: string
  label?: string
  labelPlural?: string
  sharing?: Sharing
  parentField?: string
  /** Adds OwnerId (reference to User, relationship Owner). Default true for private/public objects. */
  owned?: boolean
  /** Adds a Name field (text 80, required) unless a field called Name is listed. Default true. */
  nameField?: boolean
  readOnly?: boolean
  /** A platform event: its own system fields, publish only (POST sobjects/<Name>__e). */
  event?: boolean
  fields: FieldSpec[]
}

function labelOf (name: string): string {
  const base = name.replace(/__c$|__r$/, '').replace(/Id$/, '').replace(/_/g, ' ')
  return base.replace(/([a-z])([A-Z])/g, '$1 $2').trim() || name
}

function field (spec: FieldSpec, custom: boolean): FieldDef {
  const t = spec.type
  const numeric = t === 'double' || t === 'currency' || t === 'percent' || t === 'int'
  const readOnly = spec.readOnly === true || spec.calculated === true || spec.autoNumber === true || t === 'id'
  const textLike = t === 'string' || t === 'textarea' || t === 'email' || t === 'phone' || t === 'url' || t === 'picklist' || t === 'multipicklist'
  const defLength = t === 'id' || t === 'reference' ? 18 : t === 'textarea' ? 32000 : t === 'picklist' || t === 'multipicklist' ? 255 : textLike ? 255 : 0
  const isRef = t === 'reference' || t === 'id'
  return {
    name: spec.name,
    label: spec.label ?? labelOf(spec.name),
    type: t,
    length: spec.length ?? defLength,
    precision: numeric ? (spec.precision ?? 18) : 0,
    scale: numeric ? (spec.scale ?? (t === 'currency' ? 2 : 0)) : 0,
    nillable: !(spec.required === true) && t !== 'boolean' && t !== 'id',
    createable: !readOnly,
    updateable: !readOnly && spec.createOnly !== true,
    defaultedOnCreate: spec.defaulted === true || t === 'boolean' || t === 'id',
    calculated: spec.calculated === true,
    autoNumber: spec.autoNumber === true,
    custom: custom && spec.name.endsWith('__c'),
    externalId: spec.externalId === true,
    unique: spec.unique === true,
    caseSensitive: spec.caseSensitive === true,
    idLookup: t === 'id' || spec.externalId === true || spec.name === 'Name' || spec.name === 'Username',
    indexed: isRef || spec.externalId === true || spec.unique === true || spec.indexed === true || spec.name === 'Name',
    referenceTo: spec.referenceTo !== undefined ? [spec.referenceTo] : [],
    relationshipName: spec.relationshipName ?? (t === 'reference'
      ? (spec.name.endsWith('__c') ? spec.name.replace(/__c$/, '__r') : spec.name.replace(/Id$/, ''))
      : null),
    childRelationshipName: spec.childRelationshipName ?? null,
    cascadeDelete: spec.cascadeDelete === true,
    picklistValues: spec.values ?? [],
    restrictedPicklist: (t === 'picklist' || t === 'multipicklist') && spec.restricted !== false,
    min: spec.min,
    max: spec.max
  }
}

const SYSTEM_FIELDS: FieldSpec[] = [
  { name: 'Id', type: 'id', label: 'Record ID' },
  { name: 'IsDeleted', type: 'boolean', label: 'Deleted', readOnly: true },
  { name: 'CreatedDate', type: 'datetime', readOnly: true, defaulted: true, required: true },
  { name: 'CreatedById', type: 'reference', referenceTo: 'User', relationshipName: 'CreatedBy', readOnly: true, defaulted: true, required: true },
  { name: 'LastModifiedDate', type: 'datetime', readOnly: true, defaulted: true, required: true },
  { name: 'LastModifiedById', type: 'reference', referenceTo: 'User', relationshipName: 'LastModifiedBy', readOnly: true, defaulted: true, required: true },
  { name: 'SystemModstamp', type: 'datetime', label: 'System Modstamp', readOnly: true, defaulted: true, required: true }
]

/**
 * The system fields of a platform event, as Salesforce's Field Reference lists them for events
 * (e.g. PlatformStatusAlertEvent: CreatedById reference, CreatedDate datetime, EventUuid string 36,
 * ReplayId string 1000). Events have no Id field, no Name and no owner.
 */
const EVENT_SYSTEM_FIELDS: FieldSpec[] = [
  { name: 'ReplayId', type: 'string', length: 1000, label: 'Replay ID', readOnly: true },
  { name: 'CreatedDate', type: 'datetime', readOnly: true, defaulted: true, required: true },
  {
    name: 'CreatedById',
    type: 'reference',
    referenceTo: 'User',
    relationshipName: 'CreatedBy',
    readOnly: true,
    defaulted: true,
    required: true
  },
  { name: 'EventUuid', type: 'string', length: 36, label: 'Event UUID', readOnly: true }
]

export function defineObject (spec: ObjectSpec): ObjectDef {
  const event = spec.event === true
  const custom = spec.name.endsWith('__c') || event
  const sharing = spec.sharing ?? 'publicReadWrite'
  const specs: FieldSpec[] = [...(event ? EVENT_SYSTEM_FIELDS : SYSTEM_FIELDS)]
  const listed = new Set(spec.fields.map(f => f.name))
  if (!listed.has('Name') && spec.nameField !== false && !event) {
    specs.push({ name: 'Name', type: 'string', length: 80, required: true })
  }
  const ownable = sharing === 'private' || sharing === 'publicRead' || sharing === 'publicReadWrite'
  const owned = !event && (spec.owned ?? ownable)
  if (owned && !listed.has('OwnerId')) {
    specs.push({ name: 'OwnerId', type: 'reference', referenceTo: 'User', relationshipName: 'Owner', defaulted: true, required: true })
  }
  specs.push(...spec.fields)
  const fields = specs.map(s => field(s, custom))
  const def: ObjectDef = {
    name: spec.name,
    label: spec.label ?? labelOf(spec.name),
    labelPlural: spec.labelPlural ?? (spec.label ?? labelOf(spec.name)) + 's',
    keyPrefix: spec.keyPrefix,
    custom,
    sharing,
    parentField: spec.parentField,
    fields,
    fieldMap: new Map(fields.map(f => [f.name.toLowerCase(), f])),
    parentRels: new Map(),
    childRels: new Map(),
    childRelationships: [],
    createable: spec.readOnly !== true && sharing !== 'virtual',
    updateable: spec.readOnly !== true && sharing !== 'virtual' && !event,
    deletable: spec.readOnly !== true && sharing !== 'virtual' && !event,
    event
  }
  for (const f of fields) {
    if (f.type === 'reference' && f.relationshipName) def.parentRels.set(f.relationshipName.toLowerCase(), f)
  }
  return def
}

export class Schema {
  readonly objects = new Map<string, ObjectDef>()
  readonly byPrefix = new Map<string, ObjectDef>()
  /** By the name as defined: records carry it, so most look-ups need no lower-casing. */
  private readonly byName = new Map<string, ObjectDef>()

  constructor (defs: ObjectDef[]) {
    for (const d of defs) this.add(d)
  }

  add (def: ObjectDef): void {
    const replaced = this.objects.get(def.name.toLowerCase())
    if (replaced !== undefined) this.byName.delete(replaced.name)
    this.objects.set(def.name.toLowerCase(), def)
    this.byName.set(def.name, def)
    this.byPrefix.set(def.keyPrefix, def)
    this.linkChildren()
  }

  get (name: string): ObjectDef | undefined {
    return this.byName.get(name) ?? this.objects.get(name.toLowerCase())
  }

  all (): ObjectDef[] {
    return [...this.objects.values()]
  }

  private linkChildren (): void {
    for (const o of this.objects.values()) { o.childRels.clear(); o.childRelationships = [] }
    for (const child of this.objects.values()) {
      for (const f of child.fields) {
        if (f.type !== 'reference' || !f.childRelationshipName) continue
        const parent = this.get(f.referenceTo[0] ?? '')
        if (!parent) continue
        const rel: ChildRelationship = {
          childSObject: child.name,
          field: f.name,
          relationshipName: f.childRelationshipName,
          cascadeDelete: f.cascadeDelete
        }
        parent.childRels.set(rel.relationshipName.toLowerCase(), rel)
        parent.childRelationships.push(rel)
      }
    }
  }
}

const STAGES = ['Prospecting', 'Qualification', 'Needs Analysis', 'Proposal', 'Negotiation', 'Closed Won', 'Closed Lost']
export const STAGE_PROBABILITY: Record<string, number> = {
  Prospecting: 10, Qualification: 20, 'Needs Analysis': 20, Proposal: 50, Negotiation: 80, 'Closed Won': 100, 'Closed Lost': 0
}

/** The key AppLink Actions' generateQuote upserts quotes and their lines on (salesforce/ metadata). */
const IDEMPOTENCY_KEY: FieldSpec = {
  name: 'Idempotency_Key__c', type: 'string', label: 'Idempotency Key', length: 80, externalId: true, unique: true, caseSensitive: true
}

export const STANDARD_OBJECTS: ObjectSpec[] = [
  {
    name: 'Profile',
    keyPrefix: '00e',
    sharing: 'setup',
    owned: false,
    readOnly: true,
    fields: [{ name: 'Name', type: 'string', length: 255, required: true }]
  },
  {
    name: 'User',
    keyPrefix: '005',
    sharing: 'setup',
    owned: false,
    nameField: false,
    fields: [
      { name: 'Username', type: 'string', length: 80, required: true, unique: true, indexed: true },
      { name: 'FirstName', type: 'string', length: 40 },
      { name: 'LastName', type: 'string', length: 80, required: true },
      { name: 'Name', type: 'string', length: 121, calculated: true, indexed: true },
      { name: 'Alias', type: 'string', length: 8 },
      { name: 'Email', type: 'email', length: 128, required: true },
      { name: 'IsActive', type: 'boolean', label: 'Active' },
      { name: 'ProfileId', type: 'reference', referenceTo: 'Profile', required: true },
      { name: 'UserType', type: 'picklist', values: ['Standard'], readOnly: true }
    ]
  },
  {
    name: 'Account',
    keyPrefix: '001',
    sharing: 'private',
    fields: [
      { name: 'Name', type: 'string', length: 255, required: true, label: 'Account Name' },
      { name: 'Type', type: 'picklist', label: 'Account Type', values: ['Customer', 'Prospect', 'Partner'] },
      { name: 'Industry', type: 'picklist', values: ['Technology', 'Manufacturing', 'Healthcare', 'Retail', 'Finance'] },
      { name: 'BillingCountry', type: 'string', length: 80 },
      { name: 'BillingCity', type: 'string', length: 40 },
      { name: 'Phone', type: 'phone', length: 40 },
      { name: 'Website', type: 'url', length: 255 },
      { name: 'Description', type: 'textarea', length: 32000 },
      { name: 'AnnualRevenue', type: 'currency', precision: 18, scale: 0 },
      { name: 'NumberOfEmployees', type: 'int', precision: 8, label: 'Employees' },
      { name: 'ParentId', type: 'reference', referenceTo: 'Account', relationshipName: 'Parent', childRelationshipName: 'ChildAccounts' },
      { name: 'Regions__c', type: 'multipicklist', label: 'Regions', values: ['AMER', 'EMEA', 'APAC', 'LATAM'] },
      { name: 'Health_Score__c', type: 'double', label: 'Health Score', precision: 3, scale: 0 },
      { name: 'Health_Scored_At__c', type: 'datetime', label: 'Health Scored At' },
      { name: 'External_Id__c', type: 'string', label: 'External Id', length: 40, externalId: true, unique: true }
    ]
  },
  {
    name: 'Contact',
    keyPrefix: '003',
    sharing: 'parent',
    parentField: 'AccountId',
    owned: true,
    nameField: false,
    fields: [
      { name: 'AccountId', type: 'reference', referenceTo: 'Account', childRelationshipName: 'Contacts', cascadeDelete: true },
      { name: 'FirstName', type: 'string', length: 40 },
      { name: 'LastName', type: 'string', length: 80, required: true },
      { name: 'Name', type: 'string', length: 121, calculated: true, label: 'Full Name' },
      { name: 'Title', type: 'string', length: 128 },
      { name: 'Email', type: 'email', length: 80 },
      { name: 'Phone', type: 'phone', length: 40 }
    ]
  },
  {
    name: 'Pricebook2',
    keyPrefix: '01s',
    sharing: 'publicRead',
    owned: false,
    label: 'Price Book',
    fields: [
      { name: 'Name', type: 'string', length: 255, required: true, label: 'Price Book Name' },
      { name: 'IsActive', type: 'boolean', label: 'Active' },
      { name: 'IsStandard', type: 'boolean', label: 'Is Standard Price Book', readOnly: true },
      { name: 'Description', type: 'string', length: 255 }
    ]
  },
  {
    name: 'Product2',
    keyPrefix: '01t',
    sharing: 'publicRead',
    owned: false,
    label: 'Product',
    fields: [
      { name: 'Name', type: 'string', length: 255, required: true, label: 'Product Name' },
      { name: 'ProductCode', type: 'string', length: 255, indexed: true },
      { name: 'Family', type: 'picklist', label: 'Product Family', values: ['Hardware', 'Software', 'Services'] },
      { name: 'IsActive', type: 'boolean', label: 'Active' },
      { name: 'Description', type: 'textarea', length: 4000 },
      { name: 'External_Id__c', type: 'string', label: 'External Id', length: 40, externalId: true, unique: true }
    ]
  },
  {
    name: 'PricebookEntry',
    keyPrefix: '01u',
    sharing: 'publicRead',
    owned: false,
    nameField: false,
    label: 'Price Book Entry',
    fields: [
      { name: 'Name', type: 'string', length: 255, calculated: true, label: 'Product Name' },
      { name: 'Pricebook2Id', type: 'reference', referenceTo: 'Pricebook2', required: true, createOnly: true, childRelationshipName: 'PricebookEntries', cascadeDelete: true },
      { name: 'Product2Id', type: 'reference', referenceTo: 'Product2', required: true, createOnly: true, childRelationshipName: 'PricebookEntries', cascadeDelete: true },
      { name: 'UnitPrice', type: 'currency', precision: 16, scale: 2, required: true, label: 'List Price' },
      { name: 'IsActive', type: 'boolean', label: 'Active' },
      { name: 'UseStandardPrice', type: 'boolean' },
      { name: 'ProductCode', type: 'string', length: 255, calculated: true }
    ]
  },
  {
    name: 'Opportunity',
    keyPrefix: '006',
    sharing: 'private',
    fields: [
      { name: 'Name', type: 'string', length: 120, required: true },
      { name: 'AccountId', type: 'reference', referenceTo: 'Account', childRelationshipName: 'Opportunities', cascadeDelete: true },
      { name: 'StageName', type: 'picklist', label: 'Stage', required: true, values: STAGES },
      { name: 'CloseDate', type: 'date', required: true },
      { name: 'Amount', type: 'currency', precision: 16, scale: 2 },
      { name: 'Probability', type: 'percent', precision: 3, scale: 0, label: 'Probability (%)' },
      { name: 'Description', type: 'textarea', length: 32000 },
      { name: 'IsClosed', type: 'boolean', label: 'Closed', calculated: true },
      { name: 'IsWon', type: 'boolean', label: 'Won', calculated: true },
      { name: 'Pricebook2Id', type: 'reference', referenceTo: 'Pricebook2', childRelationshipName: 'Opportunities' },
      { name: 'HasOpportunityLineItem', type: 'boolean', label: 'Has Line Item', calculated: true }
    ]
  },
  {
    name: 'OpportunityLineItem',
    keyPrefix: '00k',
    sharing: 'parent',
    parentField: 'OpportunityId',
    owned: false,
    nameField: false,
    label: 'Opportunity Product',
    fields: [
      { name: 'OpportunityId', type: 'reference', referenceTo: 'Opportunity', required: true, createOnly: true, childRelationshipName: 'OpportunityLineItems', cascadeDelete: true },
      { name: 'PricebookEntryId', type: 'reference', referenceTo: 'PricebookEntry', createOnly: true, childRelationshipName: 'OpportunityLineItems' },
      { name: 'Product2Id', type: 'reference', referenceTo: 'Product2', createOnly: true, defaulted: true },
      { name: 'Name', type: 'string', length: 376, calculated: true, label: 'Opportunity Product Name' },
      { name: 'ProductCode', type: 'string', length: 255, calculated: true },
      { name: 'Quantity', type: 'double', precision: 12, scale: 2, required: true },
      { name: 'UnitPrice', type: 'currency', precision: 18, scale: 2, label: 'Sales Price' },
      { name: 'TotalPrice', type: 'currency', precision: 18, scale: 2 },
      { name: 'ListPrice', type: 'currency', precision: 18, scale: 2, calculated: true },
      { name: 'Discount', type: 'percent', precision: 18, scale: 2 },
      { name: 'ServiceDate', type: 'date', label: 'Date' },
      { name: 'Description', type: 'string', length: 255, label: 'Line Description' }
    ]
  },
  {
    name: 'Quote',
    keyPrefix: '0Q0',
    sharing: 'parent',
    parentField: 'OpportunityId',
    owned: true,
    fields: [
      { name: 'Name', type: 'string', length: 255, required: true, label: 'Quote Name' },
      { name: 'QuoteNumber', type: 'string', length: 30, autoNumber: true },
      { name: 'OpportunityId', type: 'reference', referenceTo: 'Opportunity', required: true, createOnly: true, childRelationshipName: 'Quotes', cascadeDelete: true },
      { name: 'Pricebook2Id', type: 'reference', referenceTo: 'Pricebook2', childRelationshipName: 'Quotes' },
      { name: 'Status', type: 'picklist', values: ['Draft', 'Needs Review', 'In Review', 'Approved', 'Rejected', 'Presented', 'Accepted', 'Denied'], defaulted: true },
      { name: 'ExpirationDate', type: 'date' },
      { name: 'Description', type: 'textarea', length: 32000 },
      { name: 'Discount', type: 'percent', precision: 18, scale: 2 },
      { name: 'Subtotal', type: 'currency', precision: 18, scale: 2, calculated: true },
      { name: 'TotalPrice', type: 'currency', precision: 18, scale: 2, calculated: true },
      { name: 'GrandTotal', type: 'currency', precision: 18, scale: 2, calculated: true },
      { name: 'LineItemCount', type: 'int', precision: 9, calculated: true },
      IDEMPOTENCY_KEY
    ]
  },
  {
    name: 'QuoteLineItem',
    keyPrefix: '0QL',
    sharing: 'parent',
    parentField: 'QuoteId',
    owned: false,
    nameField: false,
    label: 'Quote Line Item',
    fields: [
      { name: 'LineNumber', type: 'string', length: 255, autoNumber: true },
      { name: 'QuoteId', type: 'reference', referenceTo: 'Quote', required: true, createOnly: true, childRelationshipName: 'QuoteLineItems', cascadeDelete: true },
      { name: 'PricebookEntryId', type: 'reference', referenceTo: 'PricebookEntry', required: true, createOnly: true, childRelationshipName: 'QuoteLineItems' },
      { name: 'Product2Id', type: 'reference', referenceTo: 'Product2', createOnly: true, defaulted: true },
      { name: 'Quantity', type: 'double', precision: 12, scale: 2, required: true },
      { name: 'UnitPrice', type: 'currency', precision: 18, scale: 2, required: true, label: 'Sales Price' },
      { name: 'ListPrice', type: 'currency', precision: 18, scale: 2, calculated: true },
      { name: 'Discount', type: 'percent', precision: 18, scale: 2 },
      { name: 'Subtotal', type: 'currency', precision: 18, scale: 2, calculated: true },
      { name: 'TotalPrice', type: 'currency', precision: 18, scale: 2, calculated: true },
      { name: 'Description', type: 'string', length: 255, label: 'Line Item Description' },
      IDEMPOTENCY_KEY
    ]
  },
  {
    name: 'Case',
    keyPrefix: '500',
    sharing: 'private',
    nameField: false,
    fields: [
      { name: 'CaseNumber', type: 'string', length: 30, autoNumber: true, indexed: true },
      { name: 'AccountId', type: 'reference', referenceTo: 'Account', childRelationshipName: 'Cases', cascadeDelete: true },
      { name: 'ContactId', type: 'reference', referenceTo: 'Contact', childRelationshipName: 'Cases' },
      { name: 'Subject', type: 'string', length: 255 },
      { name: 'Description', type: 'textarea', length: 32000 },
      { name: 'Status', type: 'picklist', values: ['New', 'Working', 'Escalated', 'Closed'], defaulted: true },
      { name: 'Priority', type: 'picklist', values: ['High', 'Medium', 'Low'], defaulted: true },
      { name: 'Origin', type: 'picklist', label: 'Case Origin', values: ['Phone', 'Email', 'Web'] },
      { name: 'IsClosed', type: 'boolean', label: 'Closed', calculated: true }
    ]
  },
  {
    name: 'Product_Feedback__c',
    keyPrefix: 'a01',
    sharing: 'publicReadWrite',
    label: 'Product Feedback',
    labelPlural: 'Product Feedback',
    nameField: false,
    fields: [
      { name: 'Name', type: 'string', length: 80, autoNumber: true, label: 'Feedback Number', indexed: true },
      { name: 'Product__c', type: 'reference', referenceTo: 'Product2', label: 'Product', childRelationshipName: 'Product_Feedback__r' },
      { name: 'Account__c', type: 'reference', referenceTo: 'Account', label: 'Account', childRelationshipName: 'Product_Feedback__r' },
      { name: 'Rating__c', type: 'double', label: 'Rating', precision: 1, scale: 0, required: true, min: 1, max: 5 },
      { name: 'Comment__c', type: 'textarea', label: 'Comment', length: 1000 },
      { name: 'External_Id__c', type: 'string', label: 'External Id', length: 64, externalId: true, unique: true }
    ]
  },
  {
    // salesforce/force-app/main/default/objects/Account_Rescore__e: the end of a rescore job.
    name: 'Account_Rescore__e',
    keyPrefix: 'e00',
    event: true,
    label: 'Account Rescore',
    labelPlural: 'Account Rescores',
    fields: [
      { name: 'Job_Id__c', type: 'string', label: 'Job Id', length: 36, required: true },
      { name: 'State__c', type: 'string', label: 'State', length: 20, required: true },
      { name: 'Accounts_Total__c', type: 'double', label: 'Accounts Total', precision: 18, scale: 0 },
      { name: 'Accounts_Written__c', type: 'double', label: 'Accounts Written', precision: 18, scale: 0 },
      { name: 'Accounts_Rejected__c', type: 'double', label: 'Accounts Rejected', precision: 18, scale: 0 },
      { name: 'Accounts_Not_Editable__c', type: 'double', label: 'Accounts Not Editable', precision: 18, scale: 0 },
      { name: 'Error_Code__c', type: 'string', label: 'Error Code', length: 80 },
      { name: 'Message__c', type: 'string', label: 'Message', length: 255 },
      { name: 'Started_By__c', type: 'string', label: 'Started By', length: 18 }
    ]
  },
  {
    name: 'UserRecordAccess',
    keyPrefix: '000',
    sharing: 'virtual',
    owned: false,
    nameField: false,
    readOnly: true,
    fields: [
      { name: 'UserId', type: 'reference', referenceTo: 'User', relationshipName: 'User' },
      { name: 'RecordId', type: 'string', length: 18 },
      { name: 'HasReadAccess', type: 'boolean', readOnly: true },
      { name: 'HasEditAccess', type: 'boolean', readOnly: true },
      { name: 'HasDeleteAccess', type: 'boolean', readOnly: true },
      { name: 'HasTransferAccess', type: 'boolean', readOnly: true },
      { name: 'HasAllAccess', type: 'boolean', readOnly: true },
      { name: 'MaxAccessLevel', type: 'picklist', values: ['None', 'Read', 'Edit', 'Delete', 'Transfer', 'All'], readOnly: true }
    ]
  }
]

/** Objects whose records carry the autonumber pattern in the given field. */
export const AUTONUMBER: Record<string, { field: string; format: (n: number) => string }> = {
  Product_Feedback__c: { field: 'Name', format: n => 'PF-' + String(n).padStart(6, '0') },
  Case: { field: 'CaseNumber', format: n => String(n).padStart(8, '0') },
  Quote: { field: 'QuoteNumber', format: n => String(n).padStart(8, '0') },
  QuoteLineItem: { field: 'LineNumber', format: n => String(n).padStart(8, '0') }
}

export function buildSchema (extra: ObjectSpec[] = []): Schema {
  return new Schema([...STANDARD_OBJECTS, ...extra].map(defineObject))
}

const SOAP_TYPES: Record<FieldType, string> = {
  id: 'tns:ID',
  reference: 'tns:ID',
  string: 'xsd:string',
  textarea: 'xsd:string',
  picklist: 'xsd:string',
  multipicklist: 'xsd:string',
  email: 'xsd:string',
  phone: 'xsd:string',
  url: 'xsd:string',
  double: 'xsd:double',
  currency: 'xsd:double',
  percent: 'xsd:double',
  int: 'xsd:int',
  boolean: 'xsd:boolean',
  date: 'xsd:date',
  datetime: 'xsd:dateTime'
}

export function describeField (f: FieldDef): Record<string, unknown> {
  const numeric = f.type === 'double' || f.type === 'currency' || f.type === 'percent'
  return {
    aggregatable: f.type !== 'textarea' && f.type !== 'multipicklist',
    autoNumber: f.autoNumber,
    byteLength: f.length * 3,
    calculated: f.calculated,
    cascadeDelete: f.cascadeDelete,
    caseSensitive: f.caseSensitive,
    createable: f.createable,
    custom: f.custom,
    defaultValue: null,
    defaultedOnCreate: f.defaultedOnCreate,
    digits: f.type === 'int' ? f.precision : 0,
    externalId: f.externalId,
    filterable: f.type !== 'textarea',
    groupable: !numeric && f.type !== 'textarea' && f.type !== 'multipicklist' && f.type !== 'datetime',
    idLookup: f.idLookup,
    label: f.label,
    length: f.length,
    name: f.name,
    nameField: f.name === 'Name',
    nillable: f.nillable,
    permissionable: f.nillable && f.createable,
    picklistValues: f.picklistValues.map((v, i) => ({
      active: true,
      defaultValue: i === 0 && f.defaultedOnCreate,
      label: v,
      validFor: null,
      value: v
    })),
    precision: numeric ? f.precision : 0,
    referenceTo: f.referenceTo,
    relationshipName: f.relationshipName,
    restrictedPicklist: f.restrictedPicklist,
    scale: numeric ? f.scale : 0,
    soapType: SOAP_TYPES[f.type],
    sortable: f.type !== 'textarea' && f.type !== 'multipicklist',
    type: f.type,
    unique: f.unique,
    updateable: f.updateable
  }
}

export function objectUrls (o: ObjectDef, base: string): Record<string, string> {
  const s = `${base}/sobjects/${o.name}`
  return { sobject: s, describe: `${s}/describe`, rowTemplate: `${s}/{ID}` }
}

/**
 * Describe flags. A platform event is published by inserting it ("Publish events by inserting
 * events in the same way that you insert sObjects", Platform Events Developer Guide) and is
 * subscribed to by triggers and flows, but never queried, read back, updated or deleted: its
 * describe says so (createable and triggerable only; inferred from those rules, no recorded answer).
 */
export function describeGlobalEntry (o: ObjectDef, base: string): Record<string, unknown> {
  const stored = o.sharing !== 'virtual' && !o.event
  return {
    activateable: false,
    createable: o.createable,
    custom: o.custom,
    customSetting: false,
    deletable: o.deletable,
    deprecatedAndHidden: false,
    feedEnabled: false,
    keyPrefix: o.keyPrefix,
    label: o.label,
    labelPlural: o.labelPlural,
    layoutable: stored,
    mergeable: false,
    mruEnabled: false,
    name: o.name,
    queryable: !o.event,
    replicateable: stored,
    retrieveable: !o.event,
    searchable: stored,
    triggerable: o.sharing !== 'virtual',
    undeletable: o.deletable,
    updateable: o.updateable,
    urls: objectUrls(o, base)
  }
}

export function describeObject (o: ObjectDef, base: string): Record<string, unknown> {
  return {
    ...describeGlobalEntry(o, base),
    childRelationships: o.childRelationships.map(r => ({
      cascadeDelete: r.cascadeDelete,
      childSObject: r.childSObject,
      deprecatedAndHidden: false,
      field: r.field,
      junctionIdListNames: [],
      junctionReferenceTo: [],
      relationshipName: r.relationshipName,
      restrictedDelete: false
    })),
    fields: o.fields.map(describeField),
    recordTypeInfos: [],
    supportedScopes: [{ label: 'All ' + o.labelPlural.toLowerCase(), name: 'everything' }]
  }
}
