-- A claim is a lease: its owner shows life (heartbeat_at) while it works and records, before the
-- org write goes out, that it is sending it (sent_at). A claim whose owner died is taken over by
-- the next retry once the lease ran out, instead of blocking its key until the retention ends;
-- one that was sent is settled by asking the org for the record carrying the key.
ALTER TABLE idempotency_records ADD COLUMN IF NOT EXISTS owner uuid;
ALTER TABLE idempotency_records ADD COLUMN IF NOT EXISTS heartbeat_at timestamptz NOT NULL DEFAULT now();
ALTER TABLE idempotency_records ADD COLUMN IF NOT EXISTS sent_at timestamptz;
