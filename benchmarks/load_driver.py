"""The load benchmark's driver (benchmarks.complaint_life): open-loop
arrivals of complaint lives in a thread pool, a sampler of queue depths and
process RSS while a phase runs, and one phase measured end to end.
"""
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from benchmarks.load_cpu import CpuProbe, cpu_between
from benchmarks.load_hops import server_hops
from benchmarks.load_probes import Counters, dead_services, queues, service_rss
from benchmarks.load_report import progress_line
from benchmarks.load_stats import LifeResult, arrivals, queue_summary, rates_between, summarise
from scripts.life import ComplaintLife, Gateways, People, Timings
from scripts.suite import Suite

Say = Callable[[str], None]
# The asynchronous waits poll after 10 ms, doubling up to every 200 ms: the
# hop is placed within its first few tens of ms at a few page GETs more than
# a poll every 200 ms would make.
FIRST_POLL, POLL = 0.01, 0.2


class CountingGateways(Gateways):
    """Gateways that count the calls made through them (retries not included)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calls = 0
        self._count_lock = threading.Lock()

    def call(self, *args: Any, **kwargs: Any) -> Any:
        with self._count_lock:
            self.calls += 1
        return super().call(*args, **kwargs)


class Phase:
    """One stretch of offered load: a rate for some seconds, its lives, its samples."""

    def __init__(self, label: str, rate: float, seconds: float) -> None:
        self.label, self.rate, self.seconds = label, rate, seconds
        self.t0: float | None = None
        self.lives: list[LifeResult] = []
        self.futures: list[Future] = []
        self.samples: list[dict[str, Any]] = []

    def counts(self, now: float, every: float) -> dict[str, int]:
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

    def __init__(self, gateways: Gateways, people: People, run_id: str, workers: int,
                 wait_seconds: float, say: Say) -> None:
        self.gateways, self.people, self.run_id = gateways, people, run_id
        self.wait_seconds, self.say = wait_seconds, say
        self.pool = ThreadPoolExecutor(workers, thread_name_prefix="life")
        self._numbers = iter(range(1, 10 ** 9))

    def run(self, phase: Phase, allowance: float) -> float:
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
                             wait_seconds=self.wait_seconds, poll=POLL, first_poll=FIRST_POLL)
        try:
            life.run()
        except Exception as exc:  # noqa: BLE001 - every failure is counted, the load goes on
            result.error = f"{type(exc).__name__}: {exc}"[:500]
        result.steps = {step: sum(v) for step, v in timings.by_step.items() if v}
        result.calls, result.hops = list(life.calls), dict(life.hops)
        result.complaint_id = life.complaint_id
        result.ended = time.monotonic()

    def settle(self, phase: Phase, timeout: float) -> None:
        """Wait for lives still running after the cutoff, so the next phase starts clean."""
        _, running = wait(phase.futures, timeout=timeout)
        if running:
            self.say(f"[{phase.label}] {len(running)} lives still running after {timeout:.0f}s")

    def close(self) -> None:
        self.gateways.patience = 0      # lives still running give up at their next failure
        self.pool.shutdown(wait=False, cancel_futures=True)


class Sampler(threading.Thread):
    """Every `every` s of the phase being watched: lives, broker queue depths,
    RSS of each service process; one progress line each."""

    def __init__(self, suite: Suite, every: float, say: Say) -> None:
        super().__init__(name="sampler", daemon=True)
        self.suite, self.every, self.say = suite, every, say
        self.deaths: set[str] = set()
        self._phase, self._next = None, None
        self._lock = threading.Lock()
        self._halt = threading.Event()

    def watch(self, phase: Phase) -> None:
        with self._lock:
            self._phase, self._next = phase, phase.t0 + self.every

    def run(self) -> None:
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

    def sample(self, phase: Phase) -> dict[str, Any]:
        now = time.monotonic()
        depths = queues(self.suite.vhost)
        total, fullest, most = queue_summary(depths)
        dead = dead_services(self.suite)
        self.deaths.update(dead)
        return {"phase": phase.label, "t": round(now - phase.t0, 1), "every": self.every,
                **phase.counts(now, self.every), "queue_sum": total,
                "queue_max_name": fullest, "queue_max": most,
                "rss_kib": service_rss(self.suite), "dead": dead}

    def stop(self) -> None:
        self._halt.set()
        self.join(10)


def suite_cpu_probe(suite: Suite) -> CpuProbe:
    """CPU of the suite's processes (services and S3 server, as they are now:
    a restarted one under its new pid), its database's backends, the broker."""
    return CpuProbe(lambda: [(p.name, p.pid) for p in suite.supervisor.processes],
                    suite.database)


def idle_cpu(probe: CpuProbe, seconds: float) -> dict[str, Any]:
    """Cores busy with no lives running (the clock advancing, timers firing)."""
    before = probe.snapshot()
    time.sleep(seconds)
    return cpu_between(before, probe.snapshot(), lives=0)


def measure(phase: Phase, load: OpenLoop, counters: Counters, sampler: Sampler,
            allowance: float, settle_timeout: float,
            cpu: CpuProbe | None = None) -> dict[str, Any]:
    """Run one phase; its summary with the HTTP, database and broker rates,
    and (with `cpu`) the CPU per life from the start of the phase until every
    life of it has ended, over the lives that ended without error."""
    cpu_before = cpu.snapshot() if cpu is not None else None
    before = counters.snapshot()
    phase.t0 = time.monotonic() + 0.5
    sampler.watch(phase)
    cutoff = load.run(phase, allowance)
    after = counters.snapshot()
    load.settle(phase, settle_timeout)
    cpu_after = cpu.snapshot() if cpu is not None else None
    # After the settling, so lives that failed late still say why.
    summary = summarise(phase.lives, phase.rate, phase.seconds, cutoff)
    summary["rates"] = rates_between(before, after)
    summary["http_calls_per_life"] = ((after["http_calls"] - before["http_calls"])
                                      / summary["started"] if summary["started"] else None)
    summary["samples"] = phase.samples
    # the hops as the services' own rows timed them, over the lives that got that far
    summary["server_hops"] = server_hops(counters.suite.owner_dsn,
                                         [life.complaint_id for life in phase.lives])
    if cpu_before is not None and cpu_after is not None:
        ok = sum(1 for life in phase.lives if life.ended is not None and life.error is None)
        summary["cpu"] = cpu_between(cpu_before, cpu_after, lives=ok)
    return summary

