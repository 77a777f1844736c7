"""The load benchmark's figures of what a person waits on and where the CPU
goes, without the suite: each HTTP call of a complaint life timed under what
the person does, the asynchronous hops polled with a back-off, CPU ticks from
a fake /proc."""
import itertools

import pytest

from benchmarks.load_cpu import BROKER, DRIVER, PG_REST, STORAGE, CpuProbe, cpu_between, parse_stat
from benchmarks.load_stats import LifeResult, call_summary
from scripts.life import CALLS, HOPS, STEPS, ComplaintLife, People, Timings, backoff

# -- the poll's back-off ----------------------------------------------------------------


def test_backoff_doubles_from_the_first_pause_up_to_the_cap():
    assert list(itertools.islice(backoff(0.01, 0.2), 8)) == pytest.approx(
        [0.01, 0.02, 0.04, 0.08, 0.16, 0.2, 0.2, 0.2])
    # The fault test's poll: the cap from the start.
    assert list(itertools.islice(backoff(0.2, 0.2), 3)) == [0.2, 0.2, 0.2]


# -- a whole life against a fake gateway ----------------------------------------------------

NOW = "2026-01-05T09:00:00+08:00"
PEOPLE = [{"person_id": pid, "token": f"t-{pid}", "roles": [role], "project_ids": ["GZ-P01"]}
          for pid, role in (("sp", "specialist"), ("dep", "centre_deputy_gm"),
                            ("gm", "centre_gm"), ("st", "centre_staff"), ("ad", "admin"),
                            ("hd", "handler"))]


class FakeGateways:
    """Answers a life's calls; dispatch routes after `routed_after` page GETs
    that follow the signature, intake shows the closure after `applied_after`."""

    def __init__(self, routed_after, applied_after):
        self.left = {"routed": routed_after, "applied": applied_after}
        self.phase = None
        self.paths = []

    def call(self, method, path, token, json_body=None, files=None, data=None, key=None):
        self.paths.append((method, path))
        if path == "/api/admin/clock":
            return 200, {"now": NOW}
        if path == "/api/media":
            return 201, {"id": f"m-{len(self.paths)}"}
        if path == "/api/complaints":
            return 201, {"id": "C-1"}
        if path.endswith("/order/sign"):
            self.phase = "routed"
        if path.endswith("/closure/apply"):
            self.phase = "applied"
        if method == "GET":
            return 200, self.page()
        return 200, {}

    def page(self):
        shown = self.left[self.phase] <= 0
        self.left[self.phase] -= 1
        routed = self.phase == "applied" or shown
        return {"state": "closure_applied" if self.phase == "applied" and shown
                else "order_signed",
                "handler_id": "hd" if routed else None,
                "dispatch": {"state": "routed", "signed_at": NOW} if routed else None,
                "responsibility": {"handler": {"person_id": "hd"}}}


def test_every_call_of_a_life_is_timed_under_what_the_person_does():
    gateways = FakeGateways(routed_after=3, applied_after=0)
    timings = Timings()
    life = ComplaintLife(gateways, People(PEOPLE), "t1", timings, poll=0.004,
                         first_poll=0.001)
    life.run()
    labels = [label for label, _ in life.calls]
    assert len(labels) == len(gateways.paths)
    assert all(seconds >= 0 for _, seconds in life.calls)
    counts = {label: labels.count(label) for label in set(labels)}
    assert counts == {"clock": 2, "upload": 5, "record": 1, "submit": 1, "review": 1, "sign": 1,
                      "page": 5, "visit": 1, "progress": 1, "apply": 1, "verify": 1,
                      "review_closure": 1, "approve": 1}
    assert set(labels) <= {*CALLS, "clock"}
    # The steps still time as before (the fault test reads them).
    assert life.done_steps == list(STEPS) == list(timings.by_step)


def test_a_hop_is_placed_between_the_last_page_without_it_and_the_first_with_it():
    life = ComplaintLife(FakeGateways(routed_after=3, applied_after=0), People(PEOPLE), "t2",
                         poll=0.004, first_poll=0.001)
    life.run()
    assert set(life.hops) == set(HOPS)
    upper, lower = life.hops["routed"]
    # Three GETs without it, paused 1, 2 and 4 ms: the last one that did not
    # show it started 3 ms or more after the signature.
    assert upper > lower >= 0.003
    # Shown by the first GET: nothing to place it after but the call itself.
    upper, lower = life.hops["applied"]
    assert upper > lower == 0


def test_the_default_poll_keeps_the_fault_tests_pace_and_no_hop_without_a_start():
    life = ComplaintLife(FakeGateways(0, 0), People(PEOPLE), "t3")
    assert life.first_poll == life.poll == 0.2
    life.complaint_id = "C-1"
    life.gw.phase = "routed"
    life._wait_for("routed", lambda page: True)
    assert life.hops == {}


# -- the calls' and hops' figures -----------------------------------------------------------


