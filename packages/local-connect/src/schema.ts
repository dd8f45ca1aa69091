import type { Pool } from 'pg'
import { inTransaction, quoteIdent as quote } from '@applink-actions/platform/postgres'
import { columnName, pgType, type MappingDecl } from '@applink-actions/platform/connect-mapping'

/** Columns of `_trigger_log` and `_trigger_log_archive`, as Connect creates them. */
const LOG_COLUMNS = `
  id integer NOT NULL,
  txid bigint,
  created_at timestamp with time zone,
  updated_at timestamp with time zone,
  processed_at timestamp with time zone,
  processed_tx bigint,
  state character varying(8),
  action character varying(7),
  table_name character varying(128),
  record_id integer,
  sfid character varying(18),
  old text,
  "values" text,
  sf_result integer,
  sf_message text`

/** DDL of one mirrored table, its indexes and, when read-write, its two triggers. */
function tableDdl (schema: string, objectName: string, object: MappingDecl[string]): string {
  const s = quote(schema)
  const table = objectName.toLowerCase()
  const t = `${s}.${quote(table)}`
  const fieldColumns = Object.entries(object.fields)
    .filter(([field]) => field !== 'Id' && field !== 'SystemModstamp' && field !== 'IsDeleted')
    .map(([field, def]) => `  ${quote(columnName(field))} ${pgType(def)}`)
  const indexes = Object.entries(object.indexes ?? {})
    .filter(([field]) => field !== 'Id' && field !== 'SystemModstamp')
    .map(([field, { unique }]) => {
      const column = columnName(field)
      return `CREATE ${unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${quote(`${unique ? 'hcu' : 'hc'}_idx_${table}_${column}`)} ON ${t} (${quote(column)});`
    })
  const columns = [
    '  id serial PRIMARY KEY',
    '  sfid varchar(18)',
    '  systemmodstamp timestamp without time zone',
    '  isdeleted boolean',
    '  _hc_lastop varchar(32)',
    '  _hc_err text',
    ...fieldColumns
  ]
  const ddl = [`
CREATE TABLE IF NOT EXISTS ${t} (
${columns.join(',\n')}
);
CREATE UNIQUE INDEX IF NOT EXISTS ${quote(`hcu_idx_${table}_sfid`)} ON ${t} (sfid);
CREATE INDEX IF NOT EXISTS ${quote(`hc_idx_${table}_systemmodstamp`)} ON ${t} (systemmodstamp);`,
  ...indexes]
  if (object.access !== 'read_write') return ddl.join('\n')

  // Connect's own session sets xmlbinary to 'hex'; app sessions keep the default 'base64'.
  ddl.push(`
CREATE OR REPLACE FUNCTION ${s}.${quote(`hc_${table}_status`)}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF (${s}.get_xmlbinary() = 'base64') THEN
    NEW._hc_lastop = 'PENDING';
    NEW._hc_err = NULL;
    RETURN NEW;
  END IF;
  -- Connect's session: keep a status Connect itself just set, otherwise the row is in step.
  IF (TG_OP = 'UPDATE' AND NEW._hc_lastop IS NOT NULL AND NEW._hc_lastop IS DISTINCT FROM OLD._hc_lastop) THEN
    RETURN NEW;
  END IF;
  NEW._hc_lastop = 'SYNCED';
  NEW._hc_err = NULL;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION ${s}.${quote(`hc_${table}_logger`)}() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  trigger_row ${s}._trigger_log;
  excluded_cols text[] = ARRAY['_hc_lastop', '_hc_err']::text[];
BEGIN
  trigger_row = ROW();
  trigger_row.id = nextval('${schema}._trigger_log_id_seq');
  trigger_row.action = TG_OP::text;
  trigger_row.table_name = TG_TABLE_NAME::text;
  trigger_row.txid = txid_current();
  trigger_row.created_at = clock_timestamp();
  trigger_row.state = 'NEW';
  IF (TG_OP = 'DELETE') THEN
    trigger_row.record_id = OLD.id;
    trigger_row.old = hstore(OLD.*) - excluded_cols;
    IF (OLD.sfid IS NOT NULL) THEN
      trigger_row.sfid = OLD.sfid;
    ELSE
      trigger_row.state = 'IGNORE';
    END IF;
  ELSIF (TG_OP = 'INSERT') THEN
    trigger_row.record_id = NEW.id;
    trigger_row.values = hstore(NEW.*) - excluded_cols;
  ELSIF (TG_OP = 'UPDATE') THEN
    trigger_row.record_id = NEW.id;
    trigger_row.old = hstore(OLD.*) - excluded_cols;
    trigger_row.values = (hstore(NEW.*) - hstore(trigger_row.old)) - excluded_cols;
    IF (trigger_row.values = '') THEN
      trigger_row.state = 'IGNORE';
    END IF;
    IF (OLD.sfid IS NOT NULL) THEN
      trigger_row.sfid = OLD.sfid;
    END IF;
  END IF;
  INSERT INTO ${s}._trigger_log VALUES (trigger_row.*);
  RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS ${quote(`hc_${table}_status_trigger`)} ON ${t};
CREATE TRIGGER ${quote(`hc_${table}_status_trigger`)} BEFORE INSERT OR UPDATE ON ${t}
  FOR EACH ROW EXECUTE FUNCTION ${s}.${quote(`hc_${table}_status`)}();
DROP TRIGGER IF EXISTS ${quote(`hc_${table}_logtrigger`)} ON ${t};
CREATE TRIGGER ${quote(`hc_${table}_logtrigger`)} AFTER INSERT OR UPDATE OR DELETE ON ${t}
  FOR EACH ROW WHEN (${s}.get_xmlbinary() = 'base64') EXECUTE FUNCTION ${s}.${quote(`hc_${table}_logger`)}();`)
  return ddl.join('\n')
}

