-- Penalty: the deduction ledger, the open misses charged at each month's cut,
-- appeals, sanction cases, issued monthly reports and quarterly analyses.

-- One line per deduction (SPEC §4). Never edited, never deleted: a correction
-- is a new line that `reverses` the old one. `source_key` is the deterministic
-- identity of what is charged, so a replayed event can never charge twice.
CREATE TABLE penalty.deductions (
    id               uuid PRIMARY KEY,
    seq              bigserial NOT NULL UNIQUE,
    person_id        text,
    person_name      text,
    unit_id          text,
    unit_name        text,
    amount           numeric(12,2),
    bonus_percent    numeric(6,2),
    bonus            numeric(12,2),
    rule             text NOT NULL,
    article          text NOT NULL,
    complaint_id     text,
    month            text NOT NULL CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    charged_at       timestamptz NOT NULL,
    evidence         jsonb NOT NULL,
    rule_version     text NOT NULL,
    source_key       text NOT NULL UNIQUE,
    timer_id         text,
    reverses         uuid REFERENCES penalty.deductions (id),
    flags            text[] NOT NULL DEFAULT '{}',
    source_event_id  uuid,
    created_at       timestamptz NOT NULL,
    CHECK (amount IS NOT NULL OR bonus_percent IS NOT NULL)
);
-- A line is reversed at most once.
CREATE UNIQUE INDEX deductions_reversed_once ON penalty.deductions (reverses) WHERE reverses IS NOT NULL;
CREATE INDEX deductions_month ON penalty.deductions (month, person_id, rule);
CREATE INDEX deductions_person ON penalty.deductions (person_id, month);
CREATE INDEX deductions_timer ON penalty.deductions (timer_id) WHERE timer_id IS NOT NULL;
CREATE INDEX deductions_complaint ON penalty.deductions (complaint_id);

CREATE FUNCTION penalty.refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_SCHEMA || '.' || TG_TABLE_NAME, TG_OP
        USING HINT = 'a deduction is never edited or deleted; an upheld appeal adds a reversing line',
              ERRCODE = 'insufficient_privilege';
END $$;

CREATE TRIGGER deductions_append_only BEFORE UPDATE OR DELETE ON penalty.deductions
    FOR EACH ROW EXECUTE FUNCTION penalty.refuse_change();

-- In production the service connects as its own role: it may only read and
-- insert lines (the trigger above also holds for the owner).
REVOKE UPDATE, DELETE, TRUNCATE ON penalty.deductions FROM PUBLIC;
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'penalty') THEN
        EXECUTE 'REVOKE UPDATE, DELETE, TRUNCATE ON penalty.deductions FROM penalty';
        EXECUTE 'GRANT SELECT, INSERT ON penalty.deductions TO penalty';
    END IF;
END $$;

-- A block-counted step past its deadline and not done yet (a non-final
-- deadline.missed): each month's cut charges the blocks accrued so far.
CREATE TABLE penalty.open_misses (
    timer_id      text PRIMARY KEY,
    rule          text NOT NULL,
    article       text NOT NULL,
    complaint_id  text,
    person_id     text,
    role          text,
    due_at        timestamptz NOT NULL,
    opened_at     timestamptz NOT NULL,
    ended_at      timestamptz,          -- final miss, met or withdrawn: no more cuts
    ended_by      text
);
CREATE INDEX open_misses_open ON penalty.open_misses (due_at) WHERE ended_at IS NULL;

-- Rows whose decision is recorded once, then frozen; never deleted.
CREATE FUNCTION penalty.decided_once() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION '%.% rows are never deleted', TG_TABLE_SCHEMA, TG_TABLE_NAME
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF OLD.decided_at IS NOT NULL THEN
        RAISE EXCEPTION 'the decision on %.% % is already recorded', TG_TABLE_SCHEMA,
            TG_TABLE_NAME, OLD.id USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END $$;

CREATE TABLE penalty.appeals (
    id               uuid PRIMARY KEY,
    deduction_id     uuid NOT NULL UNIQUE REFERENCES penalty.deductions (id),
    person_id        text NOT NULL,
    reason           text NOT NULL,
    filed_at         timestamptz NOT NULL,
    status           text NOT NULL CHECK (status IN ('pending', 'upheld', 'rejected')),
    decided_by       text,
    decided_at       timestamptz,
    decision_reason  text,
    reversal_id      uuid REFERENCES penalty.deductions (id)
);
CREATE INDEX appeals_person ON penalty.appeals (person_id, filed_at DESC);
CREATE INDEX appeals_pending ON penalty.appeals (filed_at) WHERE status = 'pending';
CREATE TRIGGER appeals_decided_once BEFORE UPDATE OR DELETE ON penalty.appeals
    FOR EACH ROW EXECUTE FUNCTION penalty.decided_once();

CREATE TABLE penalty.sanction_cases (
    id             uuid PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('overdue', 'reception_attitude', 'concealed',
                                                  'bottom_ten')),
    article        text NOT NULL,
    person_id      text,
    role           text NOT NULL,
    complaint_id   text,
    source_key     text NOT NULL UNIQUE,
    evidence       jsonb NOT NULL,
    allowed        jsonb NOT NULL,
    rule_version   text NOT NULL,
    month          text NOT NULL,
    opened_at      timestamptz NOT NULL,
    opened_by      text,
    status         text NOT NULL CHECK (status IN ('open', 'decided', 'withdrawn')),
    decision       jsonb,
    decided_by     text,
    decided_role   text,
    decided_at     timestamptz,
    deduction_id   uuid REFERENCES penalty.deductions (id)
);
CREATE INDEX sanction_cases_status ON penalty.sanction_cases (status, opened_at);
CREATE INDEX sanction_cases_person ON penalty.sanction_cases (person_id, kind, month);
CREATE TRIGGER sanction_cases_decided_once BEFORE UPDATE OR DELETE ON penalty.sanction_cases
    FOR EACH ROW EXECUTE FUNCTION penalty.decided_once();

-- Each issue of a month's report that changed something is a revision.
CREATE TABLE penalty.monthly_reports (
    month          text NOT NULL,
    revision       integer NOT NULL CHECK (revision >= 1),
    issued_at      timestamptz NOT NULL,
    issued_by      text,
    trigger        text NOT NULL,
    snapshot       jsonb NOT NULL,
    totals         jsonb NOT NULL,
    line_count     integer NOT NULL,
    csv_media_id   text NOT NULL,
    xlsx_media_id  text NOT NULL,
    csv_sha256     text NOT NULL,
    xlsx_sha256    text NOT NULL,
    changes        jsonb,
    PRIMARY KEY (month, revision)
);
CREATE TRIGGER monthly_reports_append_only BEFORE UPDATE OR DELETE ON penalty.monthly_reports
    FOR EACH ROW EXECUTE FUNCTION penalty.refuse_change();

CREATE TABLE penalty.analyses (
    quarter    text NOT NULL,
    revision   integer NOT NULL,
    issued_at  timestamptz NOT NULL,
    issued_by  text,
    data       jsonb NOT NULL,
    PRIMARY KEY (quarter, revision)
);

-- The specialists' bottom ten of each month (Art. 16), as computed at the cut.
CREATE TABLE penalty.bottom_ten (
    month      text NOT NULL,
    person_id  text NOT NULL,
    rank       integer NOT NULL,
    mean       numeric(4,2) NOT NULL,
    ratings    integer NOT NULL,
    PRIMARY KEY (month, person_id)
);
