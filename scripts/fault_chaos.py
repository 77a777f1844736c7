"""The fault test's faults, one after another, every 20-30 s (`--interval`):

    kill       SIGKILL a service instance (its process group), start it 1-3 s later
    broker     restart the test's RabbitMQ node (stop_app / start_app)
    postgres   restart the test's PostgreSQL cluster (`pg_ctl restart -m fast`)
    stall      freeze one process's open connections to RabbitMQ and PostgreSQL
               for `STALL_SECONDS`, without a reset (new connections work)
    latency    0.5-1 s each way on every connection of one service, for 30 s
    partition  cut one service (both instances) off RabbitMQ and PostgreSQL for
               60 s, then heal
    disk       RabbitMQ's disk alarm for 30 s (publishers blocked), then cleared
    store      the object store refuses connections for 30 s

`plan()` puts every kind chosen (`--faults`) early, so a short run meets
each once, then repeats the kills with the others in between. During the
disk alarm and the store outage a probe asks the gateway what a user would
(a list; an upload) and records the answers: they must be quick 503s with a
message, never a hang or a 500.
"""
import random
import threading
import time
import traceback
from datetime import UTC, datetime

import requests

from scripts.png import tiny_png

FAULTS = ("kill", "broker", "postgres", "stall", "latency", "partition", "disk", "store")
STALL_SECONDS = 45.0          # longer than two AMQP heartbeats (15 s)
LATENCY = (0.5, 1.0)          # one way: a round trip of 1-2 s
LATENCY_SECONDS = 30.0
PARTITION_SECONDS = 60.0
ALARM_SECONDS = 30.0
STORE_SECONDS = 30.0
ANSWER_BOUND = 20.0           # a probe answered later than this: the gateway hung


def plan(faults, services, instances):
    """The order of the faults: every kind chosen once, early (PostgreSQL
    twice), a kill between any two, then the remaining kills with the other
    kinds again in between."""
    kills = [f"{s}-{i}" for i in range(1, instances + 1) for s in services]
    first = ["postgres", "broker", "stall", "latency", "postgres", "disk", "store", "partition"]
    again = ["broker", "postgres", "stall", "latency", "disk", "store", "partition"]
    others = [f for f in first + again if f in faults]
    n = len(services)
    targets = {"stall": [f"{services[0]}-1", f"{services[2 % n]}-2"],
               "latency": [services[1 % n], services[0]],
               "partition": [services[3 % n], services[4 % n]]}
    seen = dict.fromkeys(targets, 0)
    order, k = [], 0
    if "kill" in faults:
        order.append(("kill", kills[0]))
        k = 1
    for kind in others:
        if kind in targets:
            order.append((kind, targets[kind][seen[kind] % 2]))
            seen[kind] += 1
        else:
            order.append((kind, None))
        if "kill" in faults and k < len(kills):
            order.append(("kill", kills[k]))
            k += 1
    order += [("kill", victim) for victim in kills[k:]] if "kill" in faults else []
    return order


class Probe(threading.Thread):
    """Asks the gateway every 2 s, as a user would, during a fault."""

    def __init__(self, url, token, kind, fault):
        super().__init__(name=f"probe-{fault}", daemon=True)
        self.url, self.token, self.kind, self.fault = url, token, kind, fault
        self.answers = []
        self._halt = threading.Event()

    def ask(self):
        headers = {"Authorization": f"Bearer {self.token}"}
        began = time.monotonic()
        try:
            if self.kind == "upload":
                r = requests.post(self.url + "/api/media", headers=headers, timeout=60,
                                  data={"kind": "signature"},
                                  files={"file": ("probe.png", tiny_png(), "image/png")})
            else:
                r = requests.get(self.url + "/api/complaints?limit=5", headers=headers,
                                 timeout=60)
            status = r.status_code
            try:
                message = r.json().get("message") or r.json().get("error", {}).get("message")
            except (ValueError, AttributeError):
                message = r.text[:200]
        except requests.RequestException as exc:
            status, message = None, type(exc).__name__
        self.answers.append({"fault": self.fault, "ask": self.kind, "status": status,
                             "seconds": round(time.monotonic() - began, 2),
                             "message": (message or "")[:200]})

    def run(self):
        while not self._halt.is_set():
            self.ask()
            self._halt.wait(2.0)

    def stop(self):
        self._halt.set()
        self.join(90)


def wrong_answers(answers, bound=ANSWER_BOUND):
    """Probe answers that a user should not get during a fault: no answer,
    an answer later than `bound` (a hang), a 500, a 503 without a message."""
    return [a for a in answers
            if a["status"] is None or a["seconds"] > bound
            or (a["status"] >= 500 and (a["status"] != 503 or not a["message"]))]


