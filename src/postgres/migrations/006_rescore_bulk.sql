-- A rescore run written through Bulk API 2.0. The ingest job's id is recorded before any data is
-- uploaded, so a resumed run goes on with that job instead of creating a second one that would write
-- the same records again: creating (no job yet) → created (job Open, upload may or may not have
-- arrived) → uploaded → closed (UploadComplete sent: Salesforce processes it) → done (results read).
CREATE TABLE IF NOT EXISTS rescore_bulk_jobs (
  job_id uuid PRIMARY KEY REFERENCES rescore_runs (job_id) ON DELETE CASCADE,
  ingest_job_id varchar(18),
  state text NOT NULL CHECK (state IN ('creating', 'created', 'uploaded', 'closed', 'done')),
  updated_at timestamptz NOT NULL DEFAULT now()
);
