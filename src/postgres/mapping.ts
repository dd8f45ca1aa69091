/**
 * What Heroku Connect mirrors: the one declaration of mapped objects, their fields and the
 * Salesforce type of each field. `connect/mapping.json` (the file Connect imports) is generated
 * from it (`npm run connect:mapping`, checked by a test), the local sync creates
 * tables from it, and the mirror's row types are derived from it. Real Connect reads field types
 * from the org's describe; here they are declared because the service needs them at compile time.
 */

import {
  SYSTEM_FIELDS,
  toConnectExport,
  type MappingDecl,
  type SfField,
  type SystemColumns
} from '@applink-actions/platform/connect-mapping'

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

export {
  SYSTEM_FIELDS, columnName, isWritable, pgType, tablesOf, toConnectExport,
  type MappingDecl, type TableInfo
} from '@applink-actions/platform/connect-mapping'

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
