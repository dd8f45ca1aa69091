-- The platform event that announces the end of a job inside the org, published at most once per
-- job: claimed (sending) before the POST, marked after Salesforce answered. A claim left `sending`
-- may have reached Salesforce, so no later attempt sends it again.
CREATE TABLE IF NOT EXISTS job_events (
  job_id uuid PRIMARY KEY,
  event_type text NOT NULL,
  state text NOT NULL CHECK (state IN ('sending', 'published', 'refused')),
  event_id text,
  event_uuid text,
  error_code text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS job_events_created_at ON job_events (created_at);
