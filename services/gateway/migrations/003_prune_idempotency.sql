-- Issue 14, housekeeping: an Idempotency-Key's answer is kept
-- REQUEST_KEYS_KEEP_DAYS (default 7) from when the call began on the shared
-- clock (`created_at` stays the database's time: the lease of a call in
-- progress), then pruned by the gateway's daily job.
ALTER TABLE gateway.idempotency ADD COLUMN clock_created_at timestamptz;
UPDATE gateway.idempotency SET clock_created_at = created_at;
CREATE INDEX idempotency_clock_created ON gateway.idempotency (clock_created_at);

-- The daily jobs' claims: the day each last ran (one instance per day).
CREATE TABLE gateway.housekeeping (
    job          text PRIMARY KEY,
    last_run_on  date NOT NULL,
    ran_at       timestamptz NOT NULL,
    deleted      bigint NOT NULL DEFAULT 0
);
