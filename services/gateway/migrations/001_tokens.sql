-- Bearer tokens of people (SPEC §8). Only the SHA-256 of a token is kept: a
-- leaked table does not let anyone sign in. (Customer signing links are
-- intake's: they belong to one complaint and one step.)
CREATE TABLE gateway.tokens (
    token_sha256  text PRIMARY KEY,
    person_id     text NOT NULL,
    issued_at     timestamptz NOT NULL,
    expires_at    timestamptz,
    revoked_at    timestamptz
);
CREATE INDEX tokens_person ON gateway.tokens (person_id);

-- Idempotency keys (issue 3): a repeated POST with the same key and body gets
-- the first answer instead of doing the step twice.
CREATE TABLE gateway.idempotency (
    person_id     text NOT NULL,
    key           text NOT NULL,
    method        text NOT NULL,
    path          text NOT NULL,
    request_sha256 text NOT NULL,
    status        integer,
    response      text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (person_id, key)
);
