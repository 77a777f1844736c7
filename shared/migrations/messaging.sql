-- Outbox and inbox of one service schema (applied by shared.migrate as
-- version 000 of every service schema; {schema} is replaced).
CREATE TABLE IF NOT EXISTS {schema}.outbox (
    id            bigserial PRIMARY KEY,
    event_id      uuid NOT NULL UNIQUE,
    exchange      text NOT NULL,
    routing_key   text NOT NULL,
    body          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    published_at  timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished ON {schema}.outbox (id) WHERE published_at IS NULL;

CREATE TABLE IF NOT EXISTS {schema}.inbox (
    handler      text NOT NULL,
    event_id     uuid NOT NULL,
    event_type   text,
    received_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (handler, event_id)
);
