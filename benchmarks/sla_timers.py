"""The sla firing loop under load, next to the machine's raw insert rates.

    .venv/bin/python -m benchmarks.sla_timers --armed 1000000 --rate 1000 --seconds 30

1. Raw rates of this machine and database: COPY of the filler rows into
   sla.timers (bulk), and one-row INSERT transactions into a plain table
   (what one commit per event costs).
2. Arming rate: complaints taken from `complaint.received` to routed through
   the engine's event path (inbox, lock, rules, timers, outbox events, SMS),
   one transaction per event, as the consumer runs them.
3. Firing lag: `--armed` timers sit in sla.timers (due in the weeks ahead),
   and `--rate` per second fall due for `--seconds`; the real SlaService runs
   in a nameko container (its 0.2 s tick, outbox relay publishing to RabbitMQ,
   SMS loop) on the system clock. Lag = when the row was fired (database
   clock_timestamp() at the update) - its due time: p50, p99, max.

Runs in a scratch database (`--dsn`, dropped and created) and a scratch
vhost (created and deleted through the management API, `--rabbit-api`); the
service's events go to `sla.events` there with nothing bound.
Prints a markdown table for docs/benchmarks.md.
"""
import warnings

warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402
from urllib.parse import urlsplit, urlunsplit  # noqa: E402

import shared  # noqa: E402,F401  (psycopg wait function first)

# isort: split
import psycopg  # noqa: E402
import requests  # noqa: E402
from nameko.containers import ServiceContainer  # noqa: E402

from services.sla.outbox import BatchOutbox  # noqa: E402
from services.sla.processing import SlaEngine  # noqa: E402
from services.sla.rules import Settings  # noqa: E402
from services.sla.service import SlaService  # noqa: E402
from shared.config import REPO_ROOT, load_config  # noqa: E402
from shared.db import Database, admin_dsn  # noqa: E402
from shared.migrate import migrate  # noqa: E402

HANDLER = {"person_id": "pcgz-head", "name": "物业公司一把手", "mobile": "13800000011"}


