"""Fault test: complaints driven through their whole life while services are
killed with SIGKILL, RabbitMQ and PostgreSQL are restarted, the network
between the services and their servers is slowed, stalled and cut, the
broker's disk alarm blocks publishers and the object store goes away; then a
reconciliation of what was sent against what the database, the store and a
subscriber saw. Every failure count must be zero.

    make fault-test                                     # every fault, 600 s (the full run)
    .venv/bin/python -m scripts.fault_test --duration 180 --interval 15 20 \
        --faults kill,broker,postgres,stall     # the short form CI runs

The test brings its own PostgreSQL cluster and RabbitMQ node on spare ports
(scripts/fault_servers.py; the machine's shared servers are never touched)
and its own TCP proxy (scripts/fault_proxy.py) between every service process
and each server. Two instances of every service run (`--instances`), each its
own `nameko run` process; the faults are scripts/fault_chaos.py's; the
simulation clock is advanced all the while, so deadlines fall due and fines
are charged during the faults. The report goes to stdout and to
var/fault/report.json; logs of every process to var/fault/log/.
"""
import argparse
import json
import signal
import sys
import threading
import time
import traceback
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from scripts.event_log import EventLog
from scripts.fault_chaos import FAULTS, Chaos, plan, wrong_answers
from scripts.fault_parts import (
    DEAD_LETTER_QUEUE,
    ClockDriver,
    Driver,
    Keeper,
    answers_during,
    hub_blocked_lines,
    orphan_replies,
    percentile,
    queue_depths,
    quiesce,
    store_keys,
)
from scripts.fault_proxy import Proxy
from scripts.fault_servers import OwnPostgres, OwnRabbit
from scripts.life import Gateways, People
from scripts.reconcile import outbox_rows, reconcile
from scripts.run_local import REPO_ROOT
from scripts.suite import Suite

START = "2026-11-02T09:00:00+08:00"      # a Monday morning: daily jobs fall due during the run


def fault_list(text):
    chosen = [f.strip() for f in text.split(",") if f.strip()]
    if chosen == ["all"]:
        return list(FAULTS)
    unknown = [f for f in chosen if f not in FAULTS]
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(f"faults are {', '.join(FAULTS)} or all; not {unknown}")
    return chosen


