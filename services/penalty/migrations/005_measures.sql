-- Art. 42: a department the quarterly analysis names files its improvement
-- measures with the centre, once per quarter (its head, within 15 days).
-- Filed measures are a fact: never edited, never deleted (the trigger holds
-- for the owner too; shared/db_roles.py revokes UPDATE/DELETE from the role).
CREATE TABLE penalty.measures (
    quarter            text NOT NULL CHECK (quarter ~ '^[0-9]{4}-Q[1-4]$'),
    unit_id            text NOT NULL,
    department         text NOT NULL,
    company_id         text,
    analysis_revision  integer NOT NULL,
    filed_by           text NOT NULL,
    filed_by_name      text,
    filed_at           timestamptz NOT NULL,
    text               text NOT NULL,
    media_ids          text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (quarter, unit_id)
);

CREATE TRIGGER measures_append_only BEFORE UPDATE OR DELETE ON penalty.measures
    FOR EACH ROW EXECUTE FUNCTION penalty.refuse_change();
