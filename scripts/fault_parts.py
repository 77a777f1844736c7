"""The fault test's moving parts besides the faults: the complaint-life
driver, the simulation clock's driver, the keeper that restarts a process
which exited on its own, and the checks that tell the suite has settled.
"""
import json
import threading
import time
import traceback
import urllib.parse
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

from scripts.life import ComplaintLife, GaveUp, StepRefused, Timings
from scripts.reconcile import outbox_rows

DEAD_LETTER_QUEUE = "ccrm.dead-letter"


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


def _queues(where):
    """The queues of a Suite's vhost (its own management API), or of a vhost
    named by a string on the machine's broker (the load benchmark's use)."""
    if isinstance(where, str):
        from scripts.suite import management
        call, vhost = management, where
    else:
        call, vhost = where.management, where.vhost
    return call("GET", f"/api/queues/{urllib.parse.quote(vhost, safe='')}")


def queue_depths(where):
    """Messages waiting per queue. A reply queue nobody consumes belonged to a
    killed caller: its replies have no one to go to (the caller's HTTP request
    failed and was retried) and nameko lets it expire (x-expires), so it is
    counted apart, not as work left undone."""
    status, queues = _queues(where)
    if status != 200:
        raise RuntimeError(f"management API: {status} {queues}")
    return {q["name"]: q.get("messages", 0) for q in queues
            if not (q["name"].startswith("rpc.reply-") and not q.get("consumers"))}


def orphan_replies(where):
    status, queues = _queues(where)
    return sum(q.get("messages", 0) for q in queues or ()
               if q["name"].startswith("rpc.reply-") and not q.get("consumers"))


def quiesce(suite, events, conn, say, timeout=300.0, quiet=10.0):
    """Wait until every outbox is empty, every queue is drained and nothing new
    reached the subscriber for `quiet` seconds (the system has settled)."""
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        backlog = sum(1 for _, _, _, published in outbox_rows(conn) if not published)
        depths = queue_depths(suite)
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


def store_keys(endpoint, bucket="ccrm-media", access_key="ccrm-local",
               secret_key="ccrm-local-secret"):
    """Every key the object store holds (the test's local S3 takes any key)."""
    from minio import Minio
    client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=False,
                   region="us-east-1")
    if not client.bucket_exists(bucket):
        return set()
    return {o.object_name for o in client.list_objects(bucket, recursive=True)}


def answers_during(log_dir, faults, after=15.0):
    """For each fault, the HTTP statuses the gateways answered from its start
    to `after` seconds past its end (what users met), from the gateways' logs."""
    answers = []
    for path in sorted(Path(log_dir).glob("gateway-*.log")):
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            if '"nameko.web.server"' not in line or "/api/admin/clock" in line:
                continue
            try:
                entry = json.loads(line)
                status = int(entry["message"].split('HTTP/1.1" ', 1)[1].split()[0])
            except (ValueError, KeyError, IndexError):
                continue
            answers.append((datetime.fromisoformat(entry["ts"]), status))
    counted = []
    for fault in faults:
        began = datetime.fromisoformat(fault["began"])
        ended = datetime.fromisoformat(fault["ended"]) + timedelta(seconds=after)
        statuses = Counter(status for at, status in answers if began <= at <= ended)
        counted.append({"fault": fault["fault"], "target": fault["target"],
                        "answers": dict(sorted(statuses.items()))})
    return counted
