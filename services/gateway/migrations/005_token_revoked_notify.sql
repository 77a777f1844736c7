-- Speed (issue 17): every gateway process keeps found tokens a few seconds in
-- memory (services/gateway/token_cache.py). A token that stops working (signed
-- out, revoked by an admin, a person's sessions ended, its expiry moved, its
-- row deleted) is announced on commit, whichever statement did it, so each
-- process forgets it at once.
CREATE OR REPLACE FUNCTION gateway.announce_token_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        PERFORM pg_notify('ccrm_token_revoked', OLD.token_sha256);
    ELSE
        PERFORM pg_notify('ccrm_token_revoked', NEW.token_sha256);
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER token_changed_announced
    AFTER UPDATE OF revoked_at, expires_at, person_id ON gateway.tokens
    FOR EACH ROW EXECUTE FUNCTION gateway.announce_token_change();

CREATE TRIGGER token_deleted_announced
    AFTER DELETE ON gateway.tokens
    FOR EACH ROW EXECUTE FUNCTION gateway.announce_token_change();

-- Emptied at once (tests, a reset): '*' tells every process to forget every token.
CREATE OR REPLACE FUNCTION gateway.announce_tokens_emptied() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('ccrm_token_revoked', '*');
    RETURN NULL;
END;
$$;

CREATE TRIGGER tokens_truncated_announced
    AFTER TRUNCATE ON gateway.tokens
    FOR EACH STATEMENT EXECUTE FUNCTION gateway.announce_tokens_emptied();
