"""Load benchmark: complaints' whole life (record -> sign -> routed -> visit ->
progress -> closure application -> closure) through the gateway, at a steady
rate, with the raw limits measured in the same run (issue 8).

    .venv/bin/python -m benchmarks.complaint_life        # knee search, then 10 minutes steady
    .venv/bin/python -m benchmarks.complaint_life --step-seconds 20 --rates 0.5 1 \
        --steady-seconds 30                              # a short try

1. Raw limits first: pgbench single-row INSERTs/s and raw kombu
   publish + confirm msgs/s (benchmarks.raw_limits).
2. The whole suite (scripts.suite: --instances of every service, database
   `ccrm_load`, vhost `ccrm-load`, gateway on 8120+, S3 on 9120, metrics on
   9320+); the simulation clock is set to a Monday morning and advanced
   gently (PT1M every 2 s) so timers fire as in real use.
3. Knee search: open-loop arrivals (a new life every 1/rate s, whatever the
   others are doing) at each --rates for --step-seconds; a rate is kept up
   with when >= 95 % of its lives complete within --p99-limit of the end of
   arrivals, they come out at >= 95 % of the offered rate (the spacing of
   their ends), and the whole-life p99 (from arrival) is within --p99-limit.
   Stepping stops at the first rate not kept up with.
4. Steady run: --steady-seconds at --steady-rate (default 80 % of the knee),
   sampling broker queue depths and each service process's RSS every 10 s.
5. A progress line every 10 s; at the end a Markdown block for
   docs/benchmarks.md (also var/load/report.md) and var/load/report.json.
Every process's log goes to var/load/log/<process>.log (set-up steps too).
"""
import argparse
import json
import math
import os
import platform
import shlex
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime, timezone
from pathlib import Path

import psycopg

from benchmarks.load_probes import Counters, dead_services, queues, service_rss
from benchmarks.load_report import progress_line, render_markdown, step_line
from benchmarks.load_stats import (MIN_COMPLETION, LifeResult, arrivals, find_knee, keeps_up,
                                   queue_summary, rates_between, steady_rate, summarise)
from benchmarks.raw_limits import pgbench_insert_rate, raw_publish_rate
from scripts.fault_test import START, ClockDriver
from scripts.life import ComplaintLife, Gateways, People, Timings
from scripts.run_local import REPO_ROOT
from scripts.suite import Suite, management

# Beyond 3/s too: a quiet machine kept up with 1/s at a p99 of 3.5 s, and
# stepping stops at the first rate not kept up with anyway.
DEFAULT_RATES = (0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)


class CountingGateways(Gateways):
    """Gateways that count the calls made through them (retries not included)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0
        self._count_lock = threading.Lock()

    def call(self, *args, **kwargs):
        with self._count_lock:
            self.calls += 1
        return super().call(*args, **kwargs)


class Phase:
    """One stretch of offered load: a rate for some seconds, its lives, its samples."""

    def __init__(self, label, rate, seconds):
        self.label, self.rate, self.seconds = label, rate, seconds
        self.t0 = None
        self.lives = []
        self.futures = []
        self.samples = []

    def counts(self, now, every):
        lives = list(self.lives)
        ok = [life for life in lives if life.ended is not None and life.error is None]
        return {"started": len(lives), "completed": len(ok),
                "failed": sum(1 for life in lives if life.error is not None),
                "in_flight": sum(1 for life in lives if life.ended is None),
                "done_last": sum(1 for life in ok if now - every < life.ended <= now)}


class OpenLoop:
    """Starts a complaint life every 1/rate s in a thread pool, whatever the
    lives already running are doing (a queue for a free thread counts in the
    life's time: its clock starts at its arrival)."""

    def __init__(self, gateways, people, run_id, workers, wait_seconds, say):
        self.gateways, self.people, self.run_id = gateways, people, run_id
        self.wait_seconds, self.say = wait_seconds, say
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="life")
        self._numbers = iter(range(1, 10 ** 9))

    def run(self, phase, allowance):
        """Arrivals for phase.seconds from phase.t0, then wait until every life
        has ended or `allowance` s have passed; returns that cutoff."""
        for offset in arrivals(phase.rate, phase.seconds):
            delay = phase.t0 + offset - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            life = LifeResult(tag=f"{self.run_id}-{next(self._numbers):05d}",
                              arrival=phase.t0 + offset)
            phase.lives.append(life)
            phase.futures.append(self.pool.submit(self._live, life))
        end = phase.t0 + phase.seconds
        time.sleep(max(0.0, end - time.monotonic()))
        cutoff = end + allowance
        wait(phase.futures, timeout=max(0.0, cutoff - time.monotonic()))
        return min(cutoff, time.monotonic())

    def _live(self, result):
        result.started = time.monotonic()
        timings = Timings()
        life = ComplaintLife(self.gateways, self.people, result.tag, timings,
                             wait_seconds=self.wait_seconds)
        try:
            life.run()
            result.steps = {step: sum(v) for step, v in timings.by_step.items() if v}
        except Exception as exc:  # noqa: BLE001 - every failure is counted, the load goes on
            result.error = f"{type(exc).__name__}: {exc}"[:500]
            result.steps = {step: sum(v) for step, v in timings.by_step.items() if v}
        result.ended = time.monotonic()

    def settle(self, phase, timeout):
        """Wait for lives still running after the cutoff, so the next phase starts clean."""
        _, running = wait(phase.futures, timeout=timeout)
        if running:
            self.say(f"[{phase.label}] {len(running)} lives still running after {timeout:.0f}s")

    def close(self):
        self.gateways.patience = 0      # lives still running give up at their next failure
        self.pool.shutdown(wait=False, cancel_futures=True)


