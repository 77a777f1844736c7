-- The organisation directory (SPEC §1), as loaded from the organisation file.
-- A load replaces the current directory in one transaction and is recorded as a
-- version. Nothing is deleted: people, units, projects and desk assignments
-- that leave the file are marked inactive, since past complaints, orders and
-- deductions name them. Positions (who heads what today) are current state only:
-- responsibility is frozen on each order when it is dispatched.

CREATE TABLE dispatch.directory_versions (
    version      integer PRIMARY KEY CHECK (version > 0),   -- 1, 2, 3 … per load
    loaded_at    timestamptz NOT NULL,
    source       text NOT NULL,                  -- the file path loaded
    sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
    label        text,                           -- the file's own `version:` label
    region_code  text NOT NULL,
    region_name  text,
    counts       jsonb NOT NULL DEFAULT '{}'::jsonb,
    vacancies    text[] NOT NULL DEFAULT '{}'
);

CREATE TABLE dispatch.units (
    id             text PRIMARY KEY,
    kind           text NOT NULL CHECK (kind IN ('centre', 'group_unit', 'region_company',
                                                  'property_company', 'department', 'desk')),
    name           text NOT NULL,
    parent_id      text REFERENCES dispatch.units (id),
    department     text CHECK (department IN ('marketing', 'finance', 'treasury', 'development',
                                              'engineering', 'chief_engineer_office',
                                              'commercial_operations', 'property')),
    active         boolean NOT NULL DEFAULT true,
    first_version  integer NOT NULL REFERENCES dispatch.directory_versions (version),
    last_version   integer NOT NULL REFERENCES dispatch.directory_versions (version),
    removed_at     timestamptz,
    CONSTRAINT units_department_kind CHECK (
        (department IS NULL) = (kind NOT IN ('department', 'property_company')))
);

CREATE TABLE dispatch.people (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    mobile         text NOT NULL CHECK (mobile ~ '^1[3-9][0-9]{9}$'),
    roles          text[] NOT NULL,
    unit_id        text NOT NULL REFERENCES dispatch.units (id),
    bonus          numeric(12, 2) CHECK (bonus >= 0),   -- 月度综合奖金, CNY; null when unknown
    active         boolean NOT NULL DEFAULT true,
    first_version  integer NOT NULL REFERENCES dispatch.directory_versions (version),
    last_version   integer NOT NULL REFERENCES dispatch.directory_versions (version),
    left_at        timestamptz                          -- when a load first missed them
);
CREATE INDEX people_roles ON dispatch.people USING gin (roles);
CREATE INDEX people_mobile ON dispatch.people (mobile);

-- Who holds which post today: centre GM / deputy / VP / staff, a company's
-- chairman and leaders (with the areas they supervise), a department's head and
-- supervising leader. Rewritten by every load.
CREATE TABLE dispatch.positions (
    unit_id    text NOT NULL REFERENCES dispatch.units (id),
    position   text NOT NULL CHECK (position IN ('centre_gm', 'centre_deputy_gm', 'centre_staff',
                                                 'vp', 'chairman', 'leader', 'head',
                                                 'supervising_leader')),
    person_id  text NOT NULL REFERENCES dispatch.people (id),
    seq        integer NOT NULL DEFAULT 0,
    areas      text[] NOT NULL DEFAULT '{}',
    title      text,
    PRIMARY KEY (unit_id, position, person_id)
);
CREATE INDEX positions_person ON dispatch.positions (person_id);

CREATE TABLE dispatch.projects (
    id                   text PRIMARY KEY,
    name                 text NOT NULL,
    city                 text,
    city_tier            text NOT NULL CHECK (city_tier IN ('capital', 'tier3', 'other')),
    region_company_id    text NOT NULL REFERENCES dispatch.units (id),
    property_company_id  text NOT NULL REFERENCES dispatch.units (id),
    project_gm_id        text REFERENCES dispatch.people (id),
    first_sale_on        date NOT NULL,        -- the desk opens (Art. 7)
    last_delivery_on     date,                 -- the desk closes six months later
    active               boolean NOT NULL DEFAULT true,
    first_version        integer NOT NULL REFERENCES dispatch.directory_versions (version),
    last_version         integer NOT NULL REFERENCES dispatch.directory_versions (version),
    removed_at           timestamptz
);

-- A specialist's assignment to a project's service desk; its start date drives
-- the six-month rotation notice (Art. 43). History is kept: an assignment that
-- leaves the file ends, a new start date is a new row.
CREATE TABLE dispatch.desk_assignments (
    project_id     text NOT NULL REFERENCES dispatch.projects (id),
    person_id      text NOT NULL REFERENCES dispatch.people (id),
    assigned_on    date NOT NULL,
    active         boolean NOT NULL DEFAULT true,
    first_version  integer NOT NULL REFERENCES dispatch.directory_versions (version),
    last_version   integer NOT NULL REFERENCES dispatch.directory_versions (version),
    ended_at       timestamptz,
    PRIMARY KEY (project_id, person_id, assigned_on)
);
CREATE INDEX desk_assignments_person ON dispatch.desk_assignments (person_id) WHERE active;
