"""The raw limits the benchmarks stand their figures next to, measured in the
same run: PostgreSQL's own single-row INSERT rate (pgbench) and the broker's
own publish-with-confirm rate (kombu, one persistent message at a time).

Used by benchmarks.complaint_intake, benchmarks.outbox_relay and
benchmarks.complaint_life.
"""
import json
import os
import re
import subprocess
import tempfile
import time
import uuid

import kombu

import shared  # noqa: F401  (psycopg wait function, as every service)
from shared.outbox import EventPublisher

PG_ARGS = ("-h", "127.0.0.1", "-U", "postgres")
# No "database does not exist, skipping" notices in the benchmarks' output.
PG_ENV = {**os.environ, "PGOPTIONS": "-c client_min_messages=warning"}


def _run(argv):
    """Run a PostgreSQL client; its own words in the exception if it fails."""
    done = subprocess.run(argv, capture_output=True, text=True, env=PG_ENV)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:1] + argv[-1:])} failed ({done.returncode}): "
                           f"{(done.stderr or done.stdout).strip()[-800:]}")
    return done.stdout


def pgbench_insert_rate(concurrency, seconds=10, database="ccrm_pgbench"):
    """pgbench's single-row INSERT transactions/s on a scratch table in a
    scratch database (dropped afterwards)."""
    dsn = list(PG_ARGS)
    _run(["psql", *dsn, "-qc", f'DROP DATABASE IF EXISTS "{database}"'])
    _run(["psql", *dsn, "-qc", f'CREATE DATABASE "{database}"'])
    script_path = None
    try:
        _run(["psql", *dsn, "-d", database, "-qc",
              "CREATE TABLE t (id bigserial PRIMARY KEY, room text, demand text, at timestamptz)"])
        with tempfile.NamedTemporaryFile("w", suffix=".sql", delete=False) as script:
            script.write("INSERT INTO t (room, demand, at) VALUES ('1-1201', 'bench', now());\n")
            script_path = script.name
        out = _run(["pgbench", *dsn, "-n", "-c", str(concurrency), "-j", "2",
                    "-T", str(int(seconds)), "-f", script_path, database])
    finally:
        if script_path:
            os.unlink(script_path)
        _run(["psql", *dsn, "-qc", f'DROP DATABASE IF EXISTS "{database}"'])
    return float(re.search(r"tps = ([\d.]+)", out).group(1))


def declare_scratch_queue(amqp_uri, exchange, queue):
    """A queue bound to `exchange` (so published messages are routed and stored)."""
    with kombu.Connection(amqp_uri) as conn:
        bound = kombu.Queue(queue, kombu.Exchange(exchange, "topic", durable=True),
                            routing_key="#", durable=False)
        bound(conn.channel()).declare()


def purge_queue(amqp_uri, queue):
    with kombu.Connection(amqp_uri) as conn:
        conn.default_channel.queue_purge(queue)


def delete_scratch(amqp_uri, exchange, queue):
    with kombu.Connection(amqp_uri) as conn:
        conn.default_channel.queue_delete(queue)
        conn.default_channel.exchange_delete(exchange)


def publish_rate(publisher, exchange, body, count, routing_key="media.stored"):
    """Messages/s of `publisher.publish`, one at a time, each waiting for its confirm."""
    publisher.publish(exchange, routing_key, body, "warmup")
    started = time.perf_counter()
    for n in range(count):
        publisher.publish(exchange, routing_key, body, str(n))
    return count / (time.perf_counter() - started)


def raw_publish_rate(amqp_uri, count=3000):
    """Raw kombu publish + confirm messages/s into a throwaway exchange and queue
    of the broker at `amqp_uri` (removed afterwards)."""
    suffix = uuid.uuid4().hex[:6]
    exchange, queue = f"bench-raw-{suffix}.events", f"bench-raw-{suffix}"
    declare_scratch_queue(amqp_uri, exchange, queue)
    publisher = EventPublisher(amqp_uri, confirm_timeout=5)
    body = json.dumps({"type": "media.stored", "padding": "x" * 400})
    try:
        return publish_rate(publisher, exchange, body, count)
    finally:
        publisher.close()
        delete_scratch(amqp_uri, exchange, queue)
