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
5. Per phase, besides the steps: each HTTP call timed under what the person
   does (record, upload, sign, page, ...; the clock read apart, the
   benchmark's bookkeeping), the asynchronous hops (order signed -> routed,
   closure applied -> intake state) polled 10 ms after the call, doubling to
   every 200 ms, and the CPU per completed life of every process group from
   /proc (benchmarks.load_cpu), with --idle-seconds of the idle suite first.
6. A progress line every 10 s; at the end a Markdown block for
   docs/benchmarks.md (also var/load/report.md) and var/load/report.json.
--instances N runs N of every service; --instances-of intake=2 gateway=2
gives the services named another count (each gateway on a port of its own).
Every process's log goes to var/load/log/<process>.log (set-up steps too).
"""
import argparse
import json
import math
import os
import shlex
import sys
import traceback
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from benchmarks.load_driver import (
    FIRST_POLL,
    POLL,
    CountingGateways,
    OpenLoop,
    Phase,
    Sampler,
    idle_cpu,
    measure,
    suite_cpu_probe,
)
from benchmarks.load_machine import load_average, machine, retried, shared_machine_note
from benchmarks.load_probes import Counters
from benchmarks.load_report import render_markdown, step_line
from benchmarks.load_stats import MIN_COMPLETION, find_knee, keeps_up, steady_rate
from benchmarks.raw_limits import pgbench_insert_rate, raw_publish_rate
from scripts.fault_test import START, ClockDriver
from scripts.life import Gateways, People
from scripts.run_local import REPO_ROOT, add_instances_of, instances_option
from scripts.suite import Suite

# Beyond 3/s too: a quiet machine kept up with 1/s at a p99 of 3.5 s, and
# stepping stops at the first rate not kept up with anyway.
DEFAULT_RATES = (0.25, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="CCRM load benchmark: the whole life of complaints at a steady rate.")
    parser.add_argument("--instances", type=int, default=1, help="instances of every service")
    add_instances_of(parser)
    parser.add_argument("--idle-seconds", type=float, default=10.0,
                        help="seconds of the suite's CPU measured with no lives, before the "
                             "first phase (0: none)")
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
    args.instances_of = instances_option(parser, args)
    if args.rates != sorted(args.rates) or any(r <= 0 for r in args.rates):
        parser.error("--rates must be positive and in increasing order")
    if not args.rates and not args.steady_rate and args.steady_seconds > 0:
        parser.error("without --rates, give --steady-rate")
    if args.workers is None:
        top = max([*args.rates, args.steady_rate or 0])
        args.workers = min(400, max(16, math.ceil(top * (args.p99_limit + args.patience))))
    return args


def write_report(report: dict[str, Any], var_dir: Path) -> None:
    var_dir.mkdir(parents=True, exist_ok=True)
    (var_dir / "report.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
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
                  metrics_port=args.metrics_port, out=suite_output,
                  instances_of=args.instances_of)
    report = {"command": shlex.join([".venv/bin/python", "-m", "benchmarks.complaint_life",
                                     *argv]),
              "date": datetime.now(UTC).isoformat(timespec="seconds"),
              "instances": args.instances, "instances_of": args.instances_of,
              "settings": {"rates": args.rates, "step_seconds": args.step_seconds,
                           "p99_limit": args.p99_limit, "min_completion": MIN_COMPLETION,
                           "steady_seconds": args.steady_seconds, "workers": args.workers,
                           "patience": args.patience, "clock_step": args.clock_step,
                           "clock_every": args.clock_every, "sample_every": args.sample_every,
                           "poll": [FIRST_POLL, POLL], "idle_seconds": args.idle_seconds},
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

        say(f"starting the suite: {', '.join(f'{n} {s}' for s, n in suite.counts.items())} "
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
        run_id = datetime.now(UTC).strftime("L%H%M%S")
        load = OpenLoop(gateways, people, run_id, args.workers, args.patience, say)
        counters = Counters(suite, gateways)
        sampler = Sampler(suite, args.sample_every, say)
        sampler.start()
        cpu = suite_cpu_probe(suite)
        say(f"suite up at {', '.join(suite.gateway_urls)}; clock set to {START}, advanced "
            f"{args.clock_step} every {args.clock_every:g} s; {args.workers} driver threads")
        if args.idle_seconds > 0:
            say(f"CPU with no lives for {args.idle_seconds:g} s ...")
            report["idle_cpu"] = idle_cpu(cpu, args.idle_seconds)
            say(f"idle: {report['idle_cpu']['total']['cores']:.2f} cores busy")

        for rate in args.rates:
            say(f"knee search: {rate:g} lives/s for {args.step_seconds:g} s ...")
            summary = measure(Phase(f"knee {rate:g}/s", rate, args.step_seconds), load,
                              counters, sampler, args.p99_limit, settle_timeout=4 * args.patience,
                              cpu=cpu)
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
                              counters, sampler, args.p99_limit, settle_timeout=4 * args.patience,
                              cpu=cpu)
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
