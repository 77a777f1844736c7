-- Upload targets media handed to the gateway (reserve_uploads: a key and, for
-- S3, a presigned PUT), not yet confirmed (confirm_upload checks the stored
-- bytes, then records the file in media.objects and deletes the row). One
-- never confirmed is swept with its object (if any) once it is older than
-- MEDIA.unconfirmed_seconds (default 24 h) on the shared clock and its PUT
-- URL has expired in real time.
CREATE TABLE media.pending_uploads (
    id          text PRIMARY KEY,            -- the media id it will have
    key         text NOT NULL UNIQUE,        -- where the gateway writes it
    created_at  timestamptz NOT NULL,        -- the shared clock's time
    expires_at  timestamptz NOT NULL         -- its target's expiry, real time
);

CREATE INDEX pending_uploads_created ON media.pending_uploads (created_at);
