-- Uploads the gateway is writing straight to the store (begin_upload), not yet
-- confirmed (confirm_upload checks the stored bytes, then moves the upload to
-- media.objects). One whose confirm never came is swept with its object after
-- MEDIA.unconfirmed_seconds (default 24 h) on the shared clock.
CREATE TABLE media.pending_uploads (
    id                  text PRIMARY KEY,            -- the media id it will have
    key                 text NOT NULL UNIQUE,        -- where the gateway writes it
    kind                text NOT NULL,
    stage               text,
    size                bigint NOT NULL CHECK (size > 0),  -- as the gateway declared it
    original_filename   text,
    complaint_id        text,
    step                text,
    uploaded_by         text,
    created_at          timestamptz NOT NULL         -- the shared clock's time
);

CREATE INDEX pending_uploads_created ON media.pending_uploads (created_at);
