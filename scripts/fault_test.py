"""Fault test: complaints driven through their whole life while every service
is killed with SIGKILL in turn and RabbitMQ is restarted, then a
reconciliation of what was sent against what the database and a subscriber
saw. Every failure count must be zero.

    make fault-test                                  # 300 s of faults (the full run)
    .venv/bin/python -m scripts.fault_test --duration 90   # the short form CI runs

Two instances of every service run (`--instances`), each its own `nameko run`
process, against their own database (`ccrm_fault`) and vhost (`ccrm-fault`);
the simulation clock is advanced all the while, so deadlines fall due and
fines are charged while processes die. The report goes to stdout and to
var/fault/report.json; logs of every process to var/fault/log/.
"""
import argparse
import json
import random
import signal
import sys
import threading
import time
import traceback
import urllib.parse
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import psycopg
from psycopg.rows import dict_row

from scripts.event_log import EventLog
from scripts.life import ComplaintLife, Gateways, GaveUp, People, StepRefused, Timings
from scripts.reconcile import outbox_rows, reconcile
from scripts.run_local import REPO_ROOT
from scripts.suite import Suite, management, restart_rabbitmq

DEAD_LETTER_QUEUE = "ccrm.dead-letter"
START = "2026-11-02T09:00:00+08:00"      # a Monday morning: daily jobs fall due during the run


class Driver:
    """Worker threads each taking complaints through their life until told to stop."""

    def __init__(self, gateways, people, run_id, workers, say):
        self.gateways, self.people, self.run_id = gateways, people, run_id
        self.workers, self.say = workers, say
        self.timings = Timings()
        self.accepted = {}          # room -> complaint id
        self.completed = []
        self.failed = []
        self.started = 0
        self._lock = threading.Lock()
        self._counter = iter(range(1, 10 ** 9))
        self._halt = threading.Event()
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="life")
        self._futures = []

    def start(self):
        self._futures = [self._pool.submit(self._work) for _ in range(self.workers)]

    def _work(self):
        while not self._halt.is_set():
            with self._lock:
                n = next(self._counter)
                self.started += 1
            life = ComplaintLife(self.gateways, self.people, f"{self.run_id}-{n:05d}",
                                 self.timings)
            try:
                life.run()
                with self._lock:
                    self.completed.append(life.complaint_id)
            except (GaveUp, StepRefused) as exc:
                with self._lock:
                    self.failed.append((life.tag, life.complaint_id, str(exc)))
                self.say(f"life {life.tag} failed: {exc}")
            except Exception as exc:  # noqa: BLE001 - a driver bug: report it, go on
                with self._lock:
                    self.failed.append((life.tag, life.complaint_id, traceback.format_exc()))
                self.say(f"life {life.tag} crashed: {exc!r}")
            finally:
                if life.complaint_id:
                    with self._lock:
                        self.accepted[life.room] = life.complaint_id

    def abandon(self):
        """No new lives; don't wait for those in flight (they give up by themselves)."""
        self._halt.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def stop(self, timeout):
        """No new lives; wait for those in flight to finish."""
        self._halt.set()
        limit = time.monotonic() + timeout
        for future in self._futures:
            future.result(max(1.0, limit - time.monotonic()))
        self._pool.shutdown()


class ClockDriver(threading.Thread):
    """Moves the simulation clock forward by `step` every `every` seconds."""

    def __init__(self, gateways, token, step, every):
        super().__init__(name="clock", daemon=True)
        self.gateways, self.token, self.step, self.every = gateways, token, step, every
        self.advances = 0
        self._halt = threading.Event()

    def run(self):
        while not self._halt.wait(self.every):
            try:
                status, _ = self.gateways.call("POST", "/api/admin/clock", self.token,
                                               json_body={"advance": self.step})
                if status == 200:
                    self.advances += 1
            except GaveUp:
                pass

    def stop(self):
        self._halt.set()
        self.join(30)


class Chaos(threading.Thread):
    """Every 20-30 s: SIGKILL the next service instance in turn, or restart RabbitMQ."""

    def __init__(self, suite, victims, interval, seed, lock, say):
        super().__init__(name="chaos", daemon=True)
        self.suite, self.victims, self.interval, self.say = suite, victims, interval, say
        self.lock = lock
        self.random = random.Random(seed)
        self.log = []
        self.error = None
        self._halt = threading.Event()

    def run(self):
        turn = 0
        try:
            while not self._halt.wait(self.random.uniform(*self.interval)):
                victim = self.victims[turn % len(self.victims)]
                turn += 1
                at = time.monotonic()
                if victim == "rabbitmq":
                    restart_rabbitmq(say=self.say)
                    self.log.append({"victim": "rabbitmq", "action": "restart",
                                     "seconds": round(time.monotonic() - at, 1)})
                    continue
                with self.lock:
                    pid = self.suite.kill(victim)
                self.say(f"chaos: kill -9 {victim} (pid {pid})")
                time.sleep(self.random.uniform(1.0, 3.0))
                with self.lock:
                    self.suite.restart(victim)
                self.say(f"chaos: restarted {victim}")
                self.log.append({"victim": victim, "action": "kill -9", "pid": pid,
                                 "down_seconds": round(time.monotonic() - at, 1)})
        except Exception as exc:  # noqa: BLE001 - a failed fault is the test's failure
            self.error = traceback.format_exc()
            self.say(f"chaos failed: {exc!r}")

    def stop(self):
        self._halt.set()
        self.join(180)


