-- Each load's own identity (issue 17 "speed"): dispatch keeps the directory
-- snapshot in process and reads it again only when the newest load's id is
-- not the one it holds. A version number alone may come back (a database
-- emptied and loaded again starts at 1); a random id per load does not.
ALTER TABLE dispatch.directory_versions
    ADD COLUMN load_id uuid NOT NULL DEFAULT gen_random_uuid();
