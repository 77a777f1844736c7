"""CPU seconds a benchmark's processes spent, read from /proc: each process
of a private suite (scripts.suite: with everything in its process group, as
the supervisor starts each as a group leader), PostgreSQL's backends serving
the suite's database, and the RabbitMQ node (beam.smp, shared by every vhost:
said so where it is reported). Unlike a rate, CPU per unit of work stays
comparable when other work shares the machine's cores.
"""
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

TICKS = os.sysconf("SC_CLK_TCK")

# (pid, pgrp, utime + stime in ticks, command line)
ProcessRow = tuple[int, int, int, str]


def read_processes(proc: Path = Path("/proc")) -> list[ProcessRow]:
    """Every process /proc shows now; one that ends while being read is left out."""
    rows = []
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(
                "utf-8", "replace")
        except OSError:
            continue
        rows.append((int(stat.parent.name), int(fields[2]),
                     int(fields[11]) + int(fields[12]), cmdline))
    return rows


def cpu_by_group(rows: Iterable[ProcessRow], leaders: dict[int, str],
                 database: str | None) -> Counter:
    """Ticks by group: a suite process (by its process group's leader), the
    database's PostgreSQL backends ("postgres: <user> <database> ..."), RabbitMQ."""
    spent: Counter = Counter()
    for _pid, pgrp, ticks, cmdline in rows:
        if pgrp in leaders:
            spent[leaders[pgrp]] += ticks
        elif database and cmdline.startswith("postgres: ") and f" {database} " in cmdline:
            spent["postgres"] += ticks
        elif "beam.smp" in cmdline and "rabbit" in cmdline:
            spent["rabbitmq"] += ticks
    return spent


class CpuMeter:
    """CPU seconds by group from its creation to `spent()`. A PostgreSQL
    backend that ended in between loses its share (pools keep theirs open)."""

    def __init__(self, suite: Any, read: Callable[[], list[ProcessRow]] = read_processes) -> None:
        self.leaders = {process.pid: process.name for process in suite.supervisor.processes}
        self.database = suite.database
        self.read = read
        self.before = self._by_pid()

    def _by_pid(self) -> dict[int, tuple[str, int]]:
        found = {}
        for row in self.read():
            group = cpu_by_group([row], self.leaders, self.database)
            if group:
                (name, ticks), = group.items()
                found[row[0]] = (name, ticks)
        return found

    def spent(self) -> dict[str, float]:
        seconds: Counter = Counter()
        for pid, (name, ticks) in self._by_pid().items():
            seconds[name] += (ticks - self.before.get(pid, (name, 0))[1]) / TICKS
        return dict(seconds)

    @staticmethod
    def describe(spent: dict[str, float], units: int) -> str:
        """"intake-1 4.1, gateway-1 3.2, ... (total 12.0)": ms per unit, largest first."""
        parts = [f"{name} {seconds * 1000 / units:.1f}"
                 for name, seconds in sorted(spent.items(), key=lambda kv: -kv[1]) if seconds > 0]
        total = sum(spent.values()) * 1000 / units
        return ", ".join(parts) + f" (total {total:.1f}; rabbitmq is the whole node)"
