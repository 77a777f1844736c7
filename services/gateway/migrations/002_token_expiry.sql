-- Every token expires (issue 8): a token issued before expiry existed is
-- expired now, and no token can be stored without an expiry again.
UPDATE gateway.tokens SET expires_at = issued_at WHERE expires_at IS NULL;
ALTER TABLE gateway.tokens ALTER COLUMN expires_at SET NOT NULL;
