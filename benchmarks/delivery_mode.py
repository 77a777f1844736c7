"""The broker's CPU per message, persistent against transient, through a
durable queue with publisher confirms: why RPC requests and replies travel
transient (shared.rpc, TRANSIENT) while events stay persistent.

    .venv/bin/python -m benchmarks.delivery_mode --count 3000 --rounds 2

Publishes --count messages of about 600 bytes (the size of an RPC request),
then consumes and acknowledges them, on a scratch queue of the default vhost
(deleted after each round), alternating delivery_mode 2 and 1. The broker's
CPU is read from /proc (utime + stime of beam.smp, the whole node: run it
when nothing else uses the broker).
"""
import argparse
import os
import time

import kombu

TICKS = os.sysconf("SC_CLK_TCK")
BODY = b'{"args": [], "kwargs": {"form": "' + b"x" * 600 + b'"}}'


def broker_cpu_seconds() -> float:
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as cmdline:
                if b"beam.smp" not in cmdline.read():
                    continue
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / TICKS
        except OSError:
            continue
    raise RuntimeError("no beam.smp process: is RabbitMQ running on this machine?")


def one_round(amqp_uri: str, delivery_mode: int, count: int) -> tuple[float, float]:
    """(messages/s through publish + confirm + consume + ack, broker CPU ms per message)."""
    exchange = kombu.Exchange("ccrm-delivery-mode-bench", "direct", durable=True)
    queue = kombu.Queue("ccrm-delivery-mode-bench", exchange, routing_key="bench", durable=True)
    with kombu.Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        queue(conn.default_channel).declare()
        producer = conn.Producer()
        cpu, wall = broker_cpu_seconds(), time.perf_counter()
        for _ in range(count):
            producer.publish(BODY, exchange=exchange, routing_key="bench",
                             delivery_mode=delivery_mode, content_type="application/json")
        received = 0

        def take(_body, message):
            nonlocal received
            received += 1
            message.ack()

        with conn.Consumer(queue, callbacks=[take], accept=["json"]):
            while received < count:
                conn.drain_events(timeout=10)
        wall, cpu = time.perf_counter() - wall, broker_cpu_seconds() - cpu
        queue(conn.default_channel).delete()
    return count / wall, cpu * 1000 / count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--amqp", default="pyamqp://guest:guest@127.0.0.1:5672//")
    parser.add_argument("--count", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    print("| delivery_mode | messages/s (publish + confirm + consume + ack) "
          "| broker CPU ms per message |")
    print("|---|---:|---:|")
    for _ in range(args.rounds):
        for mode, label in ((2, "2 (persistent)"), (1, "1 (transient)")):
            rate, cpu_ms = one_round(args.amqp, mode, args.count)
            print(f"| {label} | {rate:,.0f} | {cpu_ms:.3f} |", flush=True)
    print(f"(run at {time.strftime('%Y-%m-%d %H:%M', time.gmtime())} UTC; load average "
          f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
