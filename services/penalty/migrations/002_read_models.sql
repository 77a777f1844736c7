-- Penalty's local copies of what other services published (ARCHITECTURE:
-- a service reads only its own schema). Fed by directory.loaded (dispatch),
-- the complaint events of intake and dispatch, and sla's deadline outcomes.

CREATE TABLE penalty.people (
    id                 text PRIMARY KEY,
    name               text,
    mobile             text,
    roles              text[] NOT NULL DEFAULT '{}',
    unit_id            text,
    unit_name          text,
    bonus              numeric(12,2),
    active             boolean NOT NULL,
    project_ids        text[] NOT NULL DEFAULT '{}',
    directory_version  integer NOT NULL
);

CREATE TABLE penalty.units (
    id          text PRIMARY KEY,
    kind        text,
    name        text,
    parent      text,
    department  text,
    active      boolean NOT NULL DEFAULT true
);

CREATE TABLE penalty.projects (
    id                text PRIMARY KEY,
    name              text,
    region_company    text,
    property_company  text,
    city_tier         text,
    active            boolean NOT NULL DEFAULT true
);

CREATE TABLE penalty.directory_state (
    id         integer PRIMARY KEY CHECK (id = 1),
    version    integer NOT NULL,
    loaded_at  timestamptz NOT NULL
);

CREATE TABLE penalty.complaints (
    id                   text PRIMARY KEY,
    project_id           text,
    region_company_id    text,
    property_company_id  text,
    category             text,
    room                 text,
    channel              text,
    specialist_id        text,
    recorded_at          timestamptz,
    resolved_on_spot     boolean NOT NULL DEFAULT false,
    order_round          integer,
    first_submitted_at   timestamptz,
    signed_at            timestamptz,
    holders              jsonb NOT NULL DEFAULT '[]',
    department           text,
    handler_person_id    text,
    completion_due_at    timestamptz,
    closed_at            timestamptz,
    reopen_count         integer NOT NULL DEFAULT 0,
    escalation_level     text,
    facts_at             timestamptz,      -- occurred_at of the newest intake snapshot applied
    routed_at            timestamptz       -- occurred_at of the newest dispatch fact applied
);
CREATE INDEX complaints_due ON penalty.complaints (completion_due_at);
CREATE INDEX complaints_recorded ON penalty.complaints (recorded_at);

CREATE TABLE penalty.closures (
    application_id  text PRIMARY KEY,
    complaint_id    text NOT NULL,
    applied_at      timestamptz,
    rejected_at     timestamptz,
    rejected_stage  text,
    verified_at     timestamptz,
    satisfaction    integer
);
CREATE INDEX closures_complaint ON penalty.closures (complaint_id);

CREATE TABLE penalty.ratings (
    complaint_id   text PRIMARY KEY,
    specialist_id  text,
    score          integer NOT NULL,
    rated_at       timestamptz NOT NULL
);
CREATE INDEX ratings_month ON penalty.ratings (rated_at);

CREATE TABLE penalty.reopens (
    complaint_id  text NOT NULL,
    order_round   integer NOT NULL,
    reopened_at   timestamptz NOT NULL,
    PRIMARY KEY (complaint_id, order_round)
);

CREATE TABLE penalty.deadline_outcomes (
    timer_id      text PRIMARY KEY,
    rule          text NOT NULL,
    complaint_id  text,
    person_id     text,
    due_at        timestamptz NOT NULL,
    outcome       text NOT NULL CHECK (outcome IN ('met', 'missed', 'cancelled', 'withdrawn')),
    done_at       timestamptz,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX deadline_outcomes_due ON penalty.deadline_outcomes (due_at);
