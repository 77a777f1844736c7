"""CPU per complaint life, by process group, from /proc (benchmarks.complaint_life).

At the start and the end of a phase the benchmark reads utime + stime of
every process that works for the load: each suite process and what it
spawned (scripts.suite's supervisor knows their pids: nameko services, the
S3 server and its moto child), the
PostgreSQL backends connected to the benchmark's database (their command
line names it), the rest of the PostgreSQL server (its own processes and
other databases' backends: shared with other work on this machine), RabbitMQ
(beam.smp, the whole broker: shared too) and the load driver itself. The
difference is CPU time whatever else ran on the cores, so CPU ms per life is
the figure to compare on a shared machine. A process that ended during the
phase takes its CPU with it (a backend closed before the end is not counted);
one that started during the phase counts from zero. Processes are keyed by pid
and start time, so a reused pid is not taken for the old process.
"""
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
DRIVER = "load driver (this process)"
STORAGE = "S3 server"
BROKER = "rabbitmq (beam.smp, whole broker)"
PG_REST = "postgres (server and other databases)"

Reader = Callable[[str], str | None]
Key = tuple[str, int, int]           # (group, pid, start time in ticks)


def read_proc(path: str) -> str | None:
    """A /proc file's text; None once the process is gone or unreadable."""
    try:
        with open(path, "rb") as f:
            return f.read().decode("utf-8", "replace")
    except OSError:
        return None


class Stat(NamedTuple):
    comm: str
    ppid: int
    ticks: int          # utime + stime
    start: int          # start time, ticks after boot


def parse_stat(text: str) -> Stat:
    """The fields of a /proc/<pid>/stat line the probe needs; comm may hold
    spaces and parentheses, so the fields start after the last ')'."""
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text[text.rindex(")") + 2:].split()
    # fields[0] is field 3 (state): ppid 4, utime 14, stime 15, starttime 22.
    return Stat(comm, int(fields[1]), int(fields[11]) + int(fields[12]), int(fields[19]))


def pg_group(cmdline: str, database: str) -> str:
    """The group of a postgres process by its command line ("postgres: 15/main:
    ccrm_intake ccrm_load 127.0.0.1(5432) idle" is a backend of ccrm_load)."""
    words = cmdline.replace("\0", " ").split()
    return f"postgres (database {database})" if database in words[1:] else PG_REST


def group_of(process_name: str) -> str:
    """`intake-2` -> `intake`; the S3 server by what it is."""
    if process_name == "storage":
        return STORAGE
    return re.sub(r"-\d+$", "", process_name)


class CpuProbe:
    """Reads the CPU ticks of the load's processes, {(group, pid, start): ticks}."""

    def __init__(self, processes: Callable[[], Iterable[tuple[str, int]]], database: str,
                 read: Reader = read_proc, pids: Callable[[], Iterable[int]] | None = None,
                 own_pid: int | None = None, now: Callable[[], float] = time.monotonic) -> None:
        self.processes, self.database, self.read = processes, database, read
        self.pids = pids or _all_pids
        self.own_pid = os.getpid() if own_pid is None else own_pid
        self.now = now

    def snapshot(self) -> dict[str, Any]:
        stats: dict[int, Stat] = {}
        for pid in {*self.pids(), self.own_pid}:
            text = self.read(f"/proc/{pid}/stat")
            if text is not None:
                stats[pid] = parse_stat(text)
        children: dict[int, list[int]] = {}
        for pid, stat in stats.items():
            children.setdefault(stat.ppid, []).append(pid)
        ticks: dict[Key, int] = {}
        claimed: set[int] = set()

        def add(group: str, pid: int) -> None:
            if pid in stats and pid not in claimed:
                claimed.add(pid)
                ticks[(group, pid, stats[pid].start)] = stats[pid].ticks

        for name, pid in self.processes():          # with what each spawned
            todo = [pid]
            while todo:
                current = todo.pop()
                add(group_of(name), current)
                todo.extend(children.get(current, ()))
        add(DRIVER, self.own_pid)                   # alone: the suite is its children
        for pid, stat in stats.items():
            if stat.comm == "postgres":
                add(pg_group(self.read(f"/proc/{pid}/cmdline") or "", self.database), pid)
            elif stat.comm == "beam.smp":
                add(BROKER, pid)
        return {"at": self.now(), "ticks": ticks}


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def cpu_between(before: Mapping[str, Any], after: Mapping[str, Any], lives: int,
                ticks_per_s: int = TICKS_PER_S) -> dict[str, Any]:
    """CPU between two snapshots: per group, ms in all, ms per life (None
    without lives) and cores busy (CPU-seconds per second); the same in total."""
    seconds = after["at"] - before["at"]
    used: dict[str, int] = {}
    for key, ticks in after["ticks"].items():
        group = key[0]
        used[group] = used.get(group, 0) + max(0, ticks - before["ticks"].get(key, 0))
    for key in before["ticks"]:
        used.setdefault(key[0], 0)

    def figures(ticks: int) -> dict[str, float | None]:
        ms = ticks * 1000 / ticks_per_s
        return {"ms": ms, "ms_per_life": ms / lives if lives else None,
                "cores": ms / 1000 / seconds if seconds > 0 else None}

    groups = {group: figures(ticks) for group, ticks in sorted(used.items())}
    return {"seconds": seconds, "lives": lives, "groups": groups,
            "total": figures(sum(used.values()))}


def describe_per_unit(cpu: Mapping[str, Any]) -> str:
    """"group ms, ..." per unit (cpu_between's `lives`), largest first, with the total."""
    groups = sorted(cpu["groups"].items(), key=lambda kv: -kv[1]["ms"])
    return ", ".join(f"{group} {figures['ms_per_life']:.1f}" for group, figures in groups
                     if figures["ms"] > 0) + f" (total {cpu['total']['ms_per_life']:.1f})"
