"""Statements, round trips and client CPU per consumed event, against the
real database without the broker: the bare inbox, sla's engine (intake and
dispatch events through `SlaEngine.handle`) and penalty's consumers, in a
scratch database dropped at the end (issue 17, branch speed-consumers).

    PYTHONPATH=$PWD python benchmarks/consumer_events.py -n 400
    PYTHONPATH=<other checkout> python benchmarks/consumer_events.py   # before/after

(run as a file: `-m` would put the current directory's code first.)

`stmts` counts the statements a handler sends (not BEGIN/COMMIT), `rtrips`
the times psycopg waits for the server; CPU is `time.process_time` of this
process (psycopg, eventlet's hub, the handler's Python). The routed events
are parked (no order.signed before them): the parked path.
"""
import eventlet

eventlet.monkey_patch()

import shared  # noqa: E402,F401,I001  (psycopg wait function first)

import argparse  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
from unittest import mock  # noqa: E402
from zoneinfo import ZoneInfo  # noqa: E402

import psycopg  # noqa: E402

from shared.db import Database, admin_dsn  # noqa: E402
from shared.inbox import consume  # noqa: E402
from shared.migrate import migrate  # noqa: E402

COUNTS = {"statements": 0, "round_trips": 0}
_STATEMENTS = {"_execute_gen", "_exec_command", "_executemany_gen_pipeline",
               "_executemany_gen_no_pipeline"}
_SYNCS = {"_fetch_gen", "_sync_gen", "_exit_gen"}
_wait = psycopg.Connection.wait


def _counting_wait(self, gen, *args, **kwargs):
    name = getattr(getattr(gen, "gi_code", None), "co_name", "")
    COUNTS["statements"] += name in _STATEMENTS
    COUNTS["round_trips"] += self._pipeline is None or name in _SYNCS
    return _wait(self, gen, *args, **kwargs)


def measure(label, apply, n):
    for key in COUNTS:
        COUNTS[key] = 0
    cpu, wall = time.process_time(), time.monotonic()
    for i in range(n):
        apply(i)
    cpu, wall = time.process_time() - cpu, time.monotonic() - wall
    print(f"{label:30s} n={n:4d} cpu_ms/ev={1000 * cpu / n:6.2f} "
          f"wall_ms/ev={1000 * wall / n:6.2f} stmts/ev={COUNTS['statements'] / n:5.2f} "
          f"rtrips/ev={COUNTS['round_trips'] / n:5.2f}")


def envelope(event_type, data, occurred_at, complaint_id, producer="intake"):
    return json.loads(json.dumps({
        "event_id": str(uuid.uuid4()), "type": event_type, "version": 1,
        "occurred_at": occurred_at.isoformat(), "producer": producer, "region": "GZ",
        "complaint_id": complaint_id, "correlation_id": str(uuid.uuid4()), "data": data}))


def bench_inbox(db, n):
    events = [{"event_id": str(uuid.uuid4()), "type": "x"} for _ in range(n)]
    measure("inbox consume, no-op handler",
            lambda i: consume(db, "sla", "bench", events[i], lambda conn: 1), n)
    measure("inbox consume, redelivery",
            lambda i: consume(db, "sla", "bench", events[i], lambda conn: 1), n)


def bench_sla(db, n):
    from services.sla.outbox import BatchOutbox
    from services.sla.processing import SlaEngine
    from services.sla.rules import Settings
    from services.sla.tests.helpers import at, facts, routed

    engine = SlaEngine(db, BatchOutbox("sla", "sla", "GZ"), Settings())
    ids = [f"C-GZ-B{uuid.uuid4().hex[:6]}-{i:05d}" for i in range(n)]

    def events(event_type, state=None, at_=None, producer="intake", **extra):
        return [envelope(event_type, routed(at("10:40")) if state is None else json.loads(
            json.dumps(facts(state, complaint_id=c, **extra))), at_, c, producer) for c in ids]

    steps = [
        ("sla complaint.received", "sla.on_intake_event", events(
            "complaint.received", "order_drafted", at("10:00"), resolved_on_spot=False,
            signature_media_id=None)),
        ("sla order.submitted", "sla.on_intake_event", events(
            "order.submitted", "order_submitted", at("10:20"), first_submitted_at=at("10:20"),
            resubmitted=False)),
        ("sla order.signed", "sla.on_intake_event", events(
            "order.signed", "order_signed", at("10:30"), first_submitted_at=at("10:20"),
            reviewed_at=at("10:25"), signed_at=at("10:30"))),
    ]
    parked = events("complaint.routed", None, at("10:40"), "dispatch")
    steps += [("sla complaint.routed (parked)", "sla.on_dispatch_event", parked),
              ("sla routed redelivered", "sla.on_dispatch_event", parked)]
    for label, handler, batch in steps:
        measure(label, lambda i, b=batch, h=handler: engine.handle(b[i], h, at("10:50")), n)


def bench_penalty(db, n):
    from services.penalty import charging, projection
    from services.penalty.context import Penalty
    from services.penalty.rules import load_rulebook
    from services.sla.tests.helpers import at, facts
    from shared.outbox import Outbox

    zone = ZoneInfo("Asia/Shanghai")
    clock = mock.Mock(zone=zone)
    clock.now.return_value = at("10:50")
    ctx = Penalty(db, Outbox("penalty", "penalty", "GZ", zone), clock, load_rulebook(None))
    ids = [f"C-GZ-P{uuid.uuid4().hex[:6]}-{i:05d}" for i in range(n)]
    received = [envelope("complaint.received", json.loads(json.dumps(facts(
        complaint_id=c, resolved_on_spot=False, signature_media_id=None))), at("10:00"), c)
        for c in ids]
    met = [envelope("deadline.met", {
        "timer_id": str(uuid.uuid4()), "rule": "order_submit", "article": "8",
        "complaint_id": c, "person_id": "p01-spec-1", "role": "specialist",
        "due_at": at("10:30").isoformat(), "done_at": at("10:20").isoformat(),
        "order_round": 1, "late_seconds": 0}, at("10:20"), c, producer="sla") for c in ids]

    def handler(batch, name, old, new):
        """The branch's own consumer if this checkout has it, else main's."""
        def apply(i):
            event = batch[i]
            if hasattr(*new):
                getattr(*new)(ctx, name, event, at("10:50"))
            else:
                consume(db, "penalty", name, event,
                        lambda conn: getattr(*old)(ctx, conn, event, at("10:50")))
        return apply

    facts_handler = handler(received, "complaint.received",
                            (projection, "apply_intake_facts"),
                            (projection, "consume_intake_facts"))
    measure("penalty complaint.received", facts_handler, n)
    measure("penalty received redelivered", facts_handler, n)
    measure("penalty deadline.met", handler(met, "deadline.met", (charging, "apply_met"),
                                            (charging, "consume_deadline")), n)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn",
                        default="postgresql://postgres@127.0.0.1:5432/ccrm_consumer_events")
    parser.add_argument("-n", type=int, default=400, help="events of each kind")
    parser.add_argument("--only", default="inbox,sla,penalty")
    args = parser.parse_args()
    logging.disable(logging.WARNING)        # parked events log each
    psycopg.Connection.wait = _counting_wait
    migrate(args.dsn)
    db = Database(args.dsn, size=2)
    try:
        for name in args.only.split(","):
            {"inbox": bench_inbox, "sla": bench_sla, "penalty": bench_penalty}[name](db, args.n)
    finally:
        db.close()
        dbname = args.dsn.rsplit("/", 1)[1]
        with psycopg.connect(admin_dsn(args.dsn), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')


if __name__ == "__main__":
    main()
