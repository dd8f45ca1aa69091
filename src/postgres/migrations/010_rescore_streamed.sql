-- Streamed rescore runs (issue 28). The plan is stored page by page while the mirror is read, so a run
-- records when its plan is whole (`planned`); runs stored before were planned in one go. A Bulk API 2.0
-- run is split into several ingest jobs, each covering a range of the run's batches: one row per
-- ingest job, in the states of 006_rescore_bulk.sql. A run of before holds one, over all its batches.
ALTER TABLE rescore_runs ADD COLUMN planned boolean NOT NULL DEFAULT true;
ALTER TABLE rescore_runs ALTER COLUMN planned SET DEFAULT false;

ALTER TABLE rescore_bulk_jobs
  ADD COLUMN chunk_no integer NOT NULL DEFAULT 0,
  ADD COLUMN first_batch integer NOT NULL DEFAULT 0,
  ADD COLUMN last_batch integer NOT NULL DEFAULT 2147483647;
ALTER TABLE rescore_bulk_jobs
  ALTER COLUMN chunk_no DROP DEFAULT,
  ALTER COLUMN first_batch DROP DEFAULT,
  ALTER COLUMN last_batch DROP DEFAULT,
  DROP CONSTRAINT rescore_bulk_jobs_pkey,
  ADD PRIMARY KEY (job_id, chunk_no);
