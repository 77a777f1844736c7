"""The load benchmark's tables of what a person waits on and where the CPU
goes (benchmarks.load_report puts them into the Markdown): each HTTP call a
person makes, the asynchronous hops, CPU per life by process group. One
column per phase (each rate of the knee search, the steady run). Pure."""
from typing import Any

from benchmarks.load_hops import FIGURES
from scripts.life import BOOKKEEPING_CALLS, CALLS, HOPS

DASH = "–"
HOP_NAMES = {"routed": "order signed → routed visible",
             "applied": "closure applied → intake state"}


def phases_of(report: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """(column heading, summary) of every phase of the run, in order."""
    phases = [(f"{s['rate']:g}/s", s) for s in report.get("knee_steps") or []]
    if report.get("steady"):
        phases.append((f"steady {report['steady']['rate']:g}/s", report["steady"]))
    return phases


def ms_pair(pair: list[float | None] | None) -> str:
    """[p50, p99] seconds as 'p50 / p99' ms."""
    if not pair or pair[0] is None or pair[1] is None:
        return DASH
    return f"{pair[0] * 1000:,.0f} / {pair[1] * 1000:,.0f}"


def _header(first: str, phases: list[tuple[str, dict[str, Any]]]) -> list[str]:
    return [f"| {first} | " + " | ".join(name for name, _ in phases) + " |",
            "|---|" + "---:|" * len(phases)]


def _call_cell(summary: dict[str, Any], label: str) -> str:
    pair = summary.get("calls_p50_p99", {}).get(label)
    per_life = summary.get("calls_per_life", {}).get(label)
    return ms_pair(pair) + ("" if per_life is None or pair is None or pair[0] is None
                            else f" (×{per_life:.1f})")


def calls_table(report: dict[str, Any]) -> list[str]:
    phases = [(n, s) for n, s in phases_of(report) if "calls_p50_p99" in s]
    if not phases:
        return []
    lines = ["Each call a person makes, p50 / p99 ms (calls per completed life), per offered "
             "rate; a call's time runs from its first try to its answer, retries on another "
             "gateway included:", ""] + _header("call", phases)
    for label in CALLS:
        lines.append(f"| {label} | " + " | ".join(_call_cell(s, label) for _, s in phases)
                     + " |")
    lines += ["", "The benchmark's own bookkeeping, not a person's click (the simulation clock "
              "read before a form with times in it):", ""] + _header("call", phases)
    for label in BOOKKEEPING_CALLS:
        lines.append(f"| {label} | " + " | ".join(_call_cell(s, label) for _, s in phases)
                     + " |")
    return lines


def hops_table(report: dict[str, Any]) -> list[str]:
    phases = [(n, s) for n, s in phases_of(report) if "hops_p50_p99" in s]
    if not phases:
        return []
    first, cap = report["settings"].get("poll", (0.01, 0.2))
    lines = [f"Asynchronous hops, p50 / p99 ms: from the answer to the call that sets the hop "
             f"going (the GM's signature of the order; the closure application) to the first "
             f"page GET that shows its effect (dispatch routed; intake's state at "
             f"closure_applied or later). The page is read right after the call, then after "
             f"pauses of {first * 1000:g} ms doubling up to {cap * 1000:g} ms; the state "
             f"changed after the start of the last GET that did not show it (*at least*) and "
             f"before the end of the first that did (*at most*). So the resolution is about one "
             f"page GET and the pause before it, not the {cap * 1000:g} ms poll; the median "
             f"gap between the bounds is in brackets.", ""]
    lines += _header("hop", phases)
    for hop in HOPS:
        name = HOP_NAMES.get(hop, hop)
        cells = []
        for _, s in phases:
            resolution = s["hops_resolution_p50"].get(hop)
            cells.append(ms_pair(s["hops_p50_p99"].get(hop))
                         + ("" if resolution is None else f" ({resolution * 1000:,.0f})"))
        lines.append(f"| {name}, at most | " + " | ".join(cells) + " |")
        lines.append(f"| {name}, at least | " + " | ".join(
            ms_pair(s.get("hops_lower_p50_p99", {}).get(hop)) for _, s in phases) + " |")
    return lines


def server_hops_table(report: dict[str, Any]) -> list[str]:
    phases = [(n, s) for n, s in phases_of(report) if s.get("server_hops")]
    if not phases:
        return []
    lines = ["The same hops timed by the services' own rows (benchmarks/load_hops.py): from "
             "the outbox row of the call's transaction to the inbox row of the transaction "
             "that shows the effect, both PostgreSQL's now() on one server; each hop's legs "
             "below it. p50 / p99 ms, and the slowest.", ""]
    lines += _header("hop", phases)
    for legs in FIGURES.values():
        for name, _, _ in legs:
            cells = []
            for _, s in phases:
                figure = s["server_hops"].get(name)
                cells.append("" if figure is None else
                             f"{ms_pair([figure['p50'], figure['p99']])} "
                             f"(max {figure['max'] * 1000:,.0f}, n {figure['n']})")
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return lines


def _group_order(groups: set[str]) -> list[str]:
    def rank(name: str) -> tuple[int, str]:
        if name.startswith("postgres"):
            return 2, name
        if name.startswith("rabbitmq"):
            return 3, name
        if name.startswith("load driver"):
            return 4, name
        return (1, name) if name == "S3 server" else (0, name)
    return sorted(groups, key=rank)


def _cpu_cell(figures: dict[str, Any] | None) -> str:
    if not figures:
        return DASH
    per_life = figures.get("ms_per_life")
    cores = figures.get("cores")
    return (f"{DASH if per_life is None else f'{per_life:,.0f}'} "
            f"({DASH if cores is None else f'{cores:.2f}'})")


def cpu_table(report: dict[str, Any]) -> list[str]:
    phases = [(n, s["cpu"]) for n, s in phases_of(report) if s.get("cpu")]
    if report.get("idle_cpu"):
        phases.insert(0, ("idle (no lives)", report["idle_cpu"]))
    if not phases:
        return []
    groups = _group_order({g for _, cpu in phases for g in cpu["groups"]})
    lines = ["CPU per completed life by process group, ms (cores busy: CPU-seconds per "
             "second), read from /proc/<pid>/stat (utime + stime) from the start of each "
             "phase until all its lives ended; whatever else ran on the machine, the CPU of "
             "these processes only. PostgreSQL's other processes and RabbitMQ serve other "
             "work on a shared machine too; a backend that closed during the phase is not "
             "counted.", ""]
    lines += _header("process group", phases)
    for group in groups:
        lines.append(f"| {group} | " + " | ".join(_cpu_cell(cpu["groups"].get(group))
                                                  for _, cpu in phases) + " |")
    lines.append("| **total** | " + " | ".join(_cpu_cell(cpu["total"]) for _, cpu in phases)
                 + " |")
    lines.append("| window s (lives) | " + " | ".join(
        f"{cpu['seconds']:.0f} ({cpu['lives']})" for _, cpu in phases) + " |")
    return lines


def person_tables(report: dict[str, Any]) -> list[str]:
    """The four tables, each after a blank line; [] when the run has none."""
    lines: list[str] = []
    for table in (calls_table(report), hops_table(report), server_hops_table(report),
                  cpu_table(report)):
        if table:
            lines += [""] + table
    return lines