def parse(argv):
    parser = argparse.ArgumentParser(description="CCRM fault test (processes, servers, network).")
    parser.add_argument("--duration", type=float, default=600.0,
                        help="seconds of faults (default 600: every fault, PostgreSQL twice)")
    parser.add_argument("--interval", type=float, nargs=2, default=(15.0, 25.0),
                        metavar=("MIN", "MAX"), help="seconds between faults (default 15 25)")
    parser.add_argument("--faults", type=fault_list, default=list(FAULTS),
                        help=f"comma-separated, of {','.join(FAULTS)} (default all)")
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="complaints driven at once")
    parser.add_argument("--clock-step", default="PT5M", help="simulation clock advance")
    parser.add_argument("--clock-every", type=float, default=1.0,
                        help="seconds between clock advances")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--pg-port", type=int, default=5442,
                        help="the test's own PostgreSQL cluster (default 5442)")
    parser.add_argument("--amqp-port", type=int, default=5682,
                        help="the test's own RabbitMQ node (default 5682; management +10000, "
                             "distribution +20000)")
    parser.add_argument("--screenshot", action="store_true",
                        help="during the first PostgreSQL restart, screenshot the console "
                             "(var/artefacts/screenshots/fault-db-restart-*.png)")
    parser.add_argument("--var-dir", type=Path, default=REPO_ROOT / "var" / "fault")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse(argv)
    started = time.monotonic()
    run_id = datetime.now(UTC).strftime("%H%M%S")
    args.var_dir = args.var_dir.resolve()
    proxy = Proxy()
    suite = None
    events = keeper = chaos = driver = clock = gateways = None
    status = 1
    pg = rabbit = None
    try:
        pg = OwnPostgres(args.var_dir, args.pg_port)
        rabbit = OwnRabbit(args.var_dir, args.amqp_port, args.amqp_port + 10000,
                           args.amqp_port + 20000)
        suite = Suite(args.var_dir, instances=args.instances, pg_url=pg.url,
                      amqp_port=args.amqp_port, management_url=rabbit.management_url,
                      rabbit=rabbit, proxy=proxy)
        say = pg.say = rabbit.say = suite.say
        say(f"fault test: {args.instances} instances of {', '.join(suite.services)}; "
            f"{args.duration:.0f}s of faults ({', '.join(args.faults)}) every "
            f"{args.interval[0]:.0f}-{args.interval[1]:.0f}s")
        pg.start()
        rabbit.start()
        suite.prepare()
        # Bound before anything is published, like a group system subscribed for good.
        events = EventLog(suite.amqp_uri, [f"{s}.events" for s in suite.services],
                          "fault.subscriber", say=say)
        events.start()
        if not events.ready.wait(30):
            raise RuntimeError("the subscriber could not bind its queue")
        suite.start()
        people = People.load(suite.tokens_file)
        gateways = Gateways(suite.gateway_urls)
        admin = people.token(people.first("admin"))
        status_code, body = gateways.call("POST", "/api/admin/clock", admin,
                                          json_body={"now": START})
        if status_code != 200:
            raise RuntimeError(f"cannot set the clock: {status_code} {body}")
        with psycopg.connect(suite.owner_dsn, autocommit=True, row_factory=dict_row) as conn:
            # Set-up's events (directory.loaded) went out before the consumers'
            # queues existed; penalty catches up by RPC instead (not by its inbox).
            before_drive = {e for _, e, _, _ in outbox_rows(conn)}
        clock = ClockDriver(gateways, admin, args.clock_step, args.clock_every)
        driver = Driver(gateways, people, run_id, args.workers, say)
        lock = threading.Lock()
        chaos = Chaos(suite, pg, rabbit, proxy, plan(args.faults, suite.services, args.instances),
                      args.interval, args.seed, lock, say, suite.gateway_urls[-1],
                      people.token(people.first("specialist")))
        chaos.screenshot = args.screenshot
        keeper = Keeper(suite, lock, say)
        keeper.start()
        clock.start()
        driver.start()
        chaos.start()
        time.sleep(args.duration)
        chaos.stop()
        say("faults over: letting the complaints in flight finish")
        driver.stop(timeout=600)
        clock.stop()
        with psycopg.connect(suite.owner_dsn, autocommit=True, row_factory=dict_row) as conn:
            settled = quiesce(suite, events, conn, say)
            depths = queue_depths(suite)
            status_code, bindings = suite.management(
                "GET", f"/api/bindings/{urllib.parse.quote(suite.vhost, safe='')}")
            failures, figures, examples = reconcile(
                conn, accepted=driver.accepted, completed=driver.completed,
                failed=driver.failed, events=events.snapshot(), bindings=bindings,
                before_drive=before_drive,
                queue_depths={q: n for q, n in depths.items() if q != DEAD_LETTER_QUEUE},
                dead_letters=depths.get(DEAD_LETTER_QUEUE, 0),
                hub_blocked=hub_blocked_lines(suite.supervisor.log_dir), exited=keeper.exits,
                object_keys=store_keys(f"127.0.0.1:{suite.s3_port}"),
                wrong_answers=wrong_answers(chaos.answers))
        counts = {kind: chaos.count(kind) for kind in FAULTS}
        report = {
            "command": "python -m scripts.fault_test " + " ".join(argv or sys.argv[1:]),
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "duration_seconds": round(time.monotonic() - started),
            "fault_seconds": args.duration,
            "instances": args.instances,
            "settled": settled,
            "failures": failures,
            "figures": {
                **figures,
                "lives_started": driver.started,
                "fault_counts": counts,
                "unplanned_exits": keeper.exits,
                "faults": chaos.log,
                "answers_during_faults": chaos.answers,
                "gateway_answers_by_fault": answers_during(suite.supervisor.log_dir,
                                                           chaos.log),
                "console_during_db_restart": chaos.console,
                "http_retries": gateways.retries,
                "replies_to_killed_callers": orphan_replies(suite),
                "clock_advances": clock.advances,
                "subscriber_deliveries": events.deliveries,
                "subscriber_redelivered_flag": events.redelivered,
                "subscriber_repeated_event_ids": events.repeated,
                "subscriber_reconnects": events.reconnects,
                "step_seconds_p50_p99": {
                    step: [round(percentile(v, 50), 2), round(percentile(v, 99), 2)]
                    for step, v in driver.timings.by_step.items() if v},
            },
            "examples": examples,
            "chaos_error": chaos.error,
        }
        args.var_dir.mkdir(parents=True, exist_ok=True)
        (args.var_dir / "report.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        say(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        ok = settled and not any(failures.values()) and chaos.error is None
        missing = [kind for kind in args.faults if not counts[kind]]
        if missing:
            ok = False
            say(f"too few faults to prove anything: no {', '.join(missing)} happened "
                "(give a longer --duration or fewer --faults)")
        if not settled:
            say("the suite did not settle within 300 s after the faults (see the lines above)")
        say(f"fault test {'PASSED' if ok else 'FAILED'}: "
            + ", ".join(f"{k} {v}" for k, v in failures.items())
            + f"; {figures['complaints_recorded']} complaints, {figures['events_published']} "
            f"events, faults {counts}, {events.redelivered} redelivered, "
            f"{report['duration_seconds']}s")
        status = 0 if ok else 1
    except KeyboardInterrupt:
        print("interrupted: stopping everything (a fault under way is finished first)")
        status = 130
    except Exception:  # noqa: BLE001 - say why, stop everything
        print("fault test could not run:\n" + traceback.format_exc(), flush=True)
        status = 1
    finally:
        # A second Ctrl-C (the terminal's and make's both arrive) must not cut
        # the clean-up short and leave processes or servers behind.
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT,
                                                                         signal.SIGTERM)}
        if gateways is not None:
            gateways.patience = 0            # lives still running give up at once
        for part in (chaos, keeper, clock, events):
            if part is not None:
                part.stop()
        if driver is not None:
            driver.abandon()
        if suite is not None:
            suite.stop()
        proxy.stop()
        for server in (rabbit, pg):
            if server is not None:
                server.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status


if __name__ == "__main__":
    sys.exit(main())
