-- One record per request: the gateway passes the caller's Idempotency-Key
-- (or a key of its own per HTTP request) with each call that creates a
-- visit, progress note, closure application, claim or meeting. A call run a
-- second time (the caller retried after a lost answer; the RPC was redelivered
-- to another instance after a crash or a broker restart) returns the record
-- the first run made instead of making another.
CREATE TABLE dispatch.requests (
    person_id    text NOT NULL,
    request_key  text NOT NULL,
    record_type  text NOT NULL,
    record_id    text NOT NULL,
    PRIMARY KEY (person_id, request_key)
);
