-- Sign-in by mobile number and a one-time SMS code (issue 14).

-- Every credential gets an id (the admin lists and revokes by it, never by
-- its secret), a kind and a label:
--   api      a bearer token for a machine client or an operator, issued by an
--            admin (POST /api/admin/tokens) or the `tokens demo` command;
--            expires in real time
--   session  a person's sign-in by SMS code; expires on the shared clock
--   demo     a sign-in from the simulation mode's picker; expires in real time
ALTER TABLE gateway.tokens ADD COLUMN id bigserial;
ALTER TABLE gateway.tokens ADD CONSTRAINT tokens_id UNIQUE (id);
ALTER TABLE gateway.tokens ADD COLUMN kind text NOT NULL DEFAULT 'api'
    CHECK (kind IN ('api', 'session', 'demo'));
ALTER TABLE gateway.tokens ADD COLUMN label text;
ALTER TABLE gateway.tokens ADD COLUMN issued_by text;
CREATE INDEX tokens_kind ON gateway.tokens (kind, issued_at DESC);

-- One row per mobile number that asked for a code: its one active code (only
-- a salted HMAC of it, never the digits), who it is for (null: the number is
-- not in the directory, so no SMS went out but the caller cannot tell), the
-- wrong tries since the last success or lock, and the lock.
CREATE TABLE gateway.sign_in_numbers (
    mobile          text PRIMARY KEY,
    person_id       text,
    code_hash       text,
    code_salt       text,
    code_issued_at  timestamptz,
    code_expires_at timestamptz,
    failures        integer NOT NULL DEFAULT 0,
    locked_until    timestamptz
);

-- Requests counted for the rate limits: scope `code:mobile`, `code:address`
-- or `session:address`, and the key (the number or the client address).
CREATE TABLE gateway.sign_in_hits (
    id     bigserial PRIMARY KEY,
    scope  text NOT NULL,
    key    text NOT NULL,
    at     timestamptz NOT NULL
);
CREATE INDEX sign_in_hits_key ON gateway.sign_in_hits (scope, key, at);
