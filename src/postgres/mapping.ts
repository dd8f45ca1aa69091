/**
 * What Heroku Connect mirrors: the one declaration of mapped objects, their fields and the
 * Salesforce type of each field. `connect/mapping.json` (the file Connect imports) is generated
 * from it (`npm run connect:mapping`, checked by a test), the local sync creates
 * tables from it, and the mirror's row types are derived from it. Real Connect reads field types
 * from the org's describe; here they are declared because the service needs them at compile time.
 */

/** Salesforce describe types that the mapped fields use. */
export type SfType =
  | 'id' | 'reference' | 'string' | 'textarea' | 'picklist' | 'email' | 'phone'
  | 'double' | 'currency' | 'percent' | 'int' | 'boolean' | 'date' | 'datetime'

export interface SfField {
  readonly type: SfType
  /** Character length, for text types (varchar(n)). */
  readonly length?: number
  /** Salesforce computes it (formula, roll-up, autonumber): mirrored, never written. */
  readonly calculated?: true
}

/**
 * A relationship external-id column (`product__r__external_id__c`): Connect writes the child with
 * `Product__r: { External_Id__c: value }`, so a child can be inserted before its parent has an sfid.
 */
export interface SfRelationshipField {
  readonly type: 'relationship'
  readonly relationship: string
  readonly referenceTo: string
  readonly externalId: string
  readonly length: number
}

export interface MappedObject {
  readonly access: 'read_only' | 'read_write'
  readonly fields: Readonly<Record<string, SfField | SfRelationshipField>>
  /** Extra indexes Connect creates besides sfid and systemmodstamp. */
  readonly indexes?: Readonly<Record<string, { readonly unique: boolean }>>
  /** Unique external id used to match rows written before their sfid came back (read-write only). */
  readonly upsertField?: string
}

export type MappingDecl = Readonly<Record<string, MappedObject>>

const id = { type: 'id' } as const
const ref = { type: 'reference' } as const
const bool = { type: 'boolean' } as const
const datetime = { type: 'datetime' } as const
const picklist = { type: 'picklist', length: 255 } as const
const text = (length: number) => ({ type: 'string', length } as const)
const computed = <F extends SfField>(field: F) => ({ ...field, calculated: true } as const)
/** Fields every mapping carries: Connect polls by SystemModstamp and marks deletions by IsDeleted. */
const system = { Id: id, SystemModstamp: datetime, IsDeleted: bool, CreatedDate: datetime } as const

export const MAPPING = {
  Account: {
    access: 'read_only',
    fields: {
      ...system,
      Name: text(255),
      Type: picklist,
      Industry: picklist,
      BillingCountry: text(80),
      BillingCity: text(40),
      AnnualRevenue: { type: 'currency' },
      NumberOfEmployees: { type: 'int' },
      OwnerId: ref,
      Health_Score__c: { type: 'double' },
      Health_Scored_At__c: datetime,
      External_Id__c: text(40),
      LastModifiedDate: datetime
    },
    indexes: { External_Id__c: { unique: true } }
  },
  Contact: {
    access: 'read_only',
    fields: {
      ...system,
      AccountId: ref,
      FirstName: text(40),
      LastName: text(80),
      Name: computed(text(121)),
      Email: { type: 'email', length: 80 },
      Phone: { type: 'phone', length: 40 },
      Title: text(128),
      OwnerId: ref,
      LastModifiedDate: datetime
    },
    indexes: { AccountId: { unique: false } }
  },
  Opportunity: {
    access: 'read_only',
    fields: {
      ...system,
      Name: text(120),
      AccountId: ref,
      StageName: picklist,
      CloseDate: { type: 'date' },
      Amount: { type: 'currency' },
      Probability: { type: 'percent' },
      IsClosed: computed(bool),
      IsWon: computed(bool),
      Pricebook2Id: ref,
      OwnerId: ref,
      LastModifiedDate: datetime
    },
    indexes: { AccountId: { unique: false } }
  },
  OpportunityLineItem: {
    access: 'read_only',
    fields: {
      ...system,
      OpportunityId: ref,
      PricebookEntryId: ref,
      Product2Id: ref,
      Quantity: { type: 'double' },
      UnitPrice: { type: 'currency' },
      TotalPrice: { type: 'currency' }
    },
    indexes: { OpportunityId: { unique: false } }
  },
  Product2: {
    access: 'read_only',
    fields: {
      ...system,
      Name: text(255),
      ProductCode: text(255),
      Family: picklist,
      IsActive: bool,
      External_Id__c: text(40)
    },
    indexes: { ProductCode: { unique: false }, External_Id__c: { unique: true } }
  },
  Pricebook2: {
    access: 'read_only',
    fields: {
      ...system,
      Name: text(255),
      IsActive: bool,
      IsStandard: computed(bool)
    }
  },
  PricebookEntry: {
    access: 'read_only',
    fields: {
      ...system,
      Pricebook2Id: ref,
      Product2Id: ref,
      UnitPrice: { type: 'currency' },
      IsActive: bool,
      ProductCode: computed(text(255))
    },
    indexes: { Product2Id: { unique: false } }
  },
  Case: {
    access: 'read_only',
    fields: {
      ...system,
      AccountId: ref,
      Subject: text(255),
      Status: picklist,
      Priority: picklist,
      IsClosed: computed(bool),
      Origin: picklist,
      OwnerId: ref
    },
    indexes: { AccountId: { unique: false } }
  },
  Product_Feedback__c: {
    access: 'read_write',
    fields: {
      ...system,
      Name: computed(text(80)),
      Product__c: ref,
      Product__r__External_Id__c: {
        type: 'relationship', relationship: 'Product__r', referenceTo: 'Product2', externalId: 'External_Id__c', length: 255
      },
      Rating__c: { type: 'double' },
      Comment__c: { type: 'textarea', length: 1000 },
      External_Id__c: text(64)
    },
    indexes: { External_Id__c: { unique: true } },
    upsertField: 'External_Id__c'
  }
} as const satisfies MappingDecl

