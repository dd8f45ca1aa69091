-- Stored answers of write actions, so a retried call (same key) gets the first answer back.
CREATE TABLE IF NOT EXISTS idempotency_records (
  org_id varchar(18) NOT NULL,
  operation_id text NOT NULL,
  idempotency_key text NOT NULL,
  status_code integer,
  response jsonb,
  created_at timestamptz NOT NULL DEFAULT now(),
  completed_at timestamptz,
  PRIMARY KEY (org_id, operation_id, idempotency_key)
);
CREATE INDEX IF NOT EXISTS idempotency_records_created_at ON idempotency_records (created_at);