/**
 * Creates what Heroku Connect creates in `schema` for `mapping`: the mirrored tables, Connect's
 * bookkeeping tables, the trigger log with its notify trigger, and per read-write table the
 * status and log triggers. Idempotent.
 */
export async function createConnectSchema (pool: Pool, schema: string, mapping: MappingDecl): Promise<void> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`invalid schema name ${schema}`)
  const s = quote(schema)
  const sql = `
CREATE EXTENSION IF NOT EXISTS hstore;
CREATE SCHEMA IF NOT EXISTS ${s};

CREATE TABLE IF NOT EXISTS ${s}._hcmeta (
  id serial PRIMARY KEY,
  hcver integer,
  org_id character varying(50),
  details text
);
CREATE TABLE IF NOT EXISTS ${s}._sf_event_log (
  id serial PRIMARY KEY,
  table_name character varying(128),
  action character varying(7),
  synced_at timestamp with time zone DEFAULT now(),
  sf_timestamp timestamp with time zone,
  sfid character varying(20),
  record text,
  processed boolean
);
CREATE SEQUENCE IF NOT EXISTS ${s}._trigger_log_id_seq;
CREATE TABLE IF NOT EXISTS ${s}._trigger_log (${LOG_COLUMNS},
  PRIMARY KEY (id)
);
ALTER TABLE ${s}._trigger_log ALTER COLUMN id SET DEFAULT nextval('${schema}._trigger_log_id_seq');
CREATE TABLE IF NOT EXISTS ${s}._trigger_log_archive (${LOG_COLUMNS},
  PRIMARY KEY (id)
);
CREATE INDEX IF NOT EXISTS _trigger_log_idx_state_table_name ON ${s}._trigger_log (state, table_name) WHERE state IN ('NEW', 'PENDING');
CREATE INDEX IF NOT EXISTS _trigger_log_idx_state_id ON ${s}._trigger_log (state, id);
CREATE INDEX IF NOT EXISTS _trigger_log_idx_created_at ON ${s}._trigger_log (created_at);
CREATE INDEX IF NOT EXISTS _trigger_log_archive_idx_state_table_name ON ${s}._trigger_log_archive (state, table_name) WHERE state IN ('NEW', 'PENDING');
CREATE INDEX IF NOT EXISTS _trigger_log_archive_idx_created_at ON ${s}._trigger_log_archive (created_at);
CREATE INDEX IF NOT EXISTS _trigger_log_archive_idx_record_id ON ${s}._trigger_log_archive (record_id);

CREATE OR REPLACE FUNCTION ${s}.get_xmlbinary() RETURNS varchar LANGUAGE plpgsql AS $$
DECLARE xmlbin varchar;
BEGIN
  SELECT INTO xmlbin setting FROM pg_settings WHERE name = 'xmlbinary';
  RETURN xmlbin;
END $$;

CREATE OR REPLACE FUNCTION ${s}.tlog_notify_trigger() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('${schema}.hc_trigger_log', 'ping');
  RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS tlog_insert_trigger ON ${s}._trigger_log;
CREATE TRIGGER tlog_insert_trigger AFTER INSERT ON ${s}._trigger_log
  FOR EACH ROW EXECUTE FUNCTION ${s}.tlog_notify_trigger();

INSERT INTO ${s}._hcmeta (hcver, details) SELECT 3, '{}' WHERE NOT EXISTS (SELECT 1 FROM ${s}._hcmeta);
${Object.entries(mapping).map(([name, object]) => tableDdl(schema, name, object)).join('\n')}
`
  await inTransaction(pool, async (client) => {
    // Concurrent creators (tests, dev restarts) would race on CREATE ... IF NOT EXISTS.
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`connect-schema:${schema}`])
    await client.query(sql)
  })
}
