"""Client CPU per outbox event: the INSERT and a separate NOTIFY (two
statements, the old `Outbox.add`) against the INSERT with `pg_notify` in its
FROM (one statement, the new one), three events per transaction, with and
without a psycopg pipeline, in a scratch database dropped at the end.

    python -m benchmarks.outbox_notify --events 600 --rounds 5
"""
import argparse
import time
import uuid

import psycopg

BODY = "x" * 600
INSERT = "INSERT INTO outbox (event_id, exchange, routing_key, body) "


def separate(conn):
    conn.execute(INSERT + "VALUES (%(e)s, 'media.events', 'media.stored', %(b)s)",
                 {"e": uuid.uuid4(), "b": BODY})
    conn.execute("NOTIFY ccrm_outbox_bench")


def folded(conn):
    conn.execute(INSERT + "SELECT %(e)s, 'media.events', 'media.stored', %(b)s "
                 "FROM pg_notify('ccrm_outbox_bench', '')", {"e": uuid.uuid4(), "b": BODY})


def measure(conn, add, pipeline, events):
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(events // 3):
        with conn.transaction():
            if pipeline:
                with conn.pipeline():
                    for _ in range(3):
                        add(conn)
            else:
                for _ in range(3):
                    add(conn)
    return ((time.process_time() - cpu) / events * 1e6,
            (time.perf_counter() - wall) / events * 1e6)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--events", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    name = f"ccrm_bench_notify_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(f"{args.server}/{name}") as conn:
            conn.execute("CREATE TABLE outbox (id bigserial PRIMARY KEY, event_id uuid, "
                         "exchange text, routing_key text, body text)")
            conn.commit()
            best = {}
            for _ in range(args.rounds):
                for label, add in (("INSERT + NOTIFY", separate), ("INSERT ... FROM pg_notify",
                                                                   folded)):
                    for pipeline in (False, True):
                        cpu, wall = measure(conn, add, pipeline, args.events)
                        old = best.get((label, pipeline), (cpu, wall))
                        best[(label, pipeline)] = (min(cpu, old[0]), min(wall, old[1]))
        print("| statements | pipeline | client CPU µs/event | wall µs/event |")
        print("|---|---|---:|---:|")
        for (label, pipeline), (cpu, wall) in best.items():
            print(f"| {label} | {'yes' if pipeline else 'no'} | {cpu:.0f} | {wall:.0f} |")
    finally:
        with psycopg.connect(f"{args.server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
