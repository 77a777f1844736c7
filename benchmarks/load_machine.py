"""The machine around a load benchmark run (benchmarks.complaint_life): what
it is, how busy it was, and raw-limit measurements tried again when the
shared machine refuses them once.
"""
import os
import platform
import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg

from scripts.suite import management

T = TypeVar("T")


def machine(owner_dsn: str) -> dict[str, Any]:
    """nproc, RAM, CPU model, versions and load average, for the report."""
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            cpu = next(line.split(":", 1)[1].strip() for line in info
                       if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    with open("/proc/meminfo", encoding="utf-8") as info:
        kib = next(int(line.split()[1]) for line in info if line.startswith("MemTotal"))
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
        connections = conn.execute(
            "SELECT count(*), current_setting('max_connections')::int FROM pg_stat_activity"
        ).fetchone()
    status, overview = management("GET", "/api/overview")
    rabbitmq = overview.get("rabbitmq_version", "?") if status == 200 else "?"
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram_gib": kib / 1024 ** 2,
            "python": platform.python_version(), "postgres": postgres.split()[0],
            "rabbitmq": rabbitmq, "load_before": load_average(),
            "pg_connections_before": f"{connections[0]} of {connections[1]}"}


def retried(measure_once: Callable[[], T], say: Callable[[str], None], tries: int = 3,
            pause: float = 5.0) -> T:
    """A raw-limit measurement, tried again when the shared machine refuses it
    once (PostgreSQL out of connections, the broker restarting)."""
    for attempt in range(1, tries + 1):
        try:
            return measure_once()
        except Exception as exc:  # noqa: BLE001 - told, then tried again
            if attempt == tries:
                raise
            say(f"raw limits: attempt {attempt} failed ({exc}); again in {pause:g} s")
            time.sleep(pause)


def load_average() -> str:
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def shared_machine_note(nproc: int, explicit: str | None = None) -> str | None:
    """Labels figures measured while other work shared the cores."""
    if explicit:
        return explicit
    one_minute = os.getloadavg()[0]
    if one_minute > 0.5 * nproc:
        return (f"the 1-minute load average was {one_minute:.1f} on {nproc} CPUs before the "
                "run: other work shared the cores, so these figures are lower bounds, not "
                "the suite's capacity.")
    return None
