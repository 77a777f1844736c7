-- After the order is signed (SPEC §2; Art. 19-29): who answers for the
-- complaint (a copy of dispatch's complaint.routed), the callback owed after a
-- blocked visit (Art. 23), and the closure loop (Art. 28, 29).

ALTER TABLE intake.complaints
    ADD COLUMN routing_id              text,
    ADD COLUMN routed_at               timestamptz,
    ADD COLUMN handler_id              text,
    -- department, unit, handler, leaders, chairman, cooperating departments
    ADD COLUMN responsibility          jsonb,
    -- who may see it besides the centre and the desk, and `assigned_to_me`
    ADD COLUMN responsible_person_ids  text[] NOT NULL DEFAULT '{}',
    ADD COLUMN responsible_unit_ids    text[] NOT NULL DEFAULT '{}',
    -- set by a blocked visit, cleared by the centre's callback
    ADD COLUMN callback_due_since      timestamptz,
    ADD COLUMN callback_visit_ids      text[] NOT NULL DEFAULT '{}',
    ADD COLUMN closure_application_id  text;
CREATE INDEX complaints_handler ON intake.complaints (handler_id) WHERE handler_id IS NOT NULL;
CREATE INDEX complaints_callback_due ON intake.complaints (callback_due_since)
    WHERE callback_due_since IS NOT NULL;
CREATE INDEX complaints_responsible_people ON intake.complaints USING gin (responsible_person_ids);
CREATE INDEX complaints_responsible_units ON intake.complaints USING gin (responsible_unit_ids);

-- A department's closure application (its id is dispatch's) as the centre
-- verifies, reviews and approves it. One row per application; its steps are
-- also timeline entries.
CREATE TABLE intake.closures (
    application_id      text PRIMARY KEY,
    complaint_id        text NOT NULL REFERENCES intake.complaints (id),
    order_round         integer NOT NULL,
    applied_at          timestamptz NOT NULL,
    applied_by          text NOT NULL,
    received_at         timestamptz NOT NULL,
    material_media_ids  text[] NOT NULL DEFAULT '{}',
    signature_media_id  text,
    status              text NOT NULL CHECK (status IN ('applied', 'verified', 'reviewed',
                                                        'approved', 'rejected', 'superseded')),
    holder_id           text,
    holder_role         text,
    verified_at         timestamptz,
    verified_by         text,
    satisfaction        smallint CHECK (satisfaction BETWEEN 1 AND 5),
    comment             text,
    reviewed_at         timestamptz,
    reviewed_by         text,
    closed_at           timestamptz,
    closed_by           text,
    rejected_at         timestamptz,
    rejected_by         text,
    rejected_stage      text CHECK (rejected_stage IN ('verify', 'review', 'approve')),
    rejection_reason    text
);
CREATE INDEX closures_complaint ON intake.closures (complaint_id, applied_at);
CREATE INDEX closures_holder ON intake.closures (holder_id)
    WHERE status IN ('applied', 'verified', 'reviewed');

-- The centre's callbacks after blocked visits (Art. 23).
CREATE TABLE intake.callbacks (
    id            bigserial PRIMARY KEY,
    complaint_id  text NOT NULL REFERENCES intake.complaints (id),
    order_round   integer NOT NULL,
    callback_at   timestamptz NOT NULL,
    recorded_at   timestamptz NOT NULL,
    called_by     text NOT NULL,
    called_role   text NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('reached', 'unreachable', 'declined')),
    note          text,
    visit_ids     text[] NOT NULL,
    due_since     timestamptz NOT NULL
);
CREATE INDEX callbacks_complaint ON intake.callbacks (complaint_id, id);