class Sampler(threading.Thread):
    """Every `every` s of the phase being watched: lives, broker queue depths,
    RSS of each service process; one progress line each."""

    def __init__(self, suite, every, say):
        super().__init__(name="sampler", daemon=True)
        self.suite, self.every, self.say = suite, every, say
        self.deaths = set()
        self._phase, self._next = None, None
        self._lock = threading.Lock()
        self._halt = threading.Event()

    def watch(self, phase):
        with self._lock:
            self._phase, self._next = phase, phase.t0 + self.every

    def run(self):
        while not self._halt.wait(0.25):
            with self._lock:
                phase, due = self._phase, self._next
                if phase is None or time.monotonic() < due:
                    continue
                self._next = due + self.every
            try:
                sample = self.sample(phase)
            except Exception as exc:  # noqa: BLE001 - a missed sample must not stop the run
                self.say(f"[{phase.label}] sample failed: {exc!r}")
                continue
            phase.samples.append(sample)
            self.say(progress_line(sample))

    def sample(self, phase):
        now = time.monotonic()
        depths = queues(self.suite.vhost)
        total, fullest, most = queue_summary(depths)
        dead = dead_services(self.suite)
        self.deaths.update(dead)
        return {"phase": phase.label, "t": round(now - phase.t0, 1), "every": self.every,
                **phase.counts(now, self.every), "queue_sum": total,
                "queue_max_name": fullest, "queue_max": most,
                "rss_kib": service_rss(self.suite), "dead": dead}

    def stop(self):
        self._halt.set()
        self.join(10)


def measure(phase, load, counters, sampler, allowance, settle_timeout):
    """Run one phase; its summary with the HTTP, database and broker rates."""
    before = counters.snapshot()
    phase.t0 = time.monotonic() + 0.5
    sampler.watch(phase)
    cutoff = load.run(phase, allowance)
    after = counters.snapshot()
    load.settle(phase, settle_timeout)
    # After the settling, so lives that failed late still say why.
    summary = summarise(phase.lives, phase.rate, phase.seconds, cutoff)
    summary["rates"] = rates_between(before, after)
    summary["http_calls_per_life"] = ((after["http_calls"] - before["http_calls"])
                                      / summary["started"] if summary["started"] else None)
    summary["samples"] = phase.samples
    return summary


def machine(owner_dsn):
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


def retried(measure_once, say, tries=3, pause=5.0):
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


def load_average():
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def shared_machine_note(nproc, explicit=None):
    """Labels figures measured while other work shared the cores."""
    if explicit:
        return explicit
    one_minute = os.getloadavg()[0]
    if one_minute > 0.5 * nproc:
        return (f"the 1-minute load average was {one_minute:.1f} on {nproc} CPUs before the "
                "run: other work shared the cores, so these figures are lower bounds, not "
                "the suite's capacity.")
    return None


