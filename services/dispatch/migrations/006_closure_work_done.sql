-- What the department did, in its own words, on the closure application the
-- customer signs (issue 16). Nullable: applications made before it have none.
ALTER TABLE dispatch.closure_applications ADD COLUMN work_done text;
