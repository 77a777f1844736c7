-- Issue 13: every fine reaches HR once; the GM confirms a heavy month; the
-- rankings of a closed month are frozen (Art. 36, 38).

-- How far sla has fired (its `timers.fired_through`): a month is cut only
-- when this mark has reached the month's end. One row, only ever moved on.
CREATE TABLE penalty.sla_progress (
    id             integer PRIMARY KEY CHECK (id = 1),
    fired_through  timestamptz NOT NULL,
    received_at    timestamptz NOT NULL
);

-- sla's `monthly_report.due`, kept until the month is closed (the close
-- waits for the mark; penalty's timer retries).
CREATE TABLE penalty.month_closes (
    month         text PRIMARY KEY CHECK (month ~ '^[0-9]{4}-(0[1-9]|1[0-2])$'),
    due_at        timestamptz,
    requested_at  timestamptz NOT NULL,
    event_id      uuid,
    closed_at     timestamptz
);
CREATE INDEX month_closes_open ON penalty.month_closes (month) WHERE closed_at IS NULL;

-- Which revision first carried each ledger line: a revision carries its own
-- lines and those of the revisions before it, so the latest revision of a
-- month carries every line of that month reported so far. Never changed.
CREATE TABLE penalty.report_lines (
    month         text NOT NULL,
    revision      integer NOT NULL,
    deduction_id  uuid NOT NULL REFERENCES penalty.deductions (id),
    PRIMARY KEY (month, revision, deduction_id),
    FOREIGN KEY (month, revision) REFERENCES penalty.monthly_reports (month, revision)
);
CREATE INDEX report_lines_line ON penalty.report_lines (deduction_id);
CREATE TRIGGER report_lines_append_only BEFORE UPDATE OR DELETE ON penalty.report_lines
    FOR EACH ROW EXECUTE FUNCTION penalty.refuse_change();

-- Reports issued before this migration: their lines are those of the month
-- written before the latest revision was issued.
INSERT INTO penalty.report_lines (month, revision, deduction_id)
SELECT d.month, r.revision, d.id
  FROM penalty.deductions d
  JOIN (SELECT DISTINCT ON (month) month, revision, issued_at FROM penalty.monthly_reports
         ORDER BY month, revision DESC) r ON r.month = d.month
 WHERE d.created_at <= r.issued_at;

-- A person's month above the threshold (需总经理确认): the GM's decisions,
-- each a new row (confirmed for an amount, or referred to a sanction case).
CREATE TABLE penalty.report_reviews (
    id          uuid PRIMARY KEY,
    month       text NOT NULL,
    person_id   text NOT NULL,
    decision    text NOT NULL CHECK (decision IN ('confirmed', 'referred')),
    amount      numeric(12,2) NOT NULL,
    revision    integer NOT NULL,
    case_id     uuid REFERENCES penalty.sanction_cases (id),
    note        text,
    decided_by  text NOT NULL,
    decided_at  timestamptz NOT NULL
);
CREATE INDEX report_reviews_person ON penalty.report_reviews (month, person_id, decided_at);
CREATE TRIGGER report_reviews_append_only BEFORE UPDATE OR DELETE ON penalty.report_reviews
    FOR EACH ROW EXECUTE FUNCTION penalty.refuse_change();

ALTER TABLE penalty.sanction_cases DROP CONSTRAINT sanction_cases_kind_check;
ALTER TABLE penalty.sanction_cases ADD CONSTRAINT sanction_cases_kind_check
    CHECK (kind IN ('overdue', 'reception_attitude', 'concealed', 'bottom_ten',
                    'monthly_review'));

-- Art. 38: the rankings of a closed month, frozen at the close and published.
CREATE TABLE penalty.rankings_published (
    month         text PRIMARY KEY,
    published_at  timestamptz NOT NULL,
    data          jsonb NOT NULL
);
CREATE TRIGGER rankings_published_append_only BEFORE UPDATE OR DELETE
    ON penalty.rankings_published FOR EACH ROW EXECUTE FUNCTION penalty.refuse_change();
