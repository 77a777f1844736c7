-- Media objects (SPEC §6): the bytes live in the object store, the database
-- keeps what is needed to find, check and trust them.
CREATE TABLE media.objects (
    id                  text PRIMARY KEY,            -- M-<region>-<32 hex>
    region              text NOT NULL,
    key                 text NOT NULL UNIQUE,        -- <region>/<yyyy>/<mm>/<id>, made by us
    kind                text NOT NULL
                        CHECK (kind IN ('signature', 'photo', 'material', 'minutes', 'report')),
    stage               text CHECK (stage IN ('before', 'during', 'after')),
    content_type        text NOT NULL,               -- detected from the bytes
    size                bigint NOT NULL CHECK (size > 0),
    sha256              text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    original_filename   text,                        -- the client's name, shown to people only
    complaint_id        text,
    step                text,
    uploaded_by         text,
    created_at          timestamptz NOT NULL,
    -- A signature bound to the record it confirms, with the record's hash then.
    bound_record_type   text,
    bound_record_id     text,
    bound_record_sha256 text CHECK (bound_record_sha256 ~ '^[0-9a-f]{64}$'),
    bound_at            timestamptz,
    bound_by            text,
    CONSTRAINT objects_photo_stage CHECK ((kind = 'photo') = (stage IS NOT NULL)),
    CONSTRAINT objects_binding_whole CHECK (
        (bound_record_sha256 IS NULL AND bound_record_type IS NULL
             AND bound_record_id IS NULL AND bound_at IS NULL)
        OR (bound_record_sha256 IS NOT NULL AND bound_record_type IS NOT NULL
             AND bound_record_id IS NOT NULL AND bound_at IS NOT NULL)),
    CONSTRAINT objects_only_signatures_bound CHECK (bound_record_sha256 IS NULL OR kind = 'signature')
);

CREATE INDEX objects_complaint ON media.objects (complaint_id) WHERE complaint_id IS NOT NULL;
CREATE INDEX objects_bound_record ON media.objects (bound_record_type, bound_record_id)
    WHERE bound_record_id IS NOT NULL;