def parse_args(argv):
    parser = argparse.ArgumentParser(
        description="CCRM load benchmark: the whole life of complaints at a steady rate.")
    parser.add_argument("--instances", type=int, default=1, help="instances of every service")
    parser.add_argument("--rates", type=float, nargs="*", default=list(DEFAULT_RATES),
                        help="lives/s of the knee search, in increasing order "
                             f"(default {' '.join(f'{r:g}' for r in DEFAULT_RATES)}; "
                             "none: no search)")
    parser.add_argument("--step-seconds", type=float, default=60.0,
                        help="seconds of arrivals at each rate of the knee search")
    parser.add_argument("--p99-limit", type=float, default=30.0,
                        help="whole-life p99 bound (s) for a rate to count as kept up with")
    parser.add_argument("--steady-seconds", type=float, default=600.0,
                        help="seconds of the steady run (0: none)")
    parser.add_argument("--steady-rate", type=float, default=None,
                        help="lives/s of the steady run (default 80%% of the knee)")
    parser.add_argument("--sample-every", type=float, default=10.0,
                        help="seconds between samples and progress lines")
    parser.add_argument("--workers", type=int, default=None,
                        help="threads driving lives (default: enough for the highest rate)")
    parser.add_argument("--patience", type=float, default=60.0,
                        help="seconds a life waits on one call or one asynchronous step")
    parser.add_argument("--clock-step", default="PT1M", help="simulation clock advance")
    parser.add_argument("--clock-every", type=float, default=2.0,
                        help="seconds between clock advances")
    parser.add_argument("--pgbench-clients", type=int, default=8)
    parser.add_argument("--raw-seconds", type=float, default=10.0, help="pgbench's duration")
    parser.add_argument("--publish-count", type=int, default=3000,
                        help="messages of the raw kombu publish measurement")
    parser.add_argument("--note", default=None,
                        help="a note for the report (default: one when the machine was busy)")
    parser.add_argument("--database", default="ccrm_load")
    parser.add_argument("--vhost", default="ccrm-load")
    parser.add_argument("--gateway-port", type=int, default=8120)
    parser.add_argument("--s3-port", type=int, default=9120)
    parser.add_argument("--metrics-port", type=int, default=9320)
    parser.add_argument("--var-dir", type=Path, default=REPO_ROOT / "var" / "load")
    args = parser.parse_args(argv)
    if args.rates != sorted(args.rates) or any(r <= 0 for r in args.rates):
        parser.error("--rates must be positive and in increasing order")
    if not args.rates and not args.steady_rate and args.steady_seconds > 0:
        parser.error("without --rates, give --steady-rate")
    if args.workers is None:
        top = max([*args.rates, args.steady_rate or 0])
        args.workers = min(400, max(16, math.ceil(top * (args.p99_limit + args.patience))))
    return args


