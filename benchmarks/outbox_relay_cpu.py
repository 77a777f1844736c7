"""CPU of one outbox relay batch, old code against new, interleaved (issue 17).

    .venv/bin/python -m benchmarks.outbox_relay_cpu --rounds 4 --calls 1000
    .venv/bin/python -m benchmarks.outbox_relay_cpu --rounds 4 --calls 1000 --broker

One process on eventlet, like a service, holds both relays: the old
`relay_once` (shared/outbox.py of `--old-ref`, read with git show and loaded
as a module of its own) and this tree's, each with its own connection. Calls
alternate old/new one by one (which goes first alternates too), so the
machine's drift falls on both alike. A round times `calls` empty wakes
(nothing to send) and then `calls` batches of one event (written just
before, outside the timing): the process's CPU (time.process_time) and the
relay's PostgreSQL backend's (/proc/<pg_backend_pid>/schedstat, so the
server must run on this machine), per call. Without `--broker` the broker is
a stub that confirms at once (the database's part alone); with it, RabbitMQ.
"""
import eventlet

eventlet.monkey_patch()     # noqa: E402 - as nameko runs the relay

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from pathlib import Path  # noqa: E402

from benchmarks.outbox_relay import DATA, fresh_database  # noqa: E402
from benchmarks.raw_limits import declare_scratch_queue, delete_scratch, purge_queue  # noqa: E402
from shared.db import Database  # noqa: E402
from shared.outbox import EventPublisher, Outbox, relay_once  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
EXCHANGE, QUEUE = "bench_media.events", "bench-outbox-cpu"


class Stub:
    """A broker that confirms everything at once."""

    def publish_many(self, messages):
        return len(messages)


def backend_ns(pid):
    with open(f"/proc/{pid}/schedstat") as f:
        return int(f.read().split()[0])


def old_relay_once(ref):
    """`relay_once` of shared/outbox.py at `ref`, loaded as `shared.outbox_old`."""
    source = subprocess.run(["git", "-C", str(ROOT), "show", f"{ref}:shared/outbox.py"],
                            check=True, capture_output=True, text=True).stdout
    spec = importlib.util.spec_from_loader("shared.outbox_old", loader=None)
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, f"{ref}:shared/outbox.py", "exec"), module.__dict__)  # noqa: S102
    return module.relay_once


def one_round(relays, writer, calls):
    """{label: {mode: (relay CPU, backend CPU) in µs per call}}."""
    outbox = Outbox("media", "bench_media", "GZ")
    totals = {label: {"empty": [0.0, 0.0], "one": [0.0, 0.0]} for label in relays}
    for mode, rows in (("empty", 0), ("one", 1)):
        for n in range(calls):
            order = list(relays.items())
            for label, (relay, db, pid, publisher) in order if n % 2 else order[::-1]:
                if rows:
                    with writer.transaction() as conn:
                        outbox.add(conn, "media.stored", DATA, occurred_at=datetime.now(UTC))
                b0, c0 = backend_ns(pid), time.process_time()
                got = relay(db, "media", publisher)
                totals[label][mode][0] += time.process_time() - c0
                totals[label][mode][1] += backend_ns(pid) - b0
                assert got == rows, (label, mode, got)
    return {label: {mode: (c / calls * 1e6, b / calls / 1e3) for mode, (c, b) in modes.items()}
            for label, modes in totals.items()}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--broker", action="store_true")
    parser.add_argument("--old-ref", default="4ebccbc",
                        help="the commit whose shared/outbox.py holds the old relay "
                             "(default: main before the two-round-trip batch)")
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/ccrm_bench_relay")
    parser.add_argument("--amqp", default="pyamqp://guest:guest@127.0.0.1:5672/")
    args = parser.parse_args()

    fresh_database(args.dsn)
    if args.broker:
        declare_scratch_queue(args.amqp, EXCHANGE, QUEUE)
    relays = {}
    for label, relay in (("old", old_relay_once(args.old_ref)), ("new", relay_once)):
        db = Database(args.dsn, size=1)
        publisher = EventPublisher(args.amqp, confirm_timeout=5) if args.broker else Stub()
        with db.connection() as conn:
            pid = conn.info.backend_pid
        relays[label] = (relay, db, pid, publisher)
    writer = Database(args.dsn, size=1)
    print(f"{datetime.now():%Y-%m-%d %H:%M}, {platform.node()}, {os.cpu_count()} cores, "
          f"{args.calls} calls per mode and round, old = {args.old_ref}, "
          f"broker: {'RabbitMQ' if args.broker else 'stub'}")
    print("| round | code | empty wake: relay CPU (µs) | empty wake: backend CPU (µs) "
          "| batch of 1: relay CPU (µs) | batch of 1: backend CPU (µs) |")
    print("|---|---|---|---|---|---|")
    results = []
    for n in range(args.rounds):
        with writer.connection() as conn:
            conn.execute("TRUNCATE media.outbox")
            conn.execute("VACUUM ANALYZE media.outbox")
        for relay, db, _, publisher in relays.values():
            for _ in range(20):         # warm: connections, prepared statements
                relay(db, "media", publisher)
        got = one_round(relays, writer, args.calls)
        results.append(got)
        for label in relays:
            cells = [v for mode in ("empty", "one") for v in got[label][mode]]
            print(f"| {n + 1} | {label} | " + " | ".join(f"{c:.0f}" for c in cells) + " |",
                  flush=True)
        if args.broker:
            purge_queue(args.amqp, QUEUE)
    for label in relays:
        cells = [statistics.median(r[label][mode][side] for r in results)
                 for mode in ("empty", "one") for side in (0, 1)]
        print(f"| median | {label} | " + " | ".join(f"{c:.0f}" for c in cells) + " |")
    for _, db, _, publisher in relays.values():
        db.close()
        if args.broker:
            publisher.close()
    writer.close()
    if args.broker:
        delete_scratch(args.amqp, EXCHANGE, QUEUE)


if __name__ == "__main__":
    main()