class Keeper(threading.Thread):
    """Restarts a process that exited on its own, as a deployment's supervisor
    would (compose's `restart: unless-stopped`), and counts it: a service that
    gives up during a broker outage is reported, never left down."""

    def __init__(self, suite, lock, say):
        super().__init__(name="keeper", daemon=True)
        self.suite, self.lock, self.say = suite, lock, say
        self.exits = []
        self._halt = threading.Event()

    def run(self):
        while not self._halt.wait(1.0):
            with self.lock:
                for name in self.suite.dead():
                    if name not in self.suite.argv:
                        continue
                    code = self.suite.process(name).returncode
                    self.suite.kill(name)
                    self.suite.restart(name)
                    self.exits.append({"process": name, "status": code})
                    self.say(f"keeper: {name} exited on its own (status {code}); restarted")

    def stop(self):
        self._halt.set()
        self.join(10)


def victims(services, instances):
    """Each service's first instance in turn, then the second ones, with a
    RabbitMQ restart after the first kill and after every three more: the
    broker restart comes early, so a short run has one too."""
    order = []
    for instance in range(1, instances + 1):
        for n, service in enumerate(services):
            order.append(f"{service}-{instance}")
            if n % 3 == 0:
                order.append("rabbitmq")
    return order


def queue_depths(vhost):
    """Messages waiting per queue. A reply queue nobody consumes belonged to a
    killed caller: its replies have no one to go to (the caller's HTTP request
    failed and was retried) and nameko lets it expire (x-expires), so it is
    counted apart, not as work left undone."""
    status, queues = management("GET", f"/api/queues/{urllib.parse.quote(vhost, safe='')}")
    if status != 200:
        raise RuntimeError(f"management API: {status} {queues}")
    return {q["name"]: q.get("messages", 0) for q in queues
            if not (q["name"].startswith("rpc.reply-") and not q.get("consumers"))}


def orphan_replies(vhost):
    status, queues = management("GET", f"/api/queues/{urllib.parse.quote(vhost, safe='')}")
    return sum(q.get("messages", 0) for q in queues or ()
               if q["name"].startswith("rpc.reply-") and not q.get("consumers"))


def quiesce(suite, events, conn, say, timeout=300.0, quiet=10.0):
    """Wait until every outbox is empty, every queue is drained and nothing new
    reached the subscriber for `quiet` seconds (the system has settled)."""
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        backlog = sum(1 for _, _, _, published in outbox_rows(conn) if not published)
        depths = queue_depths(suite.vhost)
        busy = {q: n for q, n in depths.items() if n and q != DEAD_LETTER_QUEUE}
        if not backlog and not busy and events.quiet_for() > quiet:
            return True
        say(f"settling: outbox backlog {backlog}, queues {busy or 'empty'}")
        time.sleep(3.0)
    return False


def hub_blocked_lines(log_dir):
    found = []
    for path in sorted(Path(log_dir).glob("*.log")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if "hub_blocked" in line:
                found.append(f"{path.name}: {line[:300]}")
    return found


def percentile(values, p):
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100.0 * (len(values) - 1))))]