def write_report(report, var_dir):
    var_dir.mkdir(parents=True, exist_ok=True)
    (var_dir / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    var_dir = args.var_dir.resolve()
    var_dir.mkdir(parents=True, exist_ok=True)

    def say(text):
        print(text, flush=True)

    # The processes' output is in their own logs; echoing it here would bury the progress.
    suite_output = open(os.devnull, "w", encoding="utf-8")
    suite = Suite(var_dir, instances=args.instances, database=args.database, vhost=args.vhost,
                  gateway_port=args.gateway_port, s3_port=args.s3_port,
                  metrics_port=args.metrics_port, out=suite_output)
    report = {"command": shlex.join([".venv/bin/python", "-m", "benchmarks.complaint_life",
                                     *argv]),
              "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
              "instances": args.instances,
              "settings": {"rates": args.rates, "step_seconds": args.step_seconds,
                           "p99_limit": args.p99_limit, "min_completion": MIN_COMPLETION,
                           "steady_seconds": args.steady_seconds, "workers": args.workers,
                           "patience": args.patience, "clock_step": args.clock_step,
                           "clock_every": args.clock_every, "sample_every": args.sample_every},
              "knee_steps": [], "knee": None, "steady": None, "service_deaths": []}
    clock = sampler = load = None
    status = 1
    try:
        suite.prepare()
        report["machine"] = machine(suite.owner_dsn)
        report["note"] = shared_machine_note(report["machine"]["nproc"], args.note)
        say(f"load benchmark on {report['machine']['nproc']} CPUs, load average "
            f"{report['machine']['load_before']}, PostgreSQL connections in use "
            f"{report['machine']['pg_connections_before']}; results to {var_dir}/report.json")
        say(f"raw limits: pgbench single-row INSERTs, {args.pgbench_clients} clients, "
            f"{args.raw_seconds:g} s ...")
        pg_rate = retried(lambda: pgbench_insert_rate(args.pgbench_clients, args.raw_seconds,
                                                      database=f"{args.database}_pgbench"), say)
        say(f"raw limits: kombu publish + confirm, {args.publish_count} messages ...")
        publish = retried(lambda: raw_publish_rate(suite.amqp_uri, args.publish_count), say)
        report["raw"] = {"pgbench_insert_per_s": pg_rate, "pgbench_clients": args.pgbench_clients,
                         "pgbench_seconds": args.raw_seconds,
                         "kombu_publish_confirm_per_s": publish,
                         "kombu_messages": args.publish_count}
        say(f"raw limits: pgbench {pg_rate:,.0f} INSERT/s; kombu {publish:,.0f} msgs/s")

        say(f"starting the suite: {args.instances} instance(s) of {', '.join(suite.services)} "
            f"(logs in {suite.supervisor.log_dir}/) ...")
        suite.start()
        people = People.load(suite.tokens_file)
        control = Gateways(suite.gateway_urls)          # clock moves: not the load's calls
        admin = people.token(people.first("admin"))
        code, body = control.call("POST", "/api/admin/clock", admin, json_body={"now": START})
        if code != 200:
            raise RuntimeError(f"cannot set the clock: {code} {body}")
        clock = ClockDriver(control, admin, args.clock_step, args.clock_every)
        clock.start()
        gateways = CountingGateways(suite.gateway_urls, patience=args.patience)
        run_id = datetime.now(timezone.utc).strftime("L%H%M%S")
        load = OpenLoop(gateways, people, run_id, args.workers, args.patience, say)
        counters = Counters(suite, gateways)
        sampler = Sampler(suite, args.sample_every, say)
        sampler.start()
        say(f"suite up at {', '.join(suite.gateway_urls)}; clock set to {START}, advanced "
            f"{args.clock_step} every {args.clock_every:g} s; {args.workers} driver threads")

        for rate in args.rates:
            say(f"knee search: {rate:g} lives/s for {args.step_seconds:g} s ...")
            summary = measure(Phase(f"knee {rate:g}/s", rate, args.step_seconds), load,
                              counters, sampler, args.p99_limit, settle_timeout=4 * args.patience)
            report["knee_steps"].append(summary)
            passed = keeps_up(summary, args.p99_limit)
            say(step_line(summary, args.p99_limit, passed))
            write_report(report, var_dir)
            if not passed:
                break
        if args.rates:
            report["knee"] = find_knee(report["knee_steps"], args.p99_limit)
        rate = args.steady_rate or (steady_rate(report["knee"], args.rates)
                                    if report["knee"] else None)
        report["settings"]["steady_rate"] = rate
        if args.steady_seconds > 0 and rate:
            say(f"steady run: {rate:g} lives/s for {args.steady_seconds:g} s ...")
            summary = measure(Phase(f"steady {rate:g}/s", rate, args.steady_seconds), load,
                              counters, sampler, args.p99_limit, settle_timeout=4 * args.patience)
            report["steady"] = summary
            say(step_line(summary, args.p99_limit, keeps_up(summary, args.p99_limit)))
        report["machine"]["load_after"] = load_average()
        report["service_deaths"] = sorted(sampler.deaths)
        markdown = render_markdown(report)
        write_report(report, var_dir)
        (var_dir / "report.md").write_text(markdown, encoding="utf-8")
        say("\n----- Markdown for docs/benchmarks.md (also in "
            f"{var_dir}/report.md) -----\n\n{markdown}")
        phases = report["knee_steps"] + ([report["steady"]] if report["steady"] else [])
        if not any(phase["completed"] for phase in phases):
            say(f"no complaint life completed: the figures say nothing; see the errors above "
                f"and the logs in {suite.supervisor.log_dir}/")
        status = 0 if any(p["completed"] for p in phases) and not report["service_deaths"] else 1
    except KeyboardInterrupt:
        say("interrupted: stopping the suite")
    except Exception:  # noqa: BLE001 - say why, stop everything
        say("load benchmark could not run:\n" + traceback.format_exc())
        write_report({**report, "error": traceback.format_exc()}, var_dir)
    finally:
        for part in (sampler, clock):
            if part is not None:
                part.stop()
        if load is not None:
            load.close()
        suite.stop()
        suite.drop()
        suite_output.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
