-- Intake: complaints, their supervision orders, the append-only timeline,
-- customer links and reception ratings (SPEC §2, §4, §8).

-- Readable ids C-<REGION>-<YYYY>-<NNNNNN>: one counter row per region and
-- year, bumped with INSERT .. ON CONFLICT DO UPDATE .. RETURNING inside the
-- recording's transaction, so concurrent recordings queue on the row and a
-- rolled-back recording gives its number back.
CREATE TABLE intake.complaint_counters (
    region       text NOT NULL,
    year         integer NOT NULL,
    last_number  integer NOT NULL,
    PRIMARY KEY (region, year)
);

CREATE TABLE intake.complaints (
    id                       text PRIMARY KEY,
    region                   text NOT NULL,
    -- what the customer signed (SPEC §2 recording; its canonical form is hashed)
    project_id               text NOT NULL,
    room                     text NOT NULL,
    customer_name            text NOT NULL,
    customer_phone           text NOT NULL,
    channel                  text NOT NULL CHECK (channel IN ('visit', 'phone', 'letter', 'mobile')),
    demand                   text NOT NULL,
    category                 text NOT NULL,
    requested_completion_at  timestamptz NOT NULL,
    contact_ended_at         timestamptz NOT NULL,
    recorded_by              text NOT NULL,
    recorded_at              timestamptz NOT NULL,
    resolved_on_spot         boolean NOT NULL,
    -- copied from the directory at recording time, for rankings by company
    region_company_id        text,
    property_company_id      text,
    -- where it stands
    state                    text NOT NULL,
    signature_status         text NOT NULL
                             CHECK (signature_status IN ('pending', 'binding', 'signed', 'refused')),
    signature_media_id       text UNIQUE,
    order_round              integer NOT NULL DEFAULT 1,
    round_started_at         timestamptz NOT NULL,
    submitted_at             timestamptz,
    submitted_by             text,
    first_submitted_at       timestamptz,
    reviewed_at              timestamptz,
    reviewed_by              text,
    signed_at                timestamptz,
    signed_by                text,
    department               text,
    department_reason        text,
    escalation_level         text CHECK (escalation_level IN ('major', 'group', 'common_issue')),
    escalation_reason        text,
    escalated_at             timestamptz,
    escalated_by             text,
    reopen_count             integer NOT NULL DEFAULT 0,
    closed_at                timestamptz,
    updated_at               timestamptz NOT NULL
);
CREATE INDEX complaints_project ON intake.complaints (project_id, recorded_at DESC);
CREATE INDEX complaints_state ON intake.complaints (state, recorded_at DESC);
CREATE INDEX complaints_recorded ON intake.complaints (recorded_at DESC, id DESC);

-- Who held the order when (SPEC §4 `order_sign`: each holder is charged for
-- their own minutes past the deadline). One row per holding, per order round.
CREATE TABLE intake.order_holders (
    complaint_id  text NOT NULL REFERENCES intake.complaints (id),
    order_round   integer NOT NULL,
    seq           integer NOT NULL,
    person_id     text,
    role          text NOT NULL,
    held_from     timestamptz NOT NULL,
    held_to       timestamptz,
    PRIMARY KEY (complaint_id, order_round, seq)
);
CREATE INDEX order_holders_open ON intake.order_holders (person_id) WHERE held_to IS NULL;

-- Every change of state, never edited or deleted (SPEC §2).
CREATE TABLE intake.timeline (
    id            bigserial PRIMARY KEY,
    complaint_id  text NOT NULL REFERENCES intake.complaints (id),
    order_round   integer NOT NULL,
    at            timestamptz NOT NULL,
    actor_id      text,
    actor_role    text,
    action        text NOT NULL,
    from_state    text,
    to_state      text,
    note          text,
    details       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX timeline_complaint ON intake.timeline (complaint_id, id);

CREATE FUNCTION intake.timeline_is_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'intake.timeline is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER timeline_append_only BEFORE UPDATE OR DELETE ON intake.timeline
    FOR EACH ROW EXECUTE FUNCTION intake.timeline_is_append_only();

-- One-time customer links (SPEC §8): only the token's SHA-256 is kept.
CREATE TABLE intake.customer_links (
    token_sha256  text PRIMARY KEY,
    complaint_id  text NOT NULL REFERENCES intake.complaints (id),
    order_round   integer NOT NULL,
    step          text NOT NULL CHECK (step IN ('record_signature', 'rating')),
    created_at    timestamptz NOT NULL,
    expires_at    timestamptz NOT NULL,
    used_at       timestamptz
);
CREATE INDEX customer_links_complaint ON intake.customer_links (complaint_id);

-- A signature bound to the record it confirms (SPEC §6). Written in the
-- recording's (or signing's) transaction as `pending`; the bind call to media
-- happens after the commit and is retried until media answers, so a failure
-- never leaves a stored record without its pending bind, nor a bind for a
-- record that was rolled back.
CREATE TABLE intake.signature_bindings (
    media_id         text PRIMARY KEY,
    complaint_id     text NOT NULL REFERENCES intake.complaints (id),
    record_type      text NOT NULL,
    record_sha256    text NOT NULL,
    bound_by         text,
    state            text NOT NULL CHECK (state IN ('pending', 'bound', 'refused')),
    attempts         integer NOT NULL DEFAULT 0,
    last_error       text,
    created_at       timestamptz NOT NULL,
    next_attempt_at  timestamptz NOT NULL,
    bound_at         timestamptz
);
CREATE INDEX signature_bindings_pending ON intake.signature_bindings (next_attempt_at)
    WHERE state = 'pending';

-- Reception ratings (Art. 16): one per complaint and order round.
CREATE TABLE intake.reception_ratings (
    complaint_id   text NOT NULL REFERENCES intake.complaints (id),
    order_round    integer NOT NULL,
    specialist_id  text NOT NULL,
    score          smallint NOT NULL CHECK (score BETWEEN 1 AND 5),
    comment        text,
    via            text NOT NULL CHECK (via IN ('terminal', 'link')),
    rated_by       text,
    rated_at       timestamptz NOT NULL,
    PRIMARY KEY (complaint_id, order_round)
);
