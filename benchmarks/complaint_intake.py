"""Complaints recorded per second through the gateway, until each
`complaint.received` reaches a subscriber, next to pgbench's single-row insert
rate measured in the same run.

    make run    # in another terminal
    .venv/bin/python -m benchmarks.complaint_intake --count 1000 --concurrency 16
    .venv/bin/python -m benchmarks.complaint_intake --suite --count 2000 --concurrency 16
    .venv/bin/python -m benchmarks.complaint_intake --suite --instances 2 ...

`--suite` starts a private suite instead (scripts/suite.py: `--instances` of
every service, database `ccrm_recbench`, vhost `ccrm-recbench`, gateways on
8160+, S3 on 9160, metrics on 9360+; never `make run`'s ports), spreads the
clients over its gateways and prints the CPU each process group spent per
recording (benchmarks.load_cpu: the suite's processes from /proc, PostgreSQL,
RabbitMQ): the figure that stays comparable on a shared machine. With
`--drain` both CPU readings wait until the suite has done all the work of the
recordings before them (every queue of its vhost empty, every outbox
published): a consumer that lags behind (sla on 2 busy cores) is then charged
all its work, not what it got through by the time the last
`complaint.received` was seen.

Records `phone`-channel complaints (no desk signature, so each also creates a
signing link) as a specialist of the demo organisation, through
`POST /api/complaints`. Latency is per HTTP call; throughput is from the first
request to the last `complaint.received` seen on `intake.events`.
"""
import argparse
import json
import os
import statistics
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import kombu
import requests

from benchmarks.load_cpu import cpu_between, describe_per_unit
from benchmarks.load_driver import suite_cpu_probe
from benchmarks.raw_limits import pgbench_insert_rate


def specialist(tokens_path):
    tokens = json.load(open(tokens_path, encoding="utf-8"))
    person = next(t for t in tokens if "specialist" in t["roles"] and t["project_ids"])
    return person["token"], person["project_ids"][0]


def admin_token(tokens_path):
    tokens = json.load(open(tokens_path, encoding="utf-8"))
    return next(t["token"] for t in tokens if "admin" in t["roles"])


class Subscriber(threading.Thread):
    """Counts complaint.received events of this run on intake.events."""

    def __init__(self, amqp_uri, room_prefix):
        super().__init__(daemon=True)
        self.amqp_uri, self.room_prefix = amqp_uri, room_prefix
        self.seen = {}
        self.ready = threading.Event()
        self.stop = False

    def run(self):
        with kombu.Connection(self.amqp_uri) as conn:
            queue = kombu.Queue(f"bench-intake-{uuid.uuid4().hex[:6]}",
                                kombu.Exchange("intake.events", "topic", durable=True),
                                routing_key="complaint.received", auto_delete=True)

            def on_message(body, message):
                event = json.loads(body) if isinstance(body, (str, bytes)) else body
                if str(event["data"].get("room", "")).startswith(self.room_prefix):
                    self.seen[event["complaint_id"]] = time.perf_counter()
                message.ack()

            with conn.Consumer(queue, callbacks=[on_message], accept=["json"]):
                self.ready.set()
                while not self.stop:
                    try:
                        conn.drain_events(timeout=0.5)
                    except TimeoutError:
                        pass


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description="Complaints recorded per second through the gateway.")
    parser.add_argument("--gateway", default="http://127.0.0.1:8000")
    parser.add_argument("--tokens", default="var/demo-tokens.json")
    parser.add_argument("--amqp", default="pyamqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--warmup", type=int, default=50, help="uncounted recordings first")
    parser.add_argument("--suite", action="store_true",
                        help="start a private suite and measure against it (module doc)")
    parser.add_argument("--instances", type=int, default=1, help="with --suite: of every service")
    parser.add_argument("--drain", action="store_true",
                        help="with --suite: CPU read once the suite is idle (module doc)")
    return parser.parse_args(argv)


def start_suite(args):
    """A private suite (module doc); points args at it."""
    from scripts.suite import Suite

    root = Path(__file__).resolve().parent.parent
    suite = Suite(root / "var" / "recbench", instances=args.instances, database="ccrm_recbench",
                  vhost="ccrm-recbench", gateway_port=8160, s3_port=9160, metrics_port=9360,
                  out=open(os.devnull, "w", encoding="utf-8"))
    suite.prepare()
    suite.start()
    args.tokens, args.amqp = str(suite.tokens_file), suite.amqp_uri
    args.gateways = suite.gateway_urls
    return suite


def main(argv=None):
    args = parse_args(argv)
    args.gateways = [args.gateway]
    suite = start_suite(args) if args.suite else None
    try:
        return measure(args, suite)
    finally:
        if suite is not None:
            suite.discard()