class Chaos(threading.Thread):
    def __init__(self, suite, pg, rabbit, proxy, order, interval, seed, lock, say, probe_url,
                 probe_token):
        super().__init__(name="chaos", daemon=True)
        self.suite, self.pg, self.rabbit, self.proxy = suite, pg, rabbit, proxy
        self.order, self.interval, self.lock, self.say = order, interval, lock, say
        self.probe_url, self.probe_token = probe_url, probe_token
        self.random = random.Random(seed)
        self.screenshot, self.console = False, None
        self.log, self.answers = [], []
        self.error = None
        self._halt = threading.Event()

    def run(self):
        turn = 0
        try:
            while not self._halt.wait(self.random.uniform(*self.interval)):
                kind, target = self.order[turn % len(self.order)]
                turn += 1
                at, began = time.monotonic(), datetime.now(UTC)
                entry = {"fault": kind, "target": target, **getattr(self, f"_{kind}")(target)}
                entry["seconds"] = round(time.monotonic() - at, 1)
                entry["began"] = began.isoformat(timespec="seconds")
                entry["ended"] = datetime.now(UTC).isoformat(timespec="seconds")
                self.log.append(entry)
        except Exception as exc:  # noqa: BLE001 - a failed fault is the test's failure
            self.error = traceback.format_exc()
            self.say(f"chaos failed: {exc!r}")

    def count(self, kind):
        return sum(1 for e in self.log if e["fault"] == kind)

    def _kill(self, victim):
        with self.lock:
            pid = self.suite.kill(victim)
        self.say(f"chaos: kill -9 {victim} (pid {pid})")
        time.sleep(self.random.uniform(1.0, 3.0))
        with self.lock:
            self.suite.restart(victim)
        self.say(f"chaos: restarted {victim}")
        return {"pid": pid}

    def _broker(self, _):
        return {"down_seconds": round(self.rabbit.restart(), 1)}

    def _postgres(self, _):
        if self.screenshot and not self.console:
            return self._postgres_seen()
        self.say("chaos: pg_ctl restart -m fast (the test's PostgreSQL cluster)")
        down = self.pg.restart()
        self.say(f"chaos: PostgreSQL back after {down:.1f}s")
        return {"restart_seconds": round(down, 1)}

    def _postgres_seen(self):
        """The restart in two halves, with the console looked at in between."""
        from scripts.fault_screenshot import console_pages
        began = time.monotonic()
        self.say("chaos: pg_ctl stop -m fast; the console is looked at; pg_ctl start")
        self.pg.pause()
        try:
            self.console = console_pages(self.probe_url, self.probe_token, "fault-db-restart")
        except Exception as exc:  # noqa: BLE001 - the screenshot is evidence, not the test
            self.console = {"error": repr(exc)}
        finally:
            self.pg.resume()
        down = time.monotonic() - began
        self.say(f"chaos: PostgreSQL back after {down:.1f}s; console: {self.console}")
        return {"restart_seconds": round(down, 1), "console": self.console}

    def _stall(self, service):
        links = self.proxy.of(f"{service}.")
        stalled = sum(link.stall() for link in links)
        self.say(f"chaos: {stalled} connections of {service} stalled (no reset) "
                 f"for {STALL_SECONDS:.0f}s")
        self._halt.wait(STALL_SECONDS)
        for link in links:
            link.resume()
        self.say(f"chaos: {service}'s stalled connections resumed")
        return {"connections": stalled}

    def _latency(self, service):
        links = self.proxy.of(f"{service}-")
        for link in links:
            link.set_delay(*LATENCY)
        self.say(f"chaos: {LATENCY[0]}-{LATENCY[1]}s each way on {len(links)} links of {service}")
        self._halt.wait(LATENCY_SECONDS)
        for link in links:
            link.set_delay(0.0, 0.0)
        self.say(f"chaos: {service}'s latency removed")
        return {"links": len(links), "one_way_seconds": list(LATENCY)}

    def _partition(self, service):
        links = [link for link in self.proxy.of(f"{service}-") if not link.name.endswith(".s3")]
        for link in links:
            link.partition()
        self.say(f"chaos: {service} cut off RabbitMQ and PostgreSQL for "
                 f"{PARTITION_SECONDS:.0f}s ({len(links)} links)")
        time.sleep(PARTITION_SECONDS)
        for link in links:
            link.heal()
        self.say(f"chaos: {service}'s partition healed")
        return {"links": len(links)}

    def _probed(self, kind, fault, seconds, begin, end):
        probe = Probe(self.probe_url, self.probe_token, kind, fault)
        begin()
        probe.start()
        time.sleep(seconds)
        probe.stop()
        end()
        self.answers += probe.answers
        statuses = [a["status"] for a in probe.answers]
        self.say(f"chaos: {fault} over; the gateway answered {statuses}")
        return {"answers": statuses}

    def _disk(self, _):
        def begin():
            limit = self.rabbit.raise_disk_alarm()
            self.say(f"chaos: RabbitMQ disk free limit {limit} bytes (above the free space)")
            limit_at = time.monotonic() + 30
            while "disk" not in self.rabbit.alarms() and time.monotonic() < limit_at:
                time.sleep(0.5)
            self.say(f"chaos: RabbitMQ alarms {self.rabbit.alarms()}")

        def end():
            self.rabbit.clear_disk_alarm()
            self.say("chaos: RabbitMQ disk alarm cleared")
        return self._probed("list", "disk", ALARM_SECONDS, begin, end)

    def _store(self, _):
        links = self.proxy.of_kind(".s3")

        def begin():
            for link in links:
                link.refuse()
            self.say(f"chaos: the object store refuses connections ({len(links)} links)")

        def end():
            for link in links:
                link.accept()
            self.say("chaos: the object store is back")
        return self._probed("upload", "store", STORE_SECONDS, begin, end)

    def stop(self):
        self._halt.set()
        self.join(240)
