-- Issue 13 (fair rules): a visit's or blocked visit's stated time (visited_at,
-- attempted_at) earlier than its receipt (recorded_at) by more than the grace
-- (SLA.stated_time_grace_minutes) counts from the receipt unless the deputy
-- GM accepts it with a reason: once per visit, never edited (visits are facts).
CREATE TABLE dispatch.time_acceptances (
    visit_id      text PRIMARY KEY REFERENCES dispatch.visits (id),
    complaint_id  text NOT NULL REFERENCES dispatch.complaints (id),
    order_round   integer NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('done', 'blocked')),
    stated_at     timestamptz NOT NULL,
    received_at   timestamptz NOT NULL,
    accepted_by   text NOT NULL,
    accepted_at   timestamptz NOT NULL,
    reason        text NOT NULL
);
CREATE INDEX time_acceptances_complaint ON dispatch.time_acceptances (complaint_id, accepted_at);
CREATE TRIGGER time_acceptances_append_only BEFORE UPDATE OR DELETE ON dispatch.time_acceptances
    FOR EACH ROW EXECUTE FUNCTION dispatch.refuse_change();
