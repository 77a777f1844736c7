"""Where the CPU goes under load: a sampling profile (py-spy) of every
service process of a private suite while it carries a load (issue 17).

    .venv/bin/python -m benchmarks.profile_suite --load life --rate 2 --seconds 30
    .venv/bin/python -m benchmarks.profile_suite --load record --concurrency 8 --seconds 30
    .venv/bin/python -m benchmarks.profile_suite --instances-of intake=2 gateway=2

It starts the suite like the load benchmark does (scripts.suite: its own
database `ccrm_prof`, vhost `ccrm-prof`, gateway on 8140+, S3 on 9140,
metrics on 9340+; never `make run`'s ports), drives the load (`life`: whole
complaint lives at --rate lives/s, open loop, as benchmarks.complaint_life;
`record`: --concurrency clients recording phone complaints back to back, as
benchmarks.complaint_intake), and after --warmup s records each service
process with `py-spy record` for --seconds at --hz (idle samples left out:
only frames running on a CPU or waiting in a system call count). Per process
it writes the collapsed stacks and, with --svg, a flame graph under --out, and
prints the top frames: *self* (the innermost frame of Python code of ours or
of a library) and *inclusive* (any frame on the stack), as % of the process's
samples, and the busy share (samples / (seconds * hz)).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import requests

from benchmarks.load_driver import CountingGateways, OpenLoop, Phase
from benchmarks.load_machine import load_average
from scripts.fault_test import START, ClockDriver
from scripts.life import Gateways, People
from scripts.run_local import REPO_ROOT, add_instances_of, instances_option
from scripts.suite import Suite

PY_SPY = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))


def frame_name(frame: str) -> str:
    """`fn (path/to/module.py:123)` -> `fn (module.py)`: one entry per function."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    parts = Path(path).parts
    for anchor in ("services", "shared", "site-packages", "python3.11"):
        if anchor in parts:
            parts = parts[parts.index(anchor) + (anchor != "services" and anchor != "shared"):]
            break
    return f"{name} ({'/'.join(parts[-3:])})"


def summarise(collapsed: Path, seconds: float, hz: int, top: int = 15) -> dict:
    """Self and inclusive shares of each function in py-spy's raw output."""
    own: Counter = Counter()
    inclusive: Counter = Counter()
    total = 0
    for line in collapsed.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [frame_name(f) for f in stack.split(";")[1:]]  # [0] is the thread
        if not frames:
            continue
        total += n
        own[frames[-1]] += n
        for name in set(frames):
            inclusive[name] += n
    if not total:
        return {"samples": 0, "busy": 0.0, "self": [], "inclusive": []}
    return {"samples": total, "busy": total / (seconds * hz),
            "self": [(name, n / total) for name, n in own.most_common(top)],
            "inclusive": [(name, n / total) for name, n in inclusive.most_common(top * 3)]}


def record_load(gateway_urls: list[str], tokens: Path, concurrency: int, stop: threading.Event,
                counts: Counter) -> ThreadPoolExecutor:
    """--concurrency clients recording phone complaints until `stop`."""
    entries = json.loads(tokens.read_text(encoding="utf-8"))
    person = next(t for t in entries if "specialist" in t["roles"] and t["project_ids"])
    admin = next(t["token"] for t in entries if "admin" in t["roles"])
    clock = requests.get(f"{gateway_urls[0]}/api/admin/clock",
                         headers={"Authorization": f"Bearer {admin}"}, timeout=10).json()
    now = datetime.fromisoformat(clock["now"])
    prefix = f"P{uuid.uuid4().hex[:5]}-"

    def client(index: int) -> None:
        session = requests.Session()
        url = gateway_urls[index % len(gateway_urls)] + "/api/complaints"
        n = 0
        while not stop.is_set():
            n += 1
            body = {"project_id": person["project_ids"][0], "room": f"{prefix}{index}-{n}",
                    "customer_name": "压测客户", "customer_phone": "13800138000",
                    "channel": "phone", "demand": "卫生间渗水，需维修",
                    "category": "maintenance_repair", "resolved_on_spot": False,
                    "requested_completion_at": (now + timedelta(days=7)).isoformat(),
                    "contact_ended_at": (now - timedelta(minutes=5)).isoformat()}
            response = session.post(url, json=body, timeout=30,
                                    headers={"Authorization": f"Bearer {person['token']}"})
            counts[response.status_code] += 1

    pool = ThreadPoolExecutor(concurrency)
    for index in range(concurrency):
        pool.submit(client, index)
    return pool