/** Fields Salesforce sets itself: read into the mirror, never sent back. */
export const SYSTEM_FIELDS = ['Id', 'SystemModstamp', 'IsDeleted', 'CreatedDate', 'LastModifiedDate'] as const

/** Postgres column Connect creates for a field: `Id` lands in `sfid`, the rest lowercased. */
export function columnName (field: string): string {
  return field === 'Id' ? 'sfid' : field.toLowerCase()
}

/** Postgres type Connect gives a Salesforce field type. */
export function pgType (field: SfField | SfRelationshipField): string {
  switch (field.type) {
    case 'id':
    case 'reference': return 'varchar(18)'
    case 'double':
    case 'currency':
    case 'percent': return 'double precision'
    case 'int': return 'integer'
    case 'boolean': return 'boolean'
    case 'date': return 'date'
    case 'datetime': return 'timestamp without time zone'
    default: return `varchar(${field.length ?? 255})`
  }
}

/** The Heroku Connect export/import document (`heroku connect:import`) for a mapping. */
export function toConnectExport (mapping: MappingDecl) {
  return {
    version: 1,
    mappings: Object.entries(mapping).map(([objectName, object]) => ({
      object_name: objectName,
      config: {
        access: object.access,
        sf_notify_enabled: false,
        sf_polling_seconds: 600,
        sf_max_daily_api_calls: 30000,
        fields: Object.fromEntries(Object.keys(object.fields).sort().map((f) => [f, {}])),
        indexes: {
          Id: { unique: true },
          SystemModstamp: { unique: false },
          ...object.indexes
        },
        ...(object.upsertField === undefined ? {} : { upsert_field: object.upsertField })
      }
    }))
  }
}

/** The text of `connect/mapping.json`: the Connect export of the declared mapping. */
export function connectMappingFile (mapping: MappingDecl = MAPPING): string {
  return `${JSON.stringify(toConnectExport(mapping), null, 2)}\n`
}

// ---- Types derived from MAPPING --------------------------------------------------------------

type Decl = typeof MAPPING
type ObjectName = keyof Decl
/** Mirror table names: lowercased object API names. */
export type MirrorTable = Lowercase<ObjectName>
type ObjectOf<T extends MirrorTable> = { [K in ObjectName]: Lowercase<K> extends T ? K : never }[ObjectName]
type FieldsOf<T extends MirrorTable> = Decl[ObjectOf<T>]['fields']

type TsType<F> =
  F extends { type: 'double' | 'currency' | 'percent' | 'int' } ? number
    : F extends { type: 'boolean' } ? boolean
      : F extends { type: 'datetime' } ? Date
        : string // text, ids, picklists, and dates as 'YYYY-MM-DD'

type ColumnOf<K> = K extends 'Id' ? 'sfid' : Lowercase<K & string>

/** Columns Connect adds to every mirrored table besides the mapped fields. */
export interface SystemColumns {
  id: number
  _hc_lastop: string | null
  _hc_err: string | null
}

/** A row of a mirrored table, as the `pg` driver returns it through the mirror. */
export type Row<T extends MirrorTable> = SystemColumns & {
  [K in keyof FieldsOf<T> as ColumnOf<K>]: TsType<FieldsOf<T>[K]> | null
}

/** Tables whose mapping is read-write: the only ones the service may write. */
export type WritableTable = {
  [K in ObjectName]: Decl[K]['access'] extends 'read_write' ? Lowercase<K> : never
}[ObjectName]

/** Columns an app write may set: mapped fields except those Salesforce sets or computes. */
export type WritableValues<T extends MirrorTable> = Partial<{
  [K in keyof FieldsOf<T> as K extends typeof SYSTEM_FIELDS[number] ? never
    : FieldsOf<T>[K] extends { calculated: true } ? never : ColumnOf<K>]: TsType<FieldsOf<T>[K]> | null
}>

/** Whether an app write may set the field (see WritableValues). */
export function isWritable (object: MappedObject, field: string): boolean {
  const def = object.fields[field]
  return def !== undefined && !(SYSTEM_FIELDS as readonly string[]).includes(field) && !(def.type !== 'relationship' && def.calculated === true)
}

export interface TableInfo {
  objectName: string
  table: string
  object: MappedObject
  /** Postgres column → Salesforce field, for the mapped fields. */
  columns: Map<string, string>
}

/** Table-keyed view of a mapping, for code that receives table names at run time. */
export function tablesOf (mapping: MappingDecl): Map<string, TableInfo> {
  return new Map(Object.entries(mapping).map(([objectName, object]) => {
    const table = objectName.toLowerCase()
    const columns = new Map(Object.keys(object.fields).map((f) => [columnName(f), f]))
    return [table, { objectName, table, object, columns }]
  }))
}
