-- The simulation clock's offset (SPEC §9): one row, read by every service.
CREATE TABLE IF NOT EXISTS clock.settings (
    id          smallint PRIMARY KEY CHECK (id = 1),
    offset_us   bigint NOT NULL DEFAULT 0,
    changed_at  timestamptz NOT NULL DEFAULT now(),
    changed_by  text
);
INSERT INTO clock.settings (id, offset_us) VALUES (1, 0) ON CONFLICT DO NOTHING;
