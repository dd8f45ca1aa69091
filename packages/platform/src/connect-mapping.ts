// Heroku Connect's mapping model and naming rules, shared by the service (its mirror) and the
// local Connect stand-in. The product declares what it maps; these say how Connect stores it.

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
  /**
   * Extra indexes Connect creates besides sfid and systemmodstamp: the mapping's "Indexed" fields.
   * Heroku Dev Center, "Managing Heroku Connect Mappings": "To help optimize common queries,
   * configure one or more simple indexes for a mapping." Others go in connect/indexes.sql.
   */
  readonly indexes?: Readonly<Record<string, { readonly unique: boolean }>>
  /** Unique external id used to match rows written before their sfid came back (read-write only). */
  readonly upsertField?: string
}

export type MappingDecl = Readonly<Record<string, MappedObject>>

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

/** Columns Connect adds to every mirrored table besides the mapped fields. */
export interface SystemColumns {
  id: number
  _hc_lastop: string | null
  _hc_err: string | null
}

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
