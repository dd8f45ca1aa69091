-- Indexes a Heroku Connect user adds to the mirror by hand, beside the simple ones the mapping
-- declares (connect/mapping.json, "Indexed" in Connect's dashboard). Heroku Dev Center, "Managing
-- Heroku Connect Mappings": "Alternatively, you can create complex indexes via PostgreSQL manually.
-- Indexes created via Connect are preserved when importing your configuration into another
-- connection, while indexes created via PostgreSQL are not." So run this file again after
-- importing the mapping into a new connection, in the mirror's schema:
--   psql "$DATABASE_URL" -c 'SET search_path = salesforce' -f connect/indexes.sql
-- The local sync runs it after creating the tables. Each index names the statement that needs it
-- (test/postgres/mirror-plans.test.ts checks that no statement of the actions scans a large table).

-- pendingWrites (src/postgres/mirror-readiness.ts) counts rows whose write Connect has not sent:
-- a partial index holds only those, however large the table grows.
CREATE INDEX IF NOT EXISTS product_feedback__c_pending ON product_feedback__c (_hc_lastop)
  WHERE _hc_lastop = 'PENDING';