def measure(args, suite):
    token, project_id = specialist(args.tokens)
    clock = requests.get(f"{args.gateways[0]}/api/admin/clock",
                         headers={"Authorization": f"Bearer {admin_token(args.tokens)}"}).json()
    now = datetime.fromisoformat(clock["now"])
    prefix = f"B{uuid.uuid4().hex[:5]}-"
    subscriber = Subscriber(args.amqp, prefix)
    subscriber.start()
    subscriber.ready.wait(10)

    def form(n):
        return {"project_id": project_id, "room": f"{prefix}{n}", "customer_name": "压测客户",
                "customer_phone": "13800138000", "channel": "phone", "demand": "卫生间渗水，需维修",
                "category": "maintenance_repair", "resolved_on_spot": False,
                "requested_completion_at": (now + timedelta(days=7)).isoformat(),
                "contact_ended_at": (now - timedelta(minutes=5)).isoformat()}

    session_local = threading.local()

    def record(n):
        session = getattr(session_local, "s", None) or requests.Session()
        session_local.s = session
        gateway = args.gateways[n % len(args.gateways)]
        started = time.perf_counter()
        response = session.post(f"{gateway}/api/complaints", json=form(n),
                                headers={"Authorization": f"Bearer {token}"}, timeout=30)
        return response.status_code, time.perf_counter() - started

    with ThreadPoolExecutor(args.concurrency) as pool:
        warm = list(pool.map(record, range(-args.warmup, 0)))
        wait_for_events(subscriber, args.warmup)
        if any(status != 201 for status, _ in warm):
            print(f"warm-up: {sum(1 for status, _ in warm if status != 201)} of {args.warmup} "
                  "recordings refused")
        subscriber.seen.clear()
        if suite and args.drain:
            drain(suite)
        probe = suite_cpu_probe(suite) if suite else None
        cpu_before = probe.snapshot() if probe else None
        started = time.perf_counter()
        results = list(pool.map(record, range(args.count)))
    http_done = time.perf_counter()
    wait_for_events(subscriber, args.count)
    if suite and args.drain:
        drain(suite)
    cpu = cpu_between(cpu_before, probe.snapshot(), lives=len(subscriber.seen)) if probe else None
    subscriber.stop = True
    last_event = max(subscriber.seen.values()) if subscriber.seen else http_done

    ok = sum(1 for status, _ in results if status == 201)
    latencies = sorted(ms for _, ms in results)
    p = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000  # noqa: E731
    rate = len(subscriber.seen) / (last_event - started)
    pg_rate = pgbench_insert_rate(args.concurrency)
    print("| complaints | concurrency | 201 | events seen | recorded/s (to event) | p50 ms "
          "| p99 ms | pgbench single-row INSERT/s | ratio |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {args.count} | {args.concurrency} | {ok} | {len(subscriber.seen)} | {rate:,.0f} | "
          f"{p(0.5):.0f} | {p(0.99):.0f} | {pg_rate:,.0f} | {rate / pg_rate:.1%} |")
    print(f"(mean {statistics.mean(latencies) * 1000:.0f} ms; HTTP calls done in "
          f"{http_done - started:.1f} s; run at {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; "
          f"load average {' / '.join(f'{x:.2f}' for x in os.getloadavg())})")
    if cpu:
        print("CPU ms per recording (benchmarks.load_cpu; RabbitMQ is the whole broker): "
              + describe_per_unit(cpu))
    return 0 if ok == args.count and len(subscriber.seen) == args.count else 1


def drain(suite, seconds=300.0, pause=6.0):
    """Until the suite is idle: every queue of its vhost empty in two reads of
    RabbitMQ's management API `pause` s apart (it refreshes them every 5 s)
    and no outbox row unpublished (shared.outbox.outbox_backlog)."""
    from benchmarks.load_probes import queues
    from shared.db import Database
    from shared.outbox import outbox_backlog

    database = Database(suite.owner_dsn, size=1)
    try:
        with database.connection() as conn:
            schemas = [row["table_schema"] for row in conn.execute(
                "SELECT table_schema FROM information_schema.tables "
                "WHERE table_name = 'outbox'")]
        limit, quiet = time.monotonic() + seconds, 0
        while quiet < 2 and time.monotonic() < limit:
            depths = queues(suite.vhost)        # {} when the API did not answer: not idle
            idle = bool(depths) and not any(depths.values()) and not any(
                outbox_backlog(database, schema) for schema in schemas)
            quiet = quiet + 1 if idle else 0
            if quiet < 2:
                time.sleep(pause if quiet else 0.5)
    finally:
        database.close()


def wait_for_events(subscriber, count, seconds=60):
    limit = time.monotonic() + seconds
    while len(subscriber.seen) < count and time.monotonic() < limit:
        time.sleep(0.05)


if __name__ == "__main__":
    raise SystemExit(main())
