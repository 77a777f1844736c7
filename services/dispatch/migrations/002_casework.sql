-- The departments' side of a complaint (SPEC §2, §3; Art. 20-34): dispatch's
-- local copy of each complaint (from intake's events), the frozen routings,
-- routing failures for the operators, visits, progress notes, closure
-- applications, claims, major-complaint meetings, the centre's callbacks, the
-- signatures still to bind, and the append-only history.

CREATE TABLE dispatch.complaints (
    id                        text PRIMARY KEY,
    project_id                text NOT NULL,
    category                  text NOT NULL,
    region_company_id         text,
    property_company_id       text,
    order_round               integer NOT NULL CHECK (order_round > 0),
    intake_state              text NOT NULL,
    requested_completion_at   timestamptz NOT NULL,
    signed_at                 timestamptz,
    department_override       text,
    department_reason         text,
    escalation_level          text CHECK (escalation_level IN ('major', 'group', 'common_issue')),
    facts_at                  timestamptz NOT NULL,  -- occurred_at of the intake facts kept
    state                     text NOT NULL CHECK (state IN (
                                  'awaiting_order', 'routing_failed', 'routed', 'visit_blocked',
                                  'in_progress', 'closure_applied', 'closed')),
    routing_id                text,                  -- the current routing (dispatch.routings)
    completion_due_at         timestamptz,           -- min(requested, agreed), Art. 25
    visited_at                timestamptz,           -- this round's done visit
    created_at                timestamptz NOT NULL,
    updated_at                timestamptz NOT NULL
);
CREATE INDEX complaints_state ON dispatch.complaints (state);
CREATE INDEX complaints_project ON dispatch.complaints (project_id);

-- Responsibility frozen per order round (and again on escalation): never
-- edited; the complaint points at its current one.
CREATE TABLE dispatch.routings (
    id                 text PRIMARY KEY,             -- <complaint>-R<n>
    complaint_id       text NOT NULL REFERENCES dispatch.complaints (id),
    order_round        integer NOT NULL,
    reason             text NOT NULL CHECK (reason IN ('order_signed', 'escalated', 'retry')),
    routed_at          timestamptz NOT NULL,
    department         text NOT NULL,
    major              boolean NOT NULL,
    handler_id         text NOT NULL,
    directory_version  integer,
    detail             jsonb NOT NULL              -- people (with mobiles) and units, as routed
);
CREATE INDEX routings_complaint ON dispatch.routings (complaint_id, routed_at);
CREATE INDEX routings_handler ON dispatch.routings (handler_id);
ALTER TABLE dispatch.complaints
    ADD CONSTRAINT complaints_routing FOREIGN KEY (routing_id) REFERENCES dispatch.routings (id)
    DEFERRABLE INITIALLY DEFERRED;

-- A routing the directory could not make (a vacant post): the operators'
-- worklist, until a later directory lets it through.
CREATE TABLE dispatch.routing_errors (
    id                 bigserial PRIMARY KEY,
    complaint_id       text NOT NULL REFERENCES dispatch.complaints (id),
    order_round        integer NOT NULL,
    trigger            text NOT NULL,
    department         text,
    role               text NOT NULL,               -- the missing role (head, chairman, ...)
    unit_id            text,
    message            text NOT NULL,
    directory_version  integer,
    failed_at          timestamptz NOT NULL,
    resolved_at        timestamptz,
    resolved_by        text                          -- the routing that got through
);
CREATE INDEX routing_errors_open ON dispatch.routing_errors (complaint_id) WHERE resolved_at IS NULL;

CREATE TABLE dispatch.visits (
    id                     text PRIMARY KEY,         -- <complaint>-V<n>
    complaint_id           text NOT NULL REFERENCES dispatch.complaints (id),
    order_round            integer NOT NULL,
    outcome                text NOT NULL CHECK (outcome IN ('done', 'blocked')),
    happened_at            timestamptz NOT NULL,     -- visited, or attempted when blocked
    department             text NOT NULL,
    plan                   text,
    agreed_completion_at   timestamptz,
    completion_due_at      timestamptz,
    reason                 text,
    photo_media_ids        text[] NOT NULL DEFAULT '{}',
    signature_media_id     text UNIQUE,
    record_sha256          text,
    recorded_by            text NOT NULL,
    recorded_at            timestamptz NOT NULL,
    CONSTRAINT visits_done CHECK (outcome <> 'done' OR (plan IS NOT NULL AND
        agreed_completion_at IS NOT NULL AND signature_media_id IS NOT NULL)),
    CONSTRAINT visits_blocked CHECK (outcome <> 'blocked' OR reason IS NOT NULL)
);
CREATE INDEX visits_complaint ON dispatch.visits (complaint_id, recorded_at);

CREATE TABLE dispatch.progress (
    id                     text PRIMARY KEY,         -- <complaint>-P<n>
    complaint_id           text NOT NULL REFERENCES dispatch.complaints (id),
    order_round            integer NOT NULL,
    note                   text NOT NULL,
    department             text NOT NULL,
    unit_id                text NOT NULL,
    by_handler_department  boolean NOT NULL,
    photo_media_ids        text[] NOT NULL DEFAULT '{}',
    recorded_by            text NOT NULL,
    recorded_at            timestamptz NOT NULL
);
CREATE INDEX progress_complaint ON dispatch.progress (complaint_id, recorded_at);

CREATE TABLE dispatch.closure_applications (
    id                  text PRIMARY KEY,            -- <complaint>-A<n>
    complaint_id        text NOT NULL REFERENCES dispatch.complaints (id),
    order_round         integer NOT NULL,
    material_media_ids  text[] NOT NULL DEFAULT '{}',
    signature_media_id  text NOT NULL UNIQUE,
    record_sha256       text NOT NULL,
    applied_by          text NOT NULL,
    applied_at          timestamptz NOT NULL,
    status              text NOT NULL CHECK (status IN ('pending', 'verified', 'reviewed',
                                                        'approved', 'rejected')),
    verified_at         timestamptz,
    verified_by         text,
    satisfaction        integer CHECK (satisfaction BETWEEN 1 AND 5),
    reviewed_at         timestamptz,
    reviewed_by         text,
    rejected_at         timestamptz,
    rejected_by         text,
    rejected_stage      text,
    rejection_reason    text,
    closed_at           timestamptz,
    closed_by           text
);
CREATE INDEX closure_applications_complaint ON dispatch.closure_applications (complaint_id, applied_at);
-- One application in the works per complaint at a time (Art. 28).
CREATE UNIQUE INDEX closure_applications_one_open ON dispatch.closure_applications (complaint_id)
    WHERE status IN ('pending', 'verified', 'reviewed');

CREATE TABLE dispatch.claims (
    id               text PRIMARY KEY,               -- <complaint>-CL<n>
    complaint_id     text NOT NULL REFERENCES dispatch.complaints (id),
    order_round      integer NOT NULL,
    amount_claimed   numeric(12, 2) NOT NULL CHECK (amount_claimed > 0),
    description      text NOT NULL,
    raised_by        text NOT NULL,
    raised_at        timestamptz NOT NULL,
    head_person_id   text NOT NULL,
    major            boolean NOT NULL,
    report_due_at    timestamptz NOT NULL,
    status           text NOT NULL CHECK (status IN ('raised', 'reported', 'decided', 'filed')),
    reported_at      timestamptz,
    reported_by      text,
    report_text      text,
    report_media_id  text,
    decided_at       timestamptz,
    decided_by       text,
    decided_as       text,
    decision         text CHECK (decision IN ('approve', 'reject')),
    amount_granted   numeric(12, 2) CHECK (amount_granted >= 0),
    decision_note    text,
    file_due_at      timestamptz,
    filed_at         timestamptz,
    filed_by         text
);
CREATE INDEX claims_complaint ON dispatch.claims (complaint_id, raised_at);

CREATE TABLE dispatch.meetings (
    id                  text PRIMARY KEY,            -- <complaint>-M<n>
    complaint_id        text NOT NULL REFERENCES dispatch.complaints (id),
    order_round         integer NOT NULL,
    chairman_person_id  text NOT NULL,
    held_at             timestamptz NOT NULL,
    responsible         text NOT NULL,
    solution            text NOT NULL,
    due_at              timestamptz NOT NULL,
    recorded_by         text NOT NULL,
    recorded_at         timestamptz NOT NULL,
    minutes_media_id    text,
    minutes_filed_at    timestamptz,
    minutes_filed_by    text
);
CREATE INDEX meetings_complaint ON dispatch.meetings (complaint_id, held_at);

-- The centre's callback after a blocked visit (Art. 23), from intake's event.
CREATE TABLE dispatch.callbacks (
    id            text PRIMARY KEY,                  -- <complaint>-CB<n>
    complaint_id  text NOT NULL REFERENCES dispatch.complaints (id),
    order_round   integer NOT NULL,
    callback_at   timestamptz NOT NULL,
    by            text,
    outcome       text,
    note          text,
    received_at   timestamptz NOT NULL
);

-- A customer's signature to bind to the visit or application it confirms
-- (SPEC §6). Written with the record; bound after the commit and retried
-- until the media service answers.
CREATE TABLE dispatch.signature_bindings (
    media_id         text PRIMARY KEY,
    record_type      text NOT NULL,
    record_id        text NOT NULL,
    complaint_id     text NOT NULL REFERENCES dispatch.complaints (id),
    record_sha256    text NOT NULL,
    bound_by         text,
    state            text NOT NULL CHECK (state IN ('pending', 'bound', 'refused')),
    created_at       timestamptz NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    bound_at         timestamptz
);
CREATE INDEX signature_bindings_due ON dispatch.signature_bindings (next_attempt_at)
    WHERE state = 'pending';

-- Every change, who, when, from which state (SPEC §2). Never edited.
CREATE TABLE dispatch.history (
    id            bigserial PRIMARY KEY,
    complaint_id  text NOT NULL REFERENCES dispatch.complaints (id),
    order_round   integer NOT NULL,
    at            timestamptz NOT NULL,
    actor_id      text,
    action        text NOT NULL,
    from_state    text,
    to_state      text,
    record_id     text,
    note          text,
    details       jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX history_complaint ON dispatch.history (complaint_id, id);

-- Records that are facts once written: a correction is a new row.
CREATE FUNCTION dispatch.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP;
END $$;
CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON dispatch.history
    FOR EACH ROW EXECUTE FUNCTION dispatch.refuse_change();
CREATE TRIGGER routings_append_only BEFORE UPDATE OR DELETE ON dispatch.routings
    FOR EACH ROW EXECUTE FUNCTION dispatch.refuse_change();
CREATE TRIGGER visits_append_only BEFORE UPDATE OR DELETE ON dispatch.visits
    FOR EACH ROW EXECUTE FUNCTION dispatch.refuse_change();
CREATE TRIGGER progress_append_only BEFORE UPDATE OR DELETE ON dispatch.progress
    FOR EACH ROW EXECUTE FUNCTION dispatch.refuse_change();
CREATE TRIGGER callbacks_append_only BEFORE UPDATE OR DELETE ON dispatch.callbacks
    FOR EACH ROW EXECUTE FUNCTION dispatch.refuse_change();