def profile(suite: Suite, out: Path, seconds: float, hz: int, svg: bool) -> dict:
    """py-spy on every service process at once; their summaries by process name."""
    out.mkdir(parents=True, exist_ok=True)
    runs = []
    for process in suite.supervisor.processes:
        if process.name not in suite.argv:
            continue
        raw = out / f"{process.name}.txt"
        argv = [PY_SPY, "record", "-p", str(process.pid), "-r", str(hz), "-d", str(int(seconds)),
                "--nonblocking", "-s"]
        runs.append((process.name, raw, subprocess.Popen(
            [*argv, "-f", "raw", "-o", str(raw)], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)))
        if svg:
            runs.append((None, None, subprocess.Popen(
                [*argv, "-f", "flamegraph", "-o", str(out / f"{process.name}.svg")],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)))
    summaries = {}
    for name, raw, run in runs:
        run.wait(seconds + 60)
        if name is not None and raw.exists():
            summaries[name] = summarise(raw, seconds, hz)
    return summaries


def render(summaries: dict, title: str) -> str:
    lines = [f"### {title}", ""]
    for name, s in sorted(summaries.items()):
        lines.append(f"**{name}**: {s['samples']} samples, busy {s['busy']:.0%} of one core")
        lines.append("")
        lines.append("self: " + "; ".join(f"{f} {p:.0%}" for f, p in s["self"][:10]))
        lines.append("")
        lines.append("inclusive: " + "; ".join(f"{f} {p:.0%}" for f, p in s["inclusive"][:30]))
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--load", choices=("life", "record"), default="life")
    parser.add_argument("--rate", type=float, default=2.0, help="lives/s (--load life)")
    parser.add_argument("--concurrency", type=int, default=8, help="clients (--load record)")
    parser.add_argument("--instances", type=int, default=1)
    add_instances_of(parser)
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--hz", type=int, default=50)
    parser.add_argument("--svg", action="store_true", help="flame graphs too")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--database", default="ccrm_prof")
    parser.add_argument("--vhost", default="ccrm-prof")
    parser.add_argument("--gateway-port", type=int, default=8140)
    parser.add_argument("--s3-port", type=int, default=9140)
    parser.add_argument("--metrics-port", type=int, default=9340)
    args = parser.parse_args(argv)
    args.instances_of = instances_option(parser, args)
    label = f"{args.load}-{datetime.now():%H%M%S}"
    out = (args.out or REPO_ROOT / "var" / "artefacts" / "profile" / label).resolve()
    var_dir = REPO_ROOT / "var" / "prof"
    null = open(os.devnull, "w", encoding="utf-8")
    suite = Suite(var_dir, instances=args.instances, database=args.database, vhost=args.vhost,
                  gateway_port=args.gateway_port, s3_port=args.s3_port,
                  metrics_port=args.metrics_port, out=null, instances_of=args.instances_of)
    stop = threading.Event()
    clock = pool = loop = None
    try:
        suite.prepare()
        print(f"load average before: {load_average()}", flush=True)
        suite.start()
        people = People.load(suite.tokens_file)
        control = Gateways(suite.gateway_urls)
        admin = people.token(people.first("admin"))
        control.call("POST", "/api/admin/clock", admin, json_body={"now": START})
        clock = ClockDriver(control, admin, "PT1M", 2.0)
        clock.start()
        counts: Counter = Counter()
        if args.load == "life":
            loop = OpenLoop(CountingGateways(suite.gateway_urls, patience=60), people,
                            datetime.now().strftime("F%H%M%S"), 64, 60, print)
            phase = Phase("profile", args.rate, args.warmup + args.seconds + 5)
            phase.t0 = time.monotonic()
            threading.Thread(target=loop.run, args=(phase, 30), daemon=True).start()
        else:
            pool = record_load(suite.gateway_urls, suite.tokens_file, args.concurrency, stop,
                               counts)
        time.sleep(args.warmup)
        started = time.monotonic()
        summaries = profile(suite, out, args.seconds, args.hz, args.svg)
        elapsed = time.monotonic() - started
        stop.set()
        if args.load == "life":
            ok = [life for life in phase.lives if life.ended and not life.error]
            failed = [life for life in phase.lives if life.error]
            print(f"lives: {len(phase.lives)} started, {len(ok)} ok, {len(failed)} failed")
        else:
            print(f"recordings while profiled: {dict(counts)} in ~{elapsed:.0f} s")
        text = render(summaries, f"{args.load} load, {args.seconds:g} s at {args.hz} Hz")
        (out / "summary.md").write_text(text, encoding="utf-8")
        (out / "summary.json").write_text(json.dumps(summaries, indent=1), encoding="utf-8")
        print(text)
        print(f"load average after: {load_average()}; files in {out}")
        return 0
    finally:
        stop.set()
        if clock is not None:
            clock.stop()
        if loop is not None:
            loop.close()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
        suite.stop()
        suite.drop()
        null.close()


if __name__ == "__main__":
    sys.exit(main())