def main(argv=None):
    parser = argparse.ArgumentParser(description="CCRM fault test (kill -9 + broker restarts).")
    parser.add_argument("--duration", type=float, default=300.0,
                        help="seconds of faults (default 300: each service's first instance "
                             "killed once, two broker restarts)")
    parser.add_argument("--interval", type=float, nargs=2, default=(20.0, 30.0),
                        metavar=("MIN", "MAX"), help="seconds between faults (default 20 30)")
    parser.add_argument("--instances", type=int, default=2)
    parser.add_argument("--workers", type=int, default=4, help="complaints driven at once")
    parser.add_argument("--clock-step", default="PT5M", help="simulation clock advance")
    parser.add_argument("--clock-every", type=float, default=1.0,
                        help="seconds between clock advances")
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--var-dir", type=Path, default=REPO_ROOT / "var" / "fault")
    args = parser.parse_args(argv)

    started = time.monotonic()
    run_id = datetime.now(timezone.utc).strftime("%H%M%S")
    suite = Suite(args.var_dir, instances=args.instances)
    say = suite.say
    events = keeper = chaos = driver = clock = gateways = None
    status = 1
    try:
        say(f"fault test: {args.instances} instances of {', '.join(suite.services)}; "
            f"{args.duration:.0f}s of faults every {args.interval[0]:.0f}-{args.interval[1]:.0f}s")
        suite.prepare()
        # Bound before anything is published, like a group system subscribed for good.
        events = EventLog(suite.amqp_uri, [f"{s}.events" for s in suite.services],
                          "fault.subscriber", say=say)
        events.start()
        if not events.ready.wait(30):
            raise RuntimeError("the subscriber could not bind its queue")
        suite.start()
        people = People.load(suite.tokens_file)
        gateways = Gateways(suite.gateway_urls)
        admin = people.token(people.first("admin"))
        status_code, body = gateways.call("POST", "/api/admin/clock", admin,
                                          json_body={"now": START})
        if status_code != 200:
            raise RuntimeError(f"cannot set the clock: {status_code} {body}")
        with psycopg.connect(suite.owner_dsn, autocommit=True, row_factory=dict_row) as conn:
            # Set-up's events (directory.loaded) went out before the consumers'
            # queues existed; penalty catches up by RPC instead (not by its inbox).
            before_drive = {e for _, e, _, _ in outbox_rows(conn)}
        clock = ClockDriver(gateways, admin, args.clock_step, args.clock_every)
        driver = Driver(gateways, people, run_id, args.workers, say)
        lock = threading.Lock()
        chaos = Chaos(suite, victims(suite.services, args.instances), args.interval,
                      args.seed, lock, say)
        keeper = Keeper(suite, lock, say)
        keeper.start()
        clock.start()
        driver.start()
        chaos.start()
        time.sleep(args.duration)
        chaos.stop()
        say("faults over: letting the complaints in flight finish")
        driver.stop(timeout=600)
        clock.stop()
        with psycopg.connect(suite.owner_dsn, autocommit=True, row_factory=dict_row) as conn:
            settled = quiesce(suite, events, conn, say)
            depths = queue_depths(suite.vhost)
            status_code, bindings = management(
                "GET", f"/api/bindings/{urllib.parse.quote(suite.vhost, safe='')}")
            failures, figures, examples = reconcile(
                conn, accepted=driver.accepted, completed=driver.completed,
                failed=driver.failed, events=events.snapshot(), bindings=bindings,
                before_drive=before_drive,
                queue_depths={q: n for q, n in depths.items() if q != DEAD_LETTER_QUEUE},
                dead_letters=depths.get(DEAD_LETTER_QUEUE, 0),
                hub_blocked=hub_blocked_lines(suite.supervisor.log_dir), exited=keeper.exits)
        kills = [c for c in chaos.log if c["victim"] != "rabbitmq"]
        report = {
            "command": "python -m scripts.fault_test " + " ".join(argv or sys.argv[1:]),
            "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "duration_seconds": round(time.monotonic() - started),
            "fault_seconds": args.duration,
            "instances": args.instances,
            "settled": settled,
            "failures": failures,
            "figures": {
                **figures,
                "lives_started": driver.started,
                "kills": len(kills),
                "unplanned_exits": keeper.exits,
                "broker_restarts": len(chaos.log) - len(kills),
                "faults": chaos.log,
                "http_retries": gateways.retries,
                "replies_to_killed_callers": orphan_replies(suite.vhost),
                "clock_advances": clock.advances,
                "subscriber_deliveries": events.deliveries,
                "subscriber_redelivered_flag": events.redelivered,
                "subscriber_repeated_event_ids": events.repeated,
                "subscriber_reconnects": events.reconnects,
                "step_seconds_p50_p99": {
                    step: [round(percentile(v, 50), 2), round(percentile(v, 99), 2)]
                    for step, v in driver.timings.by_step.items() if v},
            },
            "examples": examples,
            "chaos_error": chaos.error,
        }
        args.var_dir.mkdir(parents=True, exist_ok=True)
        (args.var_dir / "report.json").write_text(
            json.dumps(report, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
        say(json.dumps(report, ensure_ascii=False, indent=2, default=str))
        ok = settled and not any(failures.values()) and chaos.error is None
        if not (kills and len(chaos.log) > len(kills)):
            ok = False
            say("too few faults to prove anything: at least one kill and one RabbitMQ restart "
                "are needed (give --duration 60 or more)")
        if not settled:
            say("the suite did not settle within 300 s after the faults (see the lines above)")
        say(f"fault test {'PASSED' if ok else 'FAILED'}: "
            + ", ".join(f"{k} {v}" for k, v in failures.items())
            + f"; {figures['complaints_recorded']} complaints, {figures['events_published']} "
            f"events, {len(kills)} kills, {len(chaos.log) - len(kills)} broker restarts, "
            f"{events.redelivered} redelivered, {report['duration_seconds']}s")
        status = 0 if ok else 1
    except KeyboardInterrupt:
        say("interrupted: stopping everything (a RabbitMQ restart under way is finished first)")
        status = 130
    except Exception:  # noqa: BLE001 - say why, stop everything
        say("fault test could not run:\n" + traceback.format_exc())
        status = 1
    finally:
        # A second Ctrl-C (the terminal's and make's both arrive) must not cut
        # the clean-up short and leave processes or a stopped broker behind.
        previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT,
                                                                         signal.SIGTERM)}
        if gateways is not None:
            gateways.patience = 0            # lives still running give up at once
        for part in (chaos, keeper, clock, events):
            if part is not None:
                part.stop()
        if driver is not None:
            driver.abandon()
        suite.stop()
        suite.drop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return status


if __name__ == "__main__":
    sys.exit(main())
