"""A micro-benchmark of intake's entrypoints on the real database (issue 17):
CPU ms (time.process_time), statements and round trips per call, for each
step of a complaint's life, through nameko's worker_factory (no broker; the
other services' RPC proxies are the unit tests' fakes).

    PYTHONPATH=$PWD .venv/bin/python -m services.intake.tests.stepbench \
        --dsn postgresql://postgres@127.0.0.1:5432/ccrm_intake_bench --lives 40

Its own database (created, migrated and dropped), so it collides with nothing.
"""
from __future__ import annotations

import argparse
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import eventlet

eventlet.monkey_patch()

import psycopg  # noqa: E402

import shared  # noqa: E402,F401  (psycopg wait function)
from services.intake.tests.counting import COUNTS, counting  # noqa: E402
from shared.db import Database, admin_dsn  # noqa: E402
from shared.migrate import migrate  # noqa: E402


def life(service: Any, measure: Callable[..., Any]) -> None:
    from services.intake.tests.helpers import DEPUTY, GM, SPECIALIST, STAFF, form
    from services.intake.tests.test_closure_consumers import applied, blocked, routed

    cid = measure("record_complaint", service.record_complaint, SPECIALIST, form())["id"]
    measure("submit_order", service.submit_order, SPECIALIST, cid)
    measure("review_order", service.review_order, DEPUTY, cid, "approve")
    measure("sign_order", service.sign_order, GM, cid, "approve")
    measure("on_complaint_routed", service.on_complaint_routed, routed(cid))
    measure("get_complaint", service.get_complaint, STAFF, cid)
    measure("check_access", service.check_access, STAFF, cid)
    measure("on_visit_blocked", service.on_visit_blocked, blocked(cid))
    measure("record_callback", service.record_callback, SPECIALIST, cid, {
        "callback_at": None, "outcome": "reached", "note": "已联系"})
    measure("on_closure_applied", service.on_closure_applied, applied(cid))
    measure("verify_closure", service.verify_closure, SPECIALIST, cid, satisfaction=5,
            comment="好")
    measure("review_closure", service.review_closure, DEPUTY, cid, "approve")
    measure("approve_closure", service.approve_closure, GM, cid, "approve")
    measure("get_complaint", service.get_complaint, STAFF, cid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/ccrm_intake_bench")
    parser.add_argument("--lives", type=int, default=40)
    args = parser.parse_args()
    name = args.dsn.rsplit("/", 1)[1]
    with psycopg.connect(admin_dsn(args.dsn), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    migrate(args.dsn, roles=False)
    from services.intake.tests.helpers import NOW
    from services.intake.tests.test_service_units import FakeMedia, make_service
    database = Database(args.dsn, size=4)
    service = make_service(database, FakeMedia())
    service.clock.set(NOW + timedelta(hours=3))
    cpu: dict[str, list[float]] = defaultdict(list)
    stmts: dict[str, list[int]] = defaultdict(list)
    trips: dict[str, list[int]] = defaultdict(list)

    def measure(label: str, call: Callable[..., Any], *a: Any, **kw: Any) -> Any:
        before = dict(COUNTS)
        began = time.process_time()
        result = call(*a, **kw)
        cpu[label].append((time.process_time() - began) * 1000)
        stmts[label].append(COUNTS["statements"] - before["statements"])
        trips[label].append(COUNTS["round_trips"] - before["round_trips"])
        return result

    with counting():
        for _ in range(3):                       # warm-up: prepared statements, caches
            life(service, lambda label, call, *a, **kw: call(*a, **kw))
        for _ in range(args.lives):
            life(service, measure)
    total = 0.0
    print(f"{'entrypoint':22} {'cpu ms':>7} {'stmts':>6} {'trips':>6}")
    for label in cpu:
        mean = sum(cpu[label]) / len(cpu[label])
        total += mean * len(cpu[label]) / args.lives
        print(f"{label:22} {mean:7.2f} {sum(stmts[label]) / len(stmts[label]):6.1f} "
              f"{sum(trips[label]) / len(trips[label]):6.1f}")
    print(f"{'a whole life':22} {total:7.2f}")
    database.close()
    with psycopg.connect(admin_dsn(args.dsn), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
