-- Issue 13 (fair rules): a missed order signature held by the GM is told to
-- the chairman answering for the project (deadline_missed), so sla's copy of
-- the directory keeps each project's chairmen (from directory.loaded).
ALTER TABLE sla.projects ADD COLUMN region_chairman_id text;
ALTER TABLE sla.projects ADD COLUMN property_chairman_id text;


-- The department's clocks (visit, plan, completion, progress) start when the
-- order first reaches a department, not at the signature: a routing that
-- failed costs the handler nothing.
ALTER TABLE sla.complaints ADD COLUMN first_routed_at timestamptz;
