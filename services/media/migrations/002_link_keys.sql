-- The key media signs its file links with (GET /files/<token> on the
-- gateway, services/media/links.py). Made by media itself on first use
-- (random, 32 bytes) and never sent anywhere; a new row with a higher id
-- replaces it (links signed with the old one stop working).
CREATE TABLE media.link_keys (
    id          integer PRIMARY KEY,
    secret      bytea NOT NULL CHECK (length(secret) >= 32),
    created_at  timestamptz NOT NULL DEFAULT now()
);
