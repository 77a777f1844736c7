-- confirm_upload records a file in one round trip (issue 17): BEGIN, this
-- call, the media row, its outbox event and COMMIT go out together in one
-- pipeline. The upload's row is the lock (a second confirm or the sweep may
-- have taken it meanwhile), so taking it must stop the transaction when it is
-- gone: this raises no_data_found (P0002), the server skips the rest of the
-- pipeline, COMMIT included, and media rolls back and answers from what the
-- first confirm recorded.
CREATE FUNCTION media.take_pending_upload(upload_id text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM media.pending_uploads WHERE id = upload_id;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'upload % is no longer pending', upload_id
            USING ERRCODE = 'no_data_found';
    END IF;
END
$$;
