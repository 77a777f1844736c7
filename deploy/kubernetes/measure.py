"""CPU and memory of each service under the load benchmark: the figures behind
the Deployments' resource requests and limits (docs/operations.md, "Resources").

    python deploy/kubernetes/measure.py --rate 1.5 --seconds 240 [--out var/k8s-measure.json]

Runs `python -m benchmarks.complaint_life` (its steady run only, at --rate lives/s,
on ports and a database of its own) and samples every service process it
starts (`nameko run ... services.<name>.service`) from /proc every --every
seconds: CPU time (utime + stime) and resident memory (VmRSS). It also
measures one run of each probe command (scripts/healthcheck.py) by its peak
RSS, since an exec probe runs inside the container's memory limit.

Reported per service, from its first sample to its last: CPU seconds per
complaint life (the CPU it used / the lives the benchmark completed; timers
and idle work included), its busiest interval in millicores, its peak RSS,
and one probe run's peak RSS and CPU. CPU per life depends little on how busy
the machine is; millicores do.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
TICKS = os.sysconf("SC_CLK_TCK")
SERVICE = re.compile(r"services\.(\w+)\.service")


def descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [root]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def sample(pid: int) -> tuple[str, float, int] | None:
    """(service, CPU seconds, RSS KiB) of a service process, else None."""
    try:
        cmdline = (Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        match = SERVICE.search(cmdline)
        if "nameko" not in cmdline or not match:
            return None
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        cpu = (int(fields[11]) + int(fields[12])) / TICKS     # utime, stime
        rss = next(int(line.split()[1]) for line in
                   Path(f"/proc/{pid}/status").read_text().splitlines()
                   if line.startswith("VmRSS:"))
    except (OSError, StopIteration, IndexError, ValueError):
        return None
    return match.group(1), cpu, rss


PROBE = """import resource, runpy, sys
sys.argv = ["healthcheck", sys.argv[1], "--timeout", "1"]
try:
    runpy.run_module("scripts.healthcheck", run_name="__main__")
except SystemExit:
    pass
usage = resource.getrusage(resource.RUSAGE_SELF)
print(usage.ru_maxrss, usage.ru_utime + usage.ru_stime)
"""


def probe_cost(service: str) -> tuple[int, float]:
    """(peak RSS KiB, CPU seconds) of one `python -m scripts.healthcheck <service>`
    run, in a process of its own. Nothing answers it here, so it fails after
    its imports and a connection attempt: what it costs in a pod, less the wait."""
    result = subprocess.run([sys.executable, "-c", PROBE, service], cwd=REPO,
                            capture_output=True, text=True, timeout=60, check=False,
                            env=dict(os.environ, PYTHONPATH=str(REPO),
                                     AMQP_URI="pyamqp://guest:guest@127.0.0.1:1/",
                                     GATEWAY_ADDRESS="127.0.0.1:1"))
    rss, cpu = result.stdout.strip().splitlines()[-1].split()
    return int(rss), float(cpu)


def summarise(series: list[dict[str, Any]], lives: int) -> dict[str, dict[str, Any]]:
    """Per service, from the first sample (the process started and imported)
    to the last: CPU per completed life, the busiest interval, peak RSS."""
    out = {}
    for name in sorted({k for s in series for k in s["cpu_s"]}):
        points = [(s["t"], s["cpu_s"][name]) for s in series if name in s["cpu_s"]]
        rates = [(b[1] - a[1]) / (b[0] - a[0])
                 for a, b in zip(points, points[1:], strict=False) if b[0] > a[0]]
        used = points[-1][1] - points[0][1]
        probe_rss, probe_cpu = probe_cost(name)
        out[name] = {
            "cpu_seconds": round(used, 1),
            "cpu_seconds_per_life": round(used / lives, 4) if lives else None,
            "millicores_busiest_interval": round(1000 * max(rates)) if rates else None,
            "rss_mib_peak": round(max(s["rss_kib"].get(name, 0) for s in series) / 1024),
            "probe_rss_mib": round(probe_rss / 1024),
            "probe_cpu_seconds": round(probe_cpu, 2),
        }
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=1.5, help="lives/s of the steady run")
    parser.add_argument("--seconds", type=int, default=240, help="length of the steady run")
    parser.add_argument("--every", type=float, default=10.0)
    parser.add_argument("--out", default="var/k8s-measure.json")
    parser.add_argument("--summarise", metavar="JSON",
                        help="only summarise again the series saved by an earlier run")
    parser.add_argument("--port-base", type=int, default=8720,
                        help="gateway port; S3 +10, metrics +20 (none of make run's)")
    args = parser.parse_args(argv)

    if args.summarise:
        saved = json.loads(Path(args.summarise).read_text())
        saved["services"] = summarise(saved["series"], saved["lives"])
        print(json.dumps({k: v for k, v in saved.items() if k != "series"}, indent=1))
        return 0
    var = REPO / "var" / "k8s-measure"
    command = [sys.executable, "-m", "benchmarks.complaint_life", "--rates",
               "--steady-rate", str(args.rate), "--steady-seconds", str(args.seconds),
               "--database", "ccrm_k8s_measure", "--vhost", "ccrm-k8s-measure",
               "--gateway-port", str(args.port_base), "--s3-port", str(args.port_base + 10),
               "--metrics-port", str(args.port_base + 20), "--var-dir", str(var)]
    var.parent.mkdir(parents=True, exist_ok=True)
    log = open(var.with_suffix(".log"), "w", encoding="utf-8")     # the benchmark's progress
    bench = subprocess.Popen(command, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    series: list[dict[str, Any]] = []
    started = time.monotonic()
    while bench.poll() is None:
        now = time.monotonic() - started
        taken: dict[str, list[float]] = {}
        for pid in descendants(bench.pid):
            got = sample(pid)
            if got:
                name, cpu, rss = got
                cpu_sum, rss_sum = taken.get(name, [0.0, 0.0])
                taken[name] = [cpu_sum + cpu, max(rss_sum, rss)]
        if taken:
            series.append({"t": round(now, 1), "cpu_s": {k: v[0] for k, v in taken.items()},
                           "rss_kib": {k: int(v[1]) for k, v in taken.items()}})
        time.sleep(args.every)
    report_path = var / "report.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else {}
    lives = (report.get("steady") or {}).get("completed") or 0
    result: dict[str, Any] = {"rate": args.rate, "seconds": args.seconds, "lives": lives,
                              "command": command, "services": summarise(series, lives)}
    result["benchmark_exit"] = bench.returncode
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({**result, "series": series}, indent=1))
    print(json.dumps(result, indent=1))
    return bench.returncode


if __name__ == "__main__":
    sys.exit(main())
