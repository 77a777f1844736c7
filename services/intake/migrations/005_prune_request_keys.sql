-- Issue 14, housekeeping: a recording's request key is kept
-- REQUEST_KEYS_KEEP_DAYS (default 7) from when it was made (on the shared
-- clock: the complaint's recorded_at), then pruned by intake's daily job.
ALTER TABLE intake.record_requests ADD COLUMN created_at timestamptz;
UPDATE intake.record_requests r SET created_at = c.recorded_at
    FROM intake.complaints c WHERE c.id = r.complaint_id;
CREATE INDEX record_requests_created ON intake.record_requests (created_at);

-- The daily jobs' claims: the day each last ran (one instance per day).
CREATE TABLE intake.housekeeping (
    job          text PRIMARY KEY,
    last_run_on  date NOT NULL,
    ran_at       timestamptz NOT NULL,
    deleted      bigint NOT NULL DEFAULT 0
);
