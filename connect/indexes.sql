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

-- accountInsights (src/postgres/insights.ts) reads all of an account's opportunities and open
-- cases, and the line items of its won opportunities. Through the simple indexes above each row
-- costs a visit to its table page, wherever the row lies: at a million accounts those pages are
-- rarely cached, and an account with hundreds of opportunities set the action's p99. Covering
-- indexes hold the columns it reads beside the key, an account's rows side by side (PostgreSQL
-- documentation, "Index-Only Scans and Covering Indexes": "the table rows they reference might be
-- anywhere in the heap", and index-only scans "can answer queries from an index alone without any
-- heap access"). That needs the table's visibility map, which vacuum keeps.
CREATE INDEX IF NOT EXISTS opportunity_account_facts ON opportunity (accountid)
  INCLUDE (sfid, isdeleted, isclosed, iswon, stagename, amount, closedate, lastmodifieddate);
CREATE INDEX IF NOT EXISTS case_account_facts ON "case" (accountid)
  INCLUDE (sfid, isdeleted, isclosed, priority, systemmodstamp);
CREATE INDEX IF NOT EXISTS opportunitylineitem_opportunity_facts ON opportunitylineitem (opportunityid)
  INCLUDE (product2id, totalprice, isdeleted);
