"""Outbox relay throughput next to raw kombu publishing with confirms.

    .venv/bin/python -m benchmarks.outbox_relay --events 5000

Both sides publish the same envelopes to the same broker with publisher
confirms, one message at a time; the relay also reads and marks the rows in
PostgreSQL. Runs in a scratch database and a throwaway vhost-free exchange.
"""
import argparse
import json
import time
from datetime import UTC, datetime

import shared  # noqa: F401  (psycopg wait function first)

# isort: split
import psycopg

from benchmarks.raw_limits import declare_scratch_queue, delete_scratch, publish_rate, purge_queue
from shared.db import Database, admin_dsn
from shared.migrate import migrate
from shared.outbox import EventPublisher, Outbox, relay_once

DATA = {"media_id": "m-bench", "kind": "photo", "stage": "before", "content_type": "image/jpeg",
        "size": 204800, "sha256": "ab" * 32, "uploaded_by": "bench",
        "complaint_id": "C-GZ-2026-000001"}


def fresh_database(dsn):
    name = dsn.rsplit("/", 1)[1]
    with psycopg.connect(admin_dsn(dsn), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    migrate(dsn, ["media"])


def fill_outbox(db, count):
    outbox = Outbox("media", "bench_media", "GZ")
    now = datetime.now(UTC)
    with db.transaction() as conn:
        for _ in range(count):
            outbox.add(conn, "media.stored", DATA, occurred_at=now)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/ccrm_bench")
    parser.add_argument("--amqp", default="pyamqp://guest:guest@127.0.0.1:5672/")
    args = parser.parse_args()

    fresh_database(args.dsn)
    db = Database(args.dsn, size=2)
    # A queue so messages are routed, then purged.
    declare_scratch_queue(args.amqp, "bench_media.events", "bench-outbox")

    publisher = EventPublisher(args.amqp, confirm_timeout=5)
    body = json.dumps({"data": DATA, "type": "media.stored", "padding": "x" * 200})
    raw = publish_rate(publisher, "bench_media.events", body, args.events)
    purge_queue(args.amqp, "bench-outbox")

    fill_outbox(db, args.events)
    started = time.perf_counter()
    published = 0
    while published < args.events:
        published += relay_once(db, "media", publisher, batch_size=500)
    relay = args.events / (time.perf_counter() - started)
    purge_queue(args.amqp, "bench-outbox")
    publisher.close()

    print("| events | raw kombu publish + confirm (events/s) | outbox relay (events/s)"
          " | relay / raw |")
    print("|---|---|---|---|")
    print(f"| {args.events} | {raw:,.0f} | {relay:,.0f} | {relay / raw:.0%} |")
    delete_scratch(args.amqp, "bench_media.events", "bench-outbox")


if __name__ == "__main__":
    main()
