-- Issue 13 (fair rules): a complaint voided by mistake, a signing link sent
-- again (the older ones stop working), and stated times the deputy GM accepts.

-- Voided (SPEC §4 fairness; §10 POST /api/complaints/{id}/void): who, when,
-- why. The state becomes `voided`; the timeline keeps the entry too.
ALTER TABLE intake.complaints
    ADD COLUMN voided_at    timestamptz,
    ADD COLUMN voided_by    text,
    ADD COLUMN void_reason  text;

-- A link replaced by a newer one (Art. 13 re-send) or whose complaint was
-- voided stops working: revoked, never deleted.
ALTER TABLE intake.customer_links
    ADD COLUMN revoked_at   timestamptz;

-- Callbacks get the id the centre and dispatch name them by (`<complaint>-CB<n>`,
-- dispatch's callback record has the same id): the act a stated time is accepted for.
ALTER TABLE intake.callbacks ADD COLUMN callback_id text;
UPDATE intake.callbacks c SET callback_id = numbered.complaint_id || '-CB' || numbered.n
  FROM (SELECT id, complaint_id, row_number() OVER (PARTITION BY complaint_id ORDER BY id) AS n
          FROM intake.callbacks) numbered
 WHERE numbered.id = c.id;
ALTER TABLE intake.callbacks ALTER COLUMN callback_id SET NOT NULL;
ALTER TABLE intake.callbacks ADD CONSTRAINT callbacks_callback_id UNIQUE (callback_id);

-- A callback's stated time accepted by the deputy GM with a reason (once per
-- callback; never edited).
CREATE TABLE intake.time_acceptances (
    callback_id   text PRIMARY KEY REFERENCES intake.callbacks (callback_id),
    complaint_id  text NOT NULL REFERENCES intake.complaints (id),
    stated_at     timestamptz NOT NULL,
    received_at   timestamptz NOT NULL,
    accepted_by   text NOT NULL,
    accepted_at   timestamptz NOT NULL,
    reason        text NOT NULL
);
CREATE INDEX time_acceptances_complaint ON intake.time_acceptances (complaint_id);
CREATE TRIGGER time_acceptances_append_only BEFORE UPDATE OR DELETE ON intake.time_acceptances
    FOR EACH ROW EXECUTE FUNCTION intake.timeline_is_append_only();
