-- A key belongs to one user, and to one request: the same key from another user is another
-- request, and the same key with another body is a mistake the caller is told about.
ALTER TABLE idempotency_records ADD COLUMN IF NOT EXISTS user_id varchar(18) NOT NULL DEFAULT '';
ALTER TABLE idempotency_records ADD COLUMN IF NOT EXISTS request_hash text NOT NULL DEFAULT '';
ALTER TABLE idempotency_records DROP CONSTRAINT IF EXISTS idempotency_records_pkey;
ALTER TABLE idempotency_records ADD PRIMARY KEY (org_id, user_id, operation_id, idempotency_key);
