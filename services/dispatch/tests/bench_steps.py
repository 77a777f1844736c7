"""Micro-benchmark of dispatch's busiest entrypoints (issue 17 "speed"): the
statements, round trips and client CPU ms (time.process_time) of one call,
through the real worker on a real database (fake media, as test_service_units).

    python -m services.dispatch.tests.bench_steps [--complaints N] [--dsn DSN]

Creates (and drops) its own database `<dsn>_bench_<pid>`; never touches another."""
from __future__ import annotations

import warnings

warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import os  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from datetime import timedelta  # noqa: E402

import psycopg  # noqa: E402
from nameko.testing.services import worker_factory  # noqa: E402

from services.dispatch.load_directory import load_organisation  # noqa: E402
from services.dispatch.service import DispatchService  # noqa: E402
from services.dispatch.tests.casework import NOW, TABLE, envelope_body, facts_data  # noqa: E402
from services.dispatch.tests.conftest import DEMO_FILE  # noqa: E402
from services.dispatch.tests.statements import CountingDatabase  # noqa: E402
from services.dispatch.tests.test_service_units import HEAD, FakeMediaProxy  # noqa: E402
from shared.clock import FixedClock  # noqa: E402
from shared.db import admin_dsn  # noqa: E402
from shared.migrate import migrate  # noqa: E402
from shared.outbox import Outbox  # noqa: E402


def one(worker, media, measure, n: int) -> None:
    """One complaint's life in dispatch: routed, visited, progressed, closed, viewed."""
    cid = f"C-GZ-2026-{n:06d}"
    body = envelope_body("order.signed", dict(facts_data(complaint_id=cid),
                                              department_overridden=False), cid)
    measure("on_order_signed", lambda: worker.on_order_signed(body))
    signature = media.add(f"M-GZ-{n:032x}", "signature")
    photo = media.add(f"M-GZ-{n + 10**6:032x}", "photo")
    measure("record_visit", lambda: worker.record_visit(HEAD, cid, {
        "outcome": "done", "visited_at": NOW.isoformat(), "plan": "维修",
        "agreed_completion_at": (NOW + timedelta(days=1)).isoformat(),
        "customer_signature_media_id": signature, "photo_media_ids": [photo]},
        request_key=f"visit-{n}"))
    measure("record_progress", lambda: worker.record_progress(HEAD, cid, "已订购材料"))
    closing = media.add(f"M-GZ-{n + 2 * 10**6:032x}", "signature")
    measure("apply_closure", lambda: worker.apply_closure(HEAD, cid, [], closing,
                                                          request_key=f"close-{n}"))
    measure("get_complaint_view", lambda: worker.get_complaint_view(cid, HEAD))
    measure("get_complaint_view(no actor)", lambda: worker.get_complaint_view(cid))


def run(dsn: str, complaints: int, show: bool = False) -> dict[str, dict[str, float]]:
    db = CountingDatabase(dsn, size=4)
    load_organisation(db, DEMO_FILE, now=NOW, outbox=Outbox("dispatch", "dispatch", "GZ"))
    media = FakeMediaProxy()
    worker = worker_factory(DispatchService, db=db, clock=FixedClock(NOW),
                            outbox=Outbox("dispatch", "dispatch", "GZ"), routing_table=TABLE,
                            media=media, config={"RPC_TIMEOUT": 2})
    took: dict[str, list[tuple[float, int, int]]] = defaultdict(list)

    last = {"n": 0}

    def measure(name, call):
        db.log.clear()
        began = time.process_time()
        call()
        took[name].append(((time.process_time() - began) * 1000, len(db.log.statements),
                           db.log.round_trips))
        if show and last["n"] == complaints:
            print(f"-- {name}", *db.log.statements, sep="\n   ")

    for n in range(1, complaints + 1):
        last["n"] = n
        one(worker, media, measure, n)
    db.close()
    skip = min(5, complaints // 4)  # warm-up: first calls prepare statements
    return {name: {"cpu_ms": statistics.median(t[0] for t in rows[skip:]),
                   "statements": statistics.median(t[1] for t in rows[skip:]),
                   "round_trips": statistics.median(t[2] for t in rows[skip:])}
            for name, rows in took.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--complaints", type=int, default=60)
    parser.add_argument("--show", action="store_true", help="print the last calls' SQL")
    parser.add_argument("--dsn", default=os.environ.get(
        "CCRM_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/ccrm_test"))
    args = parser.parse_args()
    dsn = f"{args.dsn}_bench_{os.getpid()}"
    name = dsn.rsplit("/", 1)[1]
    with psycopg.connect(admin_dsn(dsn), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        migrate(dsn)
        results = run(dsn, args.complaints, args.show)
    finally:
        with psycopg.connect(admin_dsn(dsn), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"{'call':32} {'cpu ms':>8} {'stmts':>6} {'trips':>6}  (median of {args.complaints})")
    for call, row in results.items():
        print(f"{call:32} {row['cpu_ms']:8.2f} {row['statements']:6.0f} {row['round_trips']:6.0f}")


if __name__ == "__main__":
    main()
