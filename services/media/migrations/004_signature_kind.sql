-- How a signature was made (drawn on the pad or a typed name written into
-- the image), said by the uploader; NULL for other files and older rows.
ALTER TABLE media.objects ADD COLUMN signature_kind text
    CHECK (signature_kind IN ('drawn', 'typed'));
