"""CPU of the gateway process per HTTP call (issue 17): a private suite, then
N calls of a few kinds one after another, each kind's cost read from the
gateway process's /proc utime + stime (less its idle rate, measured first).

    .venv/bin/python -m benchmarks.gateway_cpu --calls 300

Kinds: `me` (GET /api/me: HTTP, auth, the route wrapper; no RPC once the
person is cached), `detail` (GET /api/complaints/<id>: RPC reads), `record`
(POST /api/complaints with an Idempotency-Key: idempotency rows + one RPC).
Its own database, vhost and ports (never make run's, nor profile_suite's
defaults). Absolute figures on a shared machine are noisy: compare before and
after of one change in the same minutes.
"""
import argparse
import os
import signal
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import requests

from benchmarks.profile_suite import PY_SPY, summarise
from scripts.fault_test import START
from scripts.life import People
from scripts.run_local import REPO_ROOT
from scripts.suite import Suite

TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def measure(pid: int, calls: int, one, idle_rate: float) -> tuple[float, float]:
    """(CPU ms per call less idle, wall ms per call)."""
    cpu0, wall0 = cpu_seconds(pid), time.monotonic()
    for n in range(calls):
        one(n)
    cpu, wall = cpu_seconds(pid) - cpu0, time.monotonic() - wall0
    return 1000 * (cpu - idle_rate * wall) / calls, 1000 * wall / calls


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--spy", action="store_true",
                        help="py-spy the gateway during round 1 of each kind (raw stacks kept)")
    parser.add_argument("--signal-profile", action="store_true",
                        help="SIGUSR1 / SIGUSR2 the gateway around each kind (a profiler "
                             "hook of one's own installed in the process starts / dumps)")
    parser.add_argument("--database", default="ccrm_gwcpu")
    parser.add_argument("--vhost", default="ccrm-gwcpu")
    parser.add_argument("--gateway-port", type=int, default=8170)
    parser.add_argument("--s3-port", type=int, default=9170)
    parser.add_argument("--metrics-port", type=int, default=9370)
    args = parser.parse_args(argv)
    null = open(os.devnull, "w", encoding="utf-8")
    suite = Suite(REPO_ROOT / "var" / "gwcpu", instances=1, database=args.database,
                  vhost=args.vhost, gateway_port=args.gateway_port, s3_port=args.s3_port,
                  metrics_port=args.metrics_port, out=null)
    try:
        suite.prepare()
        suite.start()
        pid = suite.process("gateway-1").pid
        url = suite.gateway_urls[0]
        people = People.load(suite.tokens_file)
        admin = people.token(people.first("admin"))
        specialist = next(e for e in people.entries
                          if "specialist" in e["roles"] and e["project_ids"])
        session = requests.Session()

        def call(verb, path, token, **kw):
            response = session.request(verb, url + path, timeout=30,
                                       headers={"Authorization": f"Bearer {token}",
                                                **kw.pop("headers", {})}, **kw)
            if response.status_code >= 300:
                raise RuntimeError(f"{verb} {path}: {response.status_code} {response.text}")
            return response.json()

        call("POST", "/api/admin/clock", admin, json={"now": START})
        now = datetime.fromisoformat(call("GET", "/api/admin/clock", admin)["now"])
        prefix = uuid.uuid4().hex[:6]

        def record(n):
            body = {"project_id": specialist["project_ids"][0], "room": f"B{prefix}-{n}",
                    "customer_name": "压测客户", "customer_phone": "13800138000",
                    "channel": "phone", "demand": "卫生间渗水，需维修",
                    "category": "maintenance_repair", "resolved_on_spot": False,
                    "requested_completion_at": (now + timedelta(days=7)).isoformat(),
                    "contact_ended_at": (now - timedelta(minutes=5)).isoformat()}
            return call("POST", "/api/complaints", specialist["token"], json=body,
                        headers={"Idempotency-Key": uuid.uuid4().hex})

        first = record(-1)["id"]
        kinds = {
            "me": lambda n: call("GET", "/api/me", specialist["token"]),
            "detail": lambda n: call("GET", f"/api/complaints/{first}", specialist["token"]),
            "record": record,
        }
        for kind in kinds.values():      # warm: caches, prepared statements, pools
            for n in range(20):
                kind(10_000 + n)
        time.sleep(2)
        cpu0 = cpu_seconds(pid)
        time.sleep(5)
        idle = (cpu_seconds(pid) - cpu0) / 5
        print(f"gateway idle: {1000 * idle:.1f} CPU ms/s")
        for r in range(args.rounds):
            for name, kind in kinds.items():
                spy = None
                if args.spy and r == 0:
                    raw = suite.var_dir / f"spy-{name}.txt"
                    spy = subprocess.Popen([PY_SPY, "record", "-p", str(pid), "-r", "200",
                                            "-f", "raw", "-o", str(raw)],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                    time.sleep(1)
                if args.signal_profile:
                    os.kill(pid, signal.SIGUSR1)
                cpu_ms, wall_ms = measure(pid, args.calls, kind, idle)
                if args.signal_profile:
                    os.kill(pid, signal.SIGUSR2)
                    time.sleep(1)
                if spy is not None:
                    spy.send_signal(signal.SIGINT)
                    spy.wait(60)
                    top = summarise(raw, 1, 200, top=40)
                    print(f"{name}: self " + "; ".join(f"{f} {p:.0%}" for f, p in top["self"][:15]))
                    print(f"{name}: inclusive " + "; ".join(f"{f} {p:.0%}"
                                                          for f, p in top["inclusive"][:60]))
                print(f"round {r + 1} {name:7s} {cpu_ms:6.2f} CPU ms/call "
                      f"(wall {wall_ms:5.1f} ms/call, {args.calls} calls)", flush=True)
        return 0
    finally:
        suite.stop()
        suite.drop()
        null.close()


if __name__ == "__main__":
    sys.exit(main())
