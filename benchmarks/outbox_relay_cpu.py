"""CPU of one outbox relay batch, old code against new, alternating (issue 17).

    .venv/bin/python -m benchmarks.outbox_relay_cpu --rounds 3 --calls 2000
    .venv/bin/python -m benchmarks.outbox_relay_cpu --rounds 3 --calls 1000 --broker

Each round runs the old relay (shared/ of `--old-ref`, extracted with git
archive into `--old-tree`) and this tree's in turn, in child processes on
eventlet like a service, alternating which goes first. A child times `calls`
empty wakes (nothing to send) and then `calls` batches of one event (written
just before, outside the timing): the relay process's CPU (time.process_time)
and its PostgreSQL backend's (/proc/<pg_backend_pid>/schedstat, so the server
must run on this machine), per call. Without `--broker` the broker is a stub
that confirms at once (the database's part alone); with it, real RabbitMQ.
"""
import eventlet

eventlet.monkey_patch()     # noqa: E402 - as nameko runs the relay

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import datetime, timezone  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXCHANGE, QUEUE = "bench_media.events", "bench-outbox-cpu"


class Stub:
    """A broker that confirms everything at once."""

    def publish_many(self, messages):
        return len(messages)


def backend_ns(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def child(args):
    from benchmarks.outbox_relay import DATA
    from shared.db import Database
    from shared.outbox import EventPublisher, Outbox, relay_once

    relay_db, writer = Database(args.dsn, size=1), Database(args.dsn, size=1)
    publisher = EventPublisher(args.amqp, confirm_timeout=5) if args.broker else Stub()
    outbox = Outbox("media", "bench_media", "GZ")
    with relay_db.connection() as conn:
        pid = conn.info.backend_pid
        conn.execute("TRUNCATE media.outbox")
        conn.execute("VACUUM ANALYZE media.outbox")
    for _ in range(20):                 # warm: connections, prepared statements
        relay_once(relay_db, "media", publisher)
    out = {}
    for mode, rows in (("empty", 0), ("one", 1)):
        client = server = 0.0
        for _ in range(args.calls):
            if rows:
                with writer.transaction() as conn:
                    outbox.add(conn, "media.stored", DATA, occurred_at=datetime.now(timezone.utc))
            b0, c0 = backend_ns(pid), time.process_time()
            got = relay_once(relay_db, "media", publisher)
            client += time.process_time() - c0
            server += backend_ns(pid) - b0
            assert got == rows, (mode, got)
        out[mode] = {"client_us": client / args.calls * 1e6, "server_us": server / args.calls / 1e3}
    if args.broker:
        publisher.close()
    print(json.dumps(out))


def run_child(args, tree):
    env = dict(os.environ, PYTHONPATH=f"{tree}:{ROOT}")
    argv = [sys.executable, "-W", "ignore", "-m", "benchmarks.outbox_relay_cpu", "--child",
            "--calls", str(args.calls), "--dsn", args.dsn, "--amqp", args.amqp]
    if args.broker:
        argv.append("--broker")
    done = subprocess.run(argv, env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--broker", action="store_true")
    parser.add_argument("--old-ref", default="main")
    parser.add_argument("--old-tree", default="/tmp/relay-old")
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/ccrm_bench_relay")
    parser.add_argument("--amqp", default="pyamqp://guest:guest@127.0.0.1:5672/")
    parser.add_argument("--child", action="store_true")
    args = parser.parse_args()
    if args.child:
        return child(args)

    from benchmarks.outbox_relay import fresh_database
    from benchmarks.raw_limits import declare_scratch_queue, delete_scratch, purge_queue

    old = Path(args.old_tree)
    if not (old / "shared").is_dir():
        old.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.old_ref, "shared"],
                                 check=True, capture_output=True).stdout
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive, check=True)
    fresh_database(args.dsn)
    if args.broker:
        declare_scratch_queue(args.amqp, EXCHANGE, QUEUE)
    print(f"{datetime.now():%Y-%m-%d %H:%M}, {platform.node()}, {os.cpu_count()} cores, "
          f"{args.calls} calls per mode, broker: {'RabbitMQ' if args.broker else 'stub'}")
    print("| round | code | empty wake: relay CPU (µs) | empty wake: backend CPU (µs) "
          "| batch of 1: relay CPU (µs) | batch of 1: backend CPU (µs) |")
    print("|---|---|---|---|---|---|")
    results = {"old": [], "new": []}
    for n in range(args.rounds):
        order = [("old", old), ("new", ROOT)]
        for label, tree in order if n % 2 == 0 else order[::-1]:
            got = run_child(args, tree)
            results[label].append(got)
            print(f"| {n + 1} | {label} | {got['empty']['client_us']:.0f} "
                  f"| {got['empty']['server_us']:.0f} | {got['one']['client_us']:.0f} "
                  f"| {got['one']['server_us']:.0f} |", flush=True)
            if args.broker:
                purge_queue(args.amqp, QUEUE)
    for label in ("old", "new"):
        cells = [statistics.median(r[mode][side] for r in results[label])
                 for mode in ("empty", "one") for side in ("client_us", "server_us")]
        print(f"| median | {label} | " + " | ".join(f"{c:.0f}" for c in cells) + " |")
    if args.broker:
        delete_scratch(args.amqp, EXCHANGE, QUEUE)


if __name__ == "__main__":
    main()