def fresh_database(dsn):
    name = dsn.rsplit("/", 1)[1]
    with psycopg.connect(admin_dsn(dsn), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    migrate(dsn, ["clock", "sla"])


# -- 1. raw rates -------------------------------------------------------------------------

def copy_timers(dsn, rows):
    """COPY rows (key, rule, article, complaint_id, due_at) into sla.timers; rows/s."""
    buffer = io.StringIO()
    armed = datetime.now(UTC).isoformat()
    for key, rule, article, complaint_id, due_at in rows:
        buffer.write(f"{uuid.uuid4()}\t{key}\t{rule}\t{article}\t{complaint_id or chr(92) + 'N'}"
                     f"\t{due_at.isoformat()}\tarmed\t{armed}\t1\n")
    buffer.seek(0)
    started = time.perf_counter()
    with psycopg.connect(dsn) as conn:
        with conn.cursor().copy(
                "COPY sla.timers (id, key, rule, article, complaint_id, due_at, state, armed_at, "
                "order_round) FROM STDIN") as copy:
            while chunk := buffer.read(1 << 20):
                copy.write(chunk)
    return len(rows) / (time.perf_counter() - started)


def single_row_inserts(dsn, count):
    """One INSERT per transaction into a plain table with a unique key: commits/s."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS public.raw_inserts (id uuid PRIMARY KEY, "
                     "key text UNIQUE, due_at timestamptz, body jsonb)")
        started = time.perf_counter()
        for n in range(count):
            with conn.transaction():
                conn.execute("INSERT INTO public.raw_inserts VALUES (%s, %s, now(), %s)",
                             (uuid.uuid4(), f"raw-{n}", json.dumps({"n": n})))
        return count / (time.perf_counter() - started)


# -- 2. arming through the event path ------------------------------------------------------

def envelope(event_type, data, occurred_at, complaint_id, producer):
    return json.loads(json.dumps({
        "event_id": str(uuid.uuid4()), "type": event_type, "version": 1,
        "occurred_at": occurred_at.isoformat(), "producer": producer, "region": "GZ",
        "complaint_id": complaint_id, "correlation_id": str(uuid.uuid4()), "data": data},
        default=str))


def complaint_events(cid, t0):
    """received, submitted, reviewed, signed (intake) and routed (dispatch)."""
    def iso(value):
        return value.isoformat() if value else None

    s, r, g = t0 + timedelta(minutes=20), t0 + timedelta(minutes=40), t0 + timedelta(minutes=50)
    spec = {"person_id": "spec-1", "role": "specialist", "from": iso(t0), "to": iso(s)}
    deputy = {"person_id": "deputy", "role": "centre_deputy_gm", "from": iso(s), "to": iso(r)}
    gm = {"person_id": "gm", "role": "centre_gm", "from": iso(r), "to": iso(g)}

    def facts(state, submitted=None, reviewed=None, signed=None, holders=()):
        return {"complaint_id": cid, "project_id": "GZ-P01", "category": "maintenance_repair",
                "room": "3-2-1801", "state": state, "order_round": 1, "specialist_id": "spec-1",
                "round_started_at": iso(t0), "contact_ended_at": iso(t0),
                "requested_completion_at": iso(t0 + timedelta(days=7)),
                "first_submitted_at": iso(submitted), "signed_at": iso(signed),
                "reviewed_at": iso(reviewed), "holders": list(holders)}
    return [
        envelope("complaint.received", dict(facts("order_drafted", holders=[dict(spec, to=None)]),
                                            resolved_on_spot=False), t0, cid, "intake"),
        envelope("order.submitted", facts("order_submitted", s, holders=[spec, dict(
            deputy, to=None)]), s, cid, "intake"),
        envelope("order.reviewed", facts("order_reviewed", s, r, holders=[spec, deputy, dict(
            gm, to=None)]), r, cid, "intake"),
        envelope("order.signed", facts("order_signed", s, r, g, holders=[spec, deputy, gm]),
                 g, cid, "intake"),
        envelope("complaint.routed", {
            "order_round": 1, "handler": HANDLER, "leaders": [], "chairman": HANDLER,
            "department": "property", "major": False, "signed_at": iso(g),
            "requested_completion_at": iso(t0 + timedelta(days=7)), "routed_at": iso(g)},
            g, cid, "dispatch"),
    ]


def arming_rate(dsn, complaints, concurrency=1):
    """Each complaint's events in order; `concurrency` complaints at a time
    (the consumer runs up to max_workers events at once)."""
    db = Database(dsn, size=max(2, concurrency))
    engine = SlaEngine(db, BatchOutbox("sla", "sla", "GZ"), Settings())
    t0 = datetime.now(UTC) + timedelta(days=60)   # nothing falls due meanwhile
    batches = [complaint_events(f"C-ARM{concurrency}-{n:06d}", t0) for n in range(complaints)]
    with psycopg.connect(dsn) as conn:
        before = conn.execute("SELECT count(*) FROM sla.timers").fetchone()[0]
    def one_complaint(events):
        for event in events:     # handled a moment after it happened, as a consumer does
            engine.handle(event, "bench", datetime.fromisoformat(event["occurred_at"])
                          + timedelta(milliseconds=50))

    started = time.perf_counter()
    list(eventlet.GreenPool(concurrency).imap(one_complaint, batches))
    elapsed = time.perf_counter() - started
    with psycopg.connect(dsn) as conn:
        armed = conn.execute("SELECT count(*) FROM sla.timers").fetchone()[0] - before
        conn.execute("DELETE FROM sla.timers WHERE complaint_id LIKE 'C-ARM%'")
        conn.execute("DELETE FROM sla.outbox")
        conn.execute("DELETE FROM sla.notifications")
    db.close()
    return armed / elapsed, complaints * 5 / elapsed, armed


# -- 3. firing lag -------------------------------------------------------------------------

def seed_due_stream(dsn, rate, seconds, start):
    """`rate` x `seconds` complaints, each with one `plan` timer, due evenly
    from `start` on; the complaints are signed and routed."""
    count = rate * seconds
    with psycopg.connect(dsn) as conn:
        with conn.cursor().copy(
                "COPY sla.complaints (id, project_id, intake_state, order_round, routed_at, "
                "routed_signed_at, signed_at, handler, updated_at) FROM STDIN") as copy:
            signed = (start - timedelta(hours=1)).isoformat()
            handler = json.dumps(HANDLER, ensure_ascii=False)
            for n in range(count):
                copy.write_row((f"C-DUE-{n:07d}", "GZ-P01", "order_signed", 1, signed, signed,
                                signed, handler, signed))
    rows = [(f"C-DUE-{n:07d}:r1:plan", "plan", "22, 35", f"C-DUE-{n:07d}",
             start + timedelta(seconds=n / rate)) for n in range(count)]
    return copy_timers(dsn, rows)


class ScratchVhost:
    """A vhost of its own (RabbitMQ management API), so the service's queues
    never take messages meant for a deployment on the broker's other vhosts."""

    def __init__(self, amqp, api):
        self.name = f"ccrm-bench-sla-{uuid.uuid4().hex[:8]}"
        self.api = api.rstrip("/")
        parts = urlsplit(amqp)
        self.user = parts.username or "guest"
        self.uri = urlunsplit(parts._replace(path="/" + self.name))

    def __enter__(self):
        requests.put(f"{self.api}/api/vhosts/{self.name}", timeout=10).raise_for_status()
        requests.put(f"{self.api}/api/permissions/{self.name}/{self.user}", timeout=10,
                     json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
        return self

    def __exit__(self, *exc):
        requests.delete(f"{self.api}/api/vhosts/{self.name}", timeout=10)


def run_service(dsn, amqp_uri, seconds, start):
    config = load_config()
    config.update({"DATABASE_URL": dsn, "SIMULATION": False, "AMQP_URI": amqp_uri,
                   "SMS": {"provider": "record"}, "max_workers": 10})
    container = ServiceContainer(SlaService, config)
    container.start()
    time.sleep(max(0.0, (start - datetime.now(UTC)).total_seconds()) + seconds + 3)
    container.stop()


def lag_stats(dsn):
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            """SELECT count(*) FILTER (WHERE state = 'missed') AS fired,
                      count(*) FILTER (WHERE state = 'armed') AS left_armed,
                      percentile_cont(0.5) WITHIN GROUP (ORDER BY lag) AS p50,
                      percentile_cont(0.99) WITHIN GROUP (ORDER BY lag) AS p99,
                      max(lag) AS max
               FROM (SELECT state, extract(epoch FROM fired_wall_at - due_at) AS lag
                     FROM sla.timers WHERE complaint_id LIKE 'C-DUE-%') t""").fetchone()
        claim_plan = conn.execute(
            """EXPLAIN SELECT id FROM sla.timers WHERE state = 'armed' AND due_at <= now()
               ORDER BY due_at LIMIT 500 FOR UPDATE SKIP LOCKED""").fetchall()
    return row, "\n".join(r[0] for r in claim_plan)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--armed", type=int, default=1_000_000,
                        help="timers armed in the table, due in the weeks ahead")
    parser.add_argument("--rate", type=int, default=1000, help="timers falling due per second")
    parser.add_argument("--seconds", type=int, default=30, help="how long they fall due")
    parser.add_argument("--arm-complaints", type=int, default=1000,
                        help="complaints taken through the event path to measure arming")
    parser.add_argument("--arm-concurrency", type=int, default=8,
                        help="events handled at once, as the consumer's workers do")
    parser.add_argument("--raw-inserts", type=int, default=5000)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/ccrm_bench_sla")
    parser.add_argument("--amqp", default="pyamqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--rabbit-api", default="http://guest:guest@127.0.0.1:15672",
                        help="management API: the run gets a vhost of its own")
    parser.add_argument("--processes", type=int, default=1,
                        help="sla instances (processes) firing the same table")
    parser.add_argument("--serve", metavar="START",
                        help=argparse.SUPPRESS)   # internal: one more instance, from START on
    args = parser.parse_args()
    if args.serve:
        run_service(args.dsn, args.amqp, args.seconds, datetime.fromisoformat(args.serve))
        return

    fresh_database(args.dsn)
    now = datetime.now(UTC)
    filler = [(f"filler-{n}", "systemic_measures", "42", None,
               now + timedelta(days=7, seconds=n % (30 * 86400))) for n in range(args.armed)]
    copy_rate = copy_timers(args.dsn, filler)
    del filler
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE sla.timers")
    insert_rate = single_row_inserts(args.dsn, args.raw_inserts)
    arming = [(n, *arming_rate(args.dsn, args.arm_complaints, n))
              for n in sorted({1, args.arm_concurrency})]

    start = datetime.now(UTC) + timedelta(seconds=15)
    seed_due_stream(args.dsn, args.rate, args.seconds, start)
    with psycopg.connect(args.dsn, autocommit=True) as conn:
        conn.execute("ANALYZE sla.timers")
        total = conn.execute("SELECT count(*) FROM sla.timers WHERE state = 'armed'").fetchone()[0]
    with ScratchVhost(args.amqp, args.rabbit_api) as vhost:
        others = [subprocess.Popen([sys.executable, "-m", "benchmarks.sla_timers", "--serve",
                                    start.isoformat(), "--dsn", args.dsn, "--amqp", vhost.uri,
                                    "--seconds", str(args.seconds)], cwd=REPO_ROOT)
                  for _ in range(args.processes - 1)]
        run_service(args.dsn, vhost.uri, args.seconds, start)
        for other in others:
            other.wait(timeout=120)
    stats, plan = lag_stats(args.dsn)

    print(f"armed timers in the table while firing: {total:,}; sla processes: {args.processes}")
    print(f"claim query plan:\n{plan}\n")
    print("| measure | result |")
    print("|---|---|")
    print(f"| raw COPY into sla.timers | {copy_rate:,.0f} rows/s |")
    print(f"| raw one-row INSERT transactions | {insert_rate:,.0f} commits/s |")
    for concurrency, timers_per_s, events_per_s, armed in arming:
        print(f"| arming through the event path ({armed:,} timers, one transaction per event, "
              f"{concurrency} at a time) | {timers_per_s:,.0f} timers/s "
              f"({events_per_s:,.0f} events/s) |")
    print(f"| timers falling due | {args.rate:,}/s for {args.seconds} s "
          f"({args.rate * args.seconds:,}) |")
    print(f"| fired / left armed | {stats[0]:,} / {stats[1]:,} |")
    print(f"| firing lag p50 / p99 / max | {stats[2]:.3f} s / {stats[3]:.3f} s / "
          f"{stats[4]:.3f} s |")


if __name__ == "__main__":
    main()