def test_call_summary_gives_percentiles_and_calls_per_life():
    lives = [LifeResult("a", 0.0, calls=[("record", 0.1), ("page", 0.02), ("page", 0.04)],
                        hops={"routed": (0.3, 0.28)}),
             LifeResult("b", 1.0, calls=[("record", 0.3), ("page", 0.06), ("clock", 0.01)],
                        hops={"routed": (0.5, 0.46), "applied": (0.2, 0.0)})]
    summary = call_summary(lives)
    assert summary["calls_p50_p99"]["record"] == [0.1, 0.3]
    assert summary["calls_p50_p99"]["page"] == [0.04, 0.06]
    assert summary["calls_p50_p99"]["visit"] == [None, None]
    assert summary["calls_per_life"]["page"] == 1.5
    assert summary["calls_per_life"]["clock"] == 0.5
    assert summary["hops_p50_p99"] == {"routed": [0.3, 0.5], "applied": [0.2, 0.2]}
    assert summary["hops_resolution_p50"]["routed"] == pytest.approx(0.02)
    assert summary["hops_lower_p50_p99"] == {"routed": [0.28, 0.46], "applied": [0.0, 0.0]}
    assert call_summary([])["calls_per_life"]["record"] is None


# -- CPU from /proc ---------------------------------------------------------------------------


def stat(pid, comm, utime, stime, start=1000, ppid=1):
    fields = ["S", str(ppid), str(pid), str(pid), "0", "-1", "0", "0", "0", "0", "0",
              str(utime), str(stime), "0", "0", "20", "0", "1", "0", str(start), "0"]
    return f"{pid} ({comm}) " + " ".join(fields)


def fake_proc(entries):
    """A reader of /proc/<pid>/stat and cmdline from {pid: (comm, utime, stime,
    start, cmdline[, ppid])}."""
    def read(path):
        _, _, pid, name = path.split("/")
        entry = entries.get(int(pid))
        if entry is None:
            return None
        comm, utime, stime, start, cmdline, *ppid = entry
        return (stat(int(pid), comm, utime, stime, start, *ppid) if name == "stat"
                else cmdline)
    return read


def test_stat_fields_are_read_after_the_last_parenthesis():
    assert parse_stat(stat(7, "odd) (name", 12, 30, start=555, ppid=3)) == (
        "odd) (name", 3, 42, 555)


def test_cpu_per_life_by_group_from_two_readings():
    backend = "postgres: 15/main: ccrm_intake ccrm_load 127.0.0.1(4000) idle\0"
    other = "postgres: 15/main: ccrm_x other_db 127.0.0.1(4001) idle\0"
    before = {10: ("nameko", 100, 50, 1, ""), 11: ("nameko", 10, 0, 1, ""),
              12: ("python", 5, 5, 1, "", 30), 13: ("python", 50, 0, 1, "", 12),
              20: ("postgres", 40, 10, 1, backend),
              21: ("postgres", 7, 3, 1, other), 22: ("beam.smp", 1000, 500, 1, ""),
              23: ("python3", 1, 1, 1, ""), 30: ("python", 200, 20, 1, ""),
              24: ("postgres", 30, 0, 1, backend)}
    after = {**before, 10: ("nameko", 160, 70, 1, ""), 11: ("nameko", 30, 10, 1, ""),
             12: ("python", 15, 5, 1, "", 30), 13: ("python", 80, 0, 1, "", 12),
             20: ("postgres", 80, 20, 1, backend),
             21: ("postgres", 17, 3, 1, other), 22: ("beam.smp", 1200, 600, 1, ""),
             23: ("python3", 99, 99, 1, ""), 30: ("python", 240, 30, 1, ""),
             25: ("postgres", 6, 4, 9, backend),          # a backend opened meanwhile
             24: ("postgres", 2, 0, 7, backend)}         # pid reused: a new process
    readings = iter([before, after])
    clock = iter([100.0, 110.0])
    state = {}

    def read(path):
        return fake_proc(state["proc"])(path)

    probe = CpuProbe(lambda: [("intake-1", 10), ("intake-2", 11), ("storage", 12)],
                     "ccrm_load", read=read, pids=lambda: sorted(state["proc"]), own_pid=30,
                     now=lambda: next(clock))
    state["proc"] = next(readings)
    first = probe.snapshot()
    state["proc"] = next(readings)
    cpu = cpu_between(first, probe.snapshot(), lives=4, ticks_per_s=100)
    groups = {name: figures["ms"] for name, figures in cpu["groups"].items()}
    # The S3 server's moto child counts with it; the driver (whose children the
    # suite's processes are) only with its own CPU.
    assert groups == {"intake": 1100.0, STORAGE: 400.0, "postgres (database ccrm_load)": 620.0,
                      PG_REST: 100.0, BROKER: 3000.0, DRIVER: 500.0}
    assert cpu["total"]["ms"] == 5720.0
    assert cpu["total"]["ms_per_life"] == 1430.0
    assert cpu["groups"]["intake"]["cores"] == pytest.approx(0.11)
    assert cpu["seconds"] == 10.0 and cpu["lives"] == 4
    assert cpu_between(first, first, lives=0, ticks_per_s=100)["total"] == {
        "ms": 0.0, "ms_per_life": None, "cores": None}
