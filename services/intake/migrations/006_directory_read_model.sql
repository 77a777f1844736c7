-- intake's copy of the organisation directory, fed by dispatch's
-- directory.loaded (and, until the first one arrives, by one
-- directory_snapshot RPC): recording a complaint reads the project and the
-- centre's post holders here instead of asking dispatch (issue 17).
CREATE TABLE intake.directory_state (
    id          integer PRIMARY KEY CHECK (id = 1),
    version     integer NOT NULL,
    loaded_at   timestamptz NOT NULL
);

CREATE TABLE intake.directory_projects (
    id                  text PRIMARY KEY,
    name                text NOT NULL,
    region_company      text NOT NULL,
    property_company    text NOT NULL,
    active              boolean NOT NULL
);

CREATE TABLE intake.directory_people (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    roles       text[] NOT NULL,
    active      boolean NOT NULL
);

CREATE INDEX directory_people_roles ON intake.directory_people USING gin (roles);
