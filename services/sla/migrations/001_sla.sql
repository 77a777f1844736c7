-- The sla service (SPEC §4, ARCHITECTURE "Time"): timers as rows, its copy of
-- the complaints and people it needs, daily job slots, SMS notifications, and
-- the events it could not apply (yet).

-- What sla knows of a complaint, kept from intake and dispatch events.
CREATE TABLE sla.complaints (
    id                       text PRIMARY KEY,
    project_id               text,
    room                     text,
    category                 text,
    intake_state             text,
    order_round              integer NOT NULL DEFAULT 1,
    specialist_id            text,
    round_started_at         timestamptz,       -- contact ended, or the reopen
    first_submitted_at       timestamptz,
    signed_at                timestamptz,
    requested_completion_at  timestamptz,
    holders                  jsonb NOT NULL DEFAULT '[]',   -- who held the order when
    escalation_level         text,
    resolved_on_spot         boolean NOT NULL DEFAULT false,
    intake_at                timestamptz,       -- newest intake snapshot applied
    routed_at                timestamptz,
    routed_signed_at         timestamptz,
    department               text,
    handler                  jsonb,             -- {person_id, name, mobile}
    leaders                  jsonb NOT NULL DEFAULT '[]',
    chairman                 jsonb,
    major                    boolean NOT NULL DEFAULT false,
    agreed_completion_at     timestamptz,
    completion_due_at        timestamptz,       -- min(requested, agreed) (Art. 25)
    visited_at               timestamptz,
    visit_blocked_at         timestamptz,
    last_progress_at         timestamptz,
    closure_application_id   text,
    closure_applied_at       timestamptz,       -- null again when the application is rejected
    closed_at                timestamptz,
    updated_at               timestamptz
);
-- The daily jobs read the complaints still open.
CREATE INDEX complaints_open ON sla.complaints (id)
    WHERE closed_at IS NULL AND routed_at IS NOT NULL;

-- One row per deadline. The firing loop claims armed rows that fell due with
-- FOR UPDATE SKIP LOCKED, so two instances never fire one row twice.
CREATE TABLE sla.timers (
    id             uuid PRIMARY KEY,
    key            text NOT NULL UNIQUE,     -- what deadline it is: never armed twice
    rule           text NOT NULL,
    article        text NOT NULL,
    complaint_id   text,
    order_round    integer,
    person_id      text,                     -- responsible (null: a post, or unknown)
    role           text,
    due_at         timestamptz NOT NULL,
    state          text NOT NULL CHECK (state IN ('armed', 'met', 'missed', 'cancelled')),
    armed_at       timestamptz NOT NULL,
    fired_at       timestamptz,              -- clock time the miss was announced
    fired_wall_at  timestamptz,              -- real time it fired: due -> fired is the loop's lag
    done_at        timestamptz,
    late_seconds   bigint,
    settled        boolean NOT NULL DEFAULT false,   -- nothing more will be announced
    details        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX timers_due ON sla.timers (due_at) WHERE state = 'armed';
CREATE INDEX timers_complaint ON sla.timers (complaint_id, due_at);
CREATE INDEX timers_open_rule ON sla.timers (rule) WHERE NOT settled AND complaint_id IS NULL;

-- Each daily job runs once per slot (a local date), whichever instance gets
-- the row first, even after a restart.
CREATE TABLE sla.daily_jobs (
    job          text NOT NULL,
    slot         date NOT NULL,
    slot_at      timestamptz NOT NULL,
    state        text NOT NULL CHECK (state IN ('done', 'skipped')),
    ran_at       timestamptz NOT NULL,       -- clock time
    ran_wall_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    summary      jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (job, slot)
);

-- SMS to send and sent (an outbox of messages): retried with backoff, never lost.
CREATE TABLE sla.notifications (
    id                   uuid PRIMARY KEY,
    created_at           timestamptz NOT NULL,
    recipient_person_id  text,
    recipient_name       text,
    mobile               text,
    template             text NOT NULL,
    params               jsonb NOT NULL DEFAULT '{}',
    text                 text NOT NULL,
    complaint_id         text,
    source               text,
    status               text NOT NULL CHECK (status IN ('pending', 'sent', 'failed')),
    attempts             integer NOT NULL DEFAULT 0,
    next_attempt_at      timestamptz,        -- null: not to be tried (sent, or no mobile)
    last_attempt_at      timestamptz,
    sent_at              timestamptz,
    provider             text,
    provider_id          text,
    error                text,
    request_key          text              -- penalty's idempotency key (notification.requested)
);
CREATE UNIQUE INDEX notifications_request ON sla.notifications (request_key, recipient_person_id)
    WHERE request_key IS NOT NULL;
CREATE INDEX notifications_due ON sla.notifications (next_attempt_at)
    WHERE status IN ('pending', 'failed') AND next_attempt_at IS NOT NULL;
CREATE INDEX notifications_recipient ON sla.notifications (recipient_person_id, created_at DESC);
CREATE INDEX notifications_created ON sla.notifications (created_at DESC);

-- Events sla could not apply: unknown complaint, out of order (parked until
-- what they wait for arrives), invalid, stale; and clock faults. For operators.
CREATE TABLE sla.event_errors (
    id            bigserial PRIMARY KEY,
    at            timestamptz NOT NULL,      -- clock time
    logged_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    kind          text NOT NULL CHECK (kind IN ('unknown_complaint', 'out_of_order', 'invalid',
                                                'stale', 'missing_data', 'clock_backwards',
                                                'clock_skew')),
    state         text NOT NULL CHECK (state IN ('parked', 'applied', 'recorded')),
    event_id      uuid,
    event_type    text,
    producer      text,
    complaint_id  text,
    waiting_for   text,
    message       text NOT NULL,
    body          jsonb,
    resolved_at   timestamptz
);
CREATE INDEX event_errors_parked ON sla.event_errors (waiting_for, id) WHERE state = 'parked';

-- The directory's people sla must reach (centre posts, for escalations) and
-- project names, from directory.loaded.
CREATE TABLE sla.people (
    id       text PRIMARY KEY,
    name     text NOT NULL,
    mobile   text,
    roles    text[] NOT NULL DEFAULT '{}',
    active   boolean NOT NULL DEFAULT true
);
CREATE TABLE sla.projects (
    id    text PRIMARY KEY,
    name  text NOT NULL
);
CREATE TABLE sla.directory (
    id         smallint PRIMARY KEY CHECK (id = 1),
    version    integer NOT NULL,
    loaded_at  timestamptz
);
