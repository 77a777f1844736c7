-- Sign-in through the group's OpenID Connect provider (issue 14;
-- services/gateway/oidc.py, routes/oidc.py). One row per sign-in started at
-- GET /api/auth/oidc/start: what the callback needs to finish it (the state
-- only as its SHA-256; the browser holds the state itself in a cookie), then
-- the one-time hand-off code the sign-in page trades for the session
-- (POST /api/auth/oidc/session), so no session token ever travels in a URL.
-- Each step works once: `finished_at` (the callback came), `handed_at` (the
-- session was given). Rows are pruned a day after they expire.
CREATE TABLE gateway.oidc_logins (
    state_sha256        text PRIMARY KEY,
    nonce               text NOT NULL,
    code_verifier       text NOT NULL,
    next_path           text,
    started_at          timestamptz NOT NULL,
    expires_at          timestamptz NOT NULL,
    finished_at         timestamptz,
    person_id           text,
    handoff_sha256      text UNIQUE,
    handoff_expires_at  timestamptz,
    handed_at           timestamptz
);
CREATE INDEX oidc_logins_expiry ON gateway.oidc_logins (expires_at);
