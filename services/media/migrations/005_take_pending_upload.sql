-- confirm_upload records a file in one round trip (issue 17): the media row's
-- INSERT takes (deletes) its upload's row through this function, and its
-- outbox event follows in the same pipeline, which PostgreSQL runs as one
-- implicit transaction up to the pipeline's Sync. The upload's row is the
-- lock (a second confirm or the sweep may have taken it meanwhile): when it is
-- gone this raises no_data_found (P0002), the server skips the rest up to the
-- Sync and rolls back, and media answers from what the first confirm recorded.
CREATE FUNCTION media.take_pending_upload(upload_id text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    taken text;
BEGIN
    DELETE FROM media.pending_uploads WHERE id = upload_id RETURNING id INTO taken;
    IF taken IS NULL THEN
        RAISE EXCEPTION 'upload % is no longer pending', upload_id
            USING ERRCODE = 'no_data_found';
    END IF;
    RETURN taken;
END
$$;
