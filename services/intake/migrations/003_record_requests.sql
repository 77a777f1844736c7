-- One recording per request: the gateway passes the caller's Idempotency-Key
-- (or a key of its own per HTTP request). A retried or redelivered
-- record_complaint call finds its complaint here instead of recording a
-- second one (a gateway killed mid-call, an RPC message redelivered after
-- an intake instance died).
CREATE TABLE intake.record_requests (
    person_id    text NOT NULL,
    request_key  text NOT NULL,
    complaint_id text NOT NULL REFERENCES intake.complaints (id),
    PRIMARY KEY (person_id, request_key)
);
