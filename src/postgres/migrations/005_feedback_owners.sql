-- Who recorded each feedback row: its sync status is theirs to follow, not every caller's
-- (the row id is a counter anyone could walk).
CREATE TABLE IF NOT EXISTS feedback_owners (
  feedback_id integer PRIMARY KEY,
  org_id varchar(18) NOT NULL,
  user_id varchar(18) NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
