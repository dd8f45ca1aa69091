-- App tables of the job queue (pg-boss keeps its own schema `pgboss`, migrated by pg-boss at start).
-- None of them holds a credential: the encrypted one travels in the pg-boss job's data only.

-- Progress a running job reports (read by getJobStatus), and its failed attempts (restarts excluded).
CREATE TABLE IF NOT EXISTS job_progress (
  job_id uuid PRIMARY KEY,
  done integer NOT NULL DEFAULT 0,
  total integer NOT NULL DEFAULT 0,
  failures integer NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One rescore run: the scores are computed once, so a resumed run writes the same values.
CREATE TABLE IF NOT EXISTS rescore_runs (
  job_id uuid PRIMARY KEY,
  scored_at timestamptz NOT NULL,
  total integer NOT NULL,
  callback_status integer,
  callback_sent_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- The run's batches of ≤ 200 records: pending → sending (the call may have reached Salesforce) → done.
-- A worker killed mid-job resumes from here without writing a done batch again.
CREATE TABLE IF NOT EXISTS rescore_batches (
  job_id uuid NOT NULL REFERENCES rescore_runs (job_id) ON DELETE CASCADE,
  batch_no integer NOT NULL,
  records jsonb NOT NULL,
  state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'done')),
  written integer NOT NULL DEFAULT 0,
  failures jsonb NOT NULL DEFAULT '[]',
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (job_id, batch_no)
);
CREATE INDEX IF NOT EXISTS rescore_runs_created_at ON rescore_runs (created_at);
