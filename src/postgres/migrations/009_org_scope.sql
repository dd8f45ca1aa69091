-- Every app table belongs to an org: its rows carry the org's 18-character id, and row-level
-- security shows a transaction only the rows of the org it set in `app.org_id` (src/postgres/
-- org-scope.ts, withOrg). The column defaults to that setting, so a row is written for the org of
-- the transaction that writes it, and a write outside any org fails (NOT NULL; the setting reads ''
-- in a session that set it once, taken as none).
--
-- Rows written before: the job tables take the org of their pg-boss job; the other tables take the
-- org of the database's one Heroku Connect schema (`_hcmeta.org_id`) when there is exactly one, and
-- else UNASSIGNED_ORG ('000000000000000AAA', never an org's id), visible to no caller until an
-- operator assigns them (README, "Security"). feedback_owners and idempotency_records already hold
-- the org.
DO $$
DECLARE
  orgs text[] := '{}';
  owner_org text;
  s record;
  t text;
BEGIN
  FOR s IN SELECT table_schema FROM information_schema.tables WHERE table_name = '_hcmeta' LOOP
    EXECUTE format('SELECT array_agg(DISTINCT org_id) || $1 FROM %I._hcmeta WHERE org_id IS NOT NULL',
      s.table_schema) INTO orgs USING orgs;
  END LOOP;
  orgs := ARRAY(SELECT DISTINCT o FROM unnest(orgs) o WHERE o IS NOT NULL);
  owner_org := CASE WHEN cardinality(orgs) = 1 AND length(orgs[1]) = 18 THEN orgs[1] ELSE '000000000000000AAA' END;

  FOREACH t IN ARRAY ARRAY['pricing_volume_tiers', 'pricing_region_discounts', 'pricing_settings', 'warehouses',
    'warehouse_stock', 'web_orders', 'job_progress', 'rescore_runs', 'rescore_batches', 'rescore_bulk_jobs',
    'job_events'] LOOP
    EXECUTE format('ALTER TABLE %I ADD COLUMN org_id varchar(18)
                    DEFAULT nullif(current_setting(''app.org_id'', true), '''')', t);
  END LOOP;

  IF to_regclass('pgboss.job') IS NOT NULL THEN
    FOREACH t IN ARRAY ARRAY['job_progress', 'rescore_runs', 'rescore_batches', 'rescore_bulk_jobs', 'job_events'] LOOP
      EXECUTE format('UPDATE %I x SET org_id = j.data->>''orgId'' FROM pgboss.job j
                       WHERE j.id = x.job_id AND length(j.data->>''orgId'') = 18', t);
    END LOOP;
  END IF;

  FOREACH t IN ARRAY ARRAY['pricing_volume_tiers', 'pricing_region_discounts', 'pricing_settings', 'warehouses',
    'warehouse_stock', 'web_orders', 'job_progress', 'rescore_runs', 'rescore_batches', 'rescore_bulk_jobs',
    'job_events'] LOOP
    EXECUTE format('UPDATE %I SET org_id = $1 WHERE org_id IS NULL', t) USING owner_org;
    EXECUTE format('ALTER TABLE %I ALTER COLUMN org_id SET NOT NULL', t);
  END LOOP;
END $$;

-- Keys and indexes lead with the org: each org has its own price list, warehouses and stock.
ALTER TABLE pricing_volume_tiers DROP CONSTRAINT pricing_volume_tiers_pkey,
  ADD PRIMARY KEY (org_id, product_family, min_quantity);
ALTER TABLE pricing_region_discounts DROP CONSTRAINT pricing_region_discounts_pkey,
  ADD PRIMARY KEY (org_id, billing_country);
ALTER TABLE pricing_settings DROP CONSTRAINT pricing_settings_pkey, ADD PRIMARY KEY (org_id);
ALTER TABLE warehouse_stock DROP CONSTRAINT warehouse_stock_warehouse_code_fkey,
  DROP CONSTRAINT warehouse_stock_pkey, ADD PRIMARY KEY (org_id, product_code, warehouse_code);
ALTER TABLE warehouses DROP CONSTRAINT warehouses_pkey, ADD PRIMARY KEY (org_id, code);
ALTER TABLE warehouse_stock ADD FOREIGN KEY (org_id, warehouse_code) REFERENCES warehouses (org_id, code);
-- Feedback ids come from each org's own mirror table, so two orgs can hold the same one.
ALTER TABLE feedback_owners DROP CONSTRAINT feedback_owners_pkey, ADD PRIMARY KEY (org_id, feedback_id);
DROP INDEX web_orders_account;
CREATE INDEX web_orders_account ON web_orders (org_id, account_sfid, ordered_at DESC);

-- The second wall. "Table owners normally bypass row security as well, though a table owner can
-- choose to be subject to row security with ALTER TABLE ... FORCE ROW LEVEL SECURITY" (PostgreSQL,
-- "Row Security Policies", https://www.postgresql.org/docs/current/ddl-rowsecurity.html): the app's
-- user owns these tables, hence FORCE. Outside an org's transaction the setting is NULL, or '' in a
-- session that set it once, and both are taken as no org: no row matches, no row can be written.
-- The periodic purge of job data (housekeeping.ts) reads and deletes expired rows of every org in a
-- transaction that sets `app.housekeeping`; it can insert or change none. "Referential integrity
-- checks, such as unique or primary key constraints and foreign key references, always bypass row
-- security" (same page): hence keys that lead with the org. idempotency_records keeps its org in
-- its key and has no policy: its writer batches several orgs' claims into one statement
-- (idempotency.ts).
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['pricing_volume_tiers', 'pricing_region_discounts', 'pricing_settings', 'warehouses',
    'warehouse_stock', 'web_orders', 'feedback_owners', 'job_progress', 'rescore_runs', 'rescore_batches',
    'rescore_bulk_jobs', 'job_events'] LOOP
    EXECUTE format('ALTER TABLE %I ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY', t);
    EXECUTE format('CREATE POLICY org_boundary ON %I
                    USING (org_id = nullif(current_setting(''app.org_id'', true), ''''))
                    WITH CHECK (org_id = nullif(current_setting(''app.org_id'', true), ''''))', t);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['job_progress', 'rescore_runs', 'rescore_batches', 'rescore_bulk_jobs', 'job_events'] LOOP
    EXECUTE format('CREATE POLICY housekeeping_read ON %I FOR SELECT
                    USING (current_setting(''app.housekeeping'', true) = ''on'')', t);
    EXECUTE format('CREATE POLICY housekeeping_delete ON %I FOR DELETE
                    USING (current_setting(''app.housekeeping'', true) = ''on'')', t);
  END LOOP;
END $$;
