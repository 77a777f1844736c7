-- Issue 14, housekeeping: a record's request key is kept
-- REQUEST_KEYS_KEEP_DAYS (default 7) from when it was made (on the shared
-- clock), then pruned by dispatch's daily job. Keys made before this column
-- get their time at the job's first run.
ALTER TABLE dispatch.requests ADD COLUMN created_at timestamptz;
CREATE INDEX requests_created ON dispatch.requests (created_at);

-- The daily jobs' claims: the day each last ran (one instance per day).
CREATE TABLE dispatch.housekeeping (
    job          text PRIMARY KEY,
    last_run_on  date NOT NULL,
    ran_at       timestamptz NOT NULL,
    deleted      bigint NOT NULL DEFAULT 0
);
