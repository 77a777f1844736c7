"""Notices code that blocks the eventlet hub (ARCHITECTURE, known traps).

A heartbeat green thread ticks every `tick` seconds. A real OS thread (the
unpatched `threading`), which keeps running while the hub is stuck, watches
the tick count: when it has not moved for more than `limit` seconds it takes
the main thread's stack, which is then the blocking code's. When the hub runs
again the heartbeat measures how late its tick came (its own clock, so the
duration is the block's, not the watcher's poll) and, if that exceeds the
limit too, logs an ERROR with `event: hub_blocked`, the duration and the stack,
and counts `ccrm_hub_blocked_total`. Both must agree, which keeps false
alarms out: a tick late only because the whole process was descheduled is
not seen by the watcher (it was frozen as well, and discounts its own stall).

A hub that never comes back cannot log through `logging` (its locks are
green); after `stuck_after` seconds the watcher writes one raw JSON line to
stderr itself.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from datetime import UTC, datetime
from typing import Any

import eventlet
from eventlet import patcher

from shared import metrics

_threading = patcher.original("threading")
_thread = patcher.original("_thread")
_time = patcher.original("time")

log = logging.getLogger(__name__)

EVENT = "hub_blocked"

# What the watcher saw stuck: (tick count, stack, main thread CPU seconds at capture).
Pending = tuple[int, str | None, float | None]


class HubWatch:
    def __init__(self, service: str, limit: float = 1.0, tick: float = 0.1, poll: float = 0.05,
                 stuck_after: float | None = None) -> None:
        self.service = service
        self.limit = float(limit)
        self.tick = tick
        self.poll = poll
        self.stuck_after = stuck_after or max(10.0, 10 * self.limit)
        self.reports = 0
        self._running = False
        self._ticks = 0
        self._last_tick = 0.0
        # (tick count, stack, cpu at capture) the watcher saw stuck
        self._pending: Pending | None = None
        self._heartbeat: Any = None
        self._watcher: Any = None

    # -- lifecycle (from a green thread of the hub's OS thread) ---------------------

    def start(self) -> None:
        if self._running:
            return
        self._main_ident = _thread.get_ident()
        metrics.hub_blocked.labels(self.service)      # shows 0 from the start, for rate()
        self._last_tick = _time.monotonic()
        self._running = True
        self._heartbeat = eventlet.spawn(self._beat)
        self._watcher = _threading.Thread(target=self._watch, name="ccrm-hub-watch", daemon=True)
        self._watcher.start()

    def stop(self) -> None:
        # The watcher goes first: a heartbeat that stops ticking must not look blocked.
        # Not joined (that would block the hub for a poll): it sees the flag
        # within `poll` and ends; it is a daemon thread anyway.
        self._running = False
        self._watcher = None
        if self._heartbeat is not None:
            self._heartbeat.kill()
            self._heartbeat = None

    # -- the green side -------------------------------------------------------------

    def _beat(self) -> None:
        while self._running:
            eventlet.sleep(self.tick)
            now = _time.monotonic()
            late = now - self._last_tick - self.tick
            self._last_tick = now
            pending, self._pending = self._pending, None
            if pending is not None and pending[0] == self._ticks and late > self.limit \
                    and self._running:
                self._report(late, pending)
            self._ticks += 1

    def _report(self, late: float, pending: Pending) -> None:
        _, stack, cpu_at_start = pending
        self.reports += 1
        metrics.hub_blocked.labels(self.service).inc()
        extra: dict[str, Any] = {"event": EVENT, "service": self.service,
                                 "blocked_seconds": round(late, 3),
                                 "limit_seconds": self.limit, "stack": stack}
        cpu = _main_cpu_seconds(self._main_ident)
        if cpu is not None and cpu_at_start is not None:
            # ~blocked_seconds: CPU-bound code; ~0: a blocking call (sleep, C I/O)
            extra["cpu_seconds_since_capture"] = round(cpu - cpu_at_start, 3)
        log.error("eventlet hub blocked for %.2f s (limit %.2f s); stack of the blocking code "
                  "in `stack`", late, self.limit, extra=extra)

    # -- the OS-thread side ---------------------------------------------------------

    def _watch(self) -> None:
        seen_ticks, seen_at = self._ticks, _time.monotonic()
        previous = seen_at
        captured_for: int | None = None
        stuck_for: int | None = None
        while self._running:
            _time.sleep(self.poll)
            now = _time.monotonic()
            if now - previous > self.poll + 0.5:
                seen_at = now       # this thread was frozen too: the process, not the hub
            previous = now
            ticks = self._ticks
            if ticks != seen_ticks:
                seen_ticks, seen_at = ticks, now
                continue
            stale = now - seen_at
            if stale > self.limit and captured_for != ticks:
                captured_for = ticks
                self._pending = (ticks, self._main_stack(), _main_cpu_seconds(self._main_ident))
            if stale > self.stuck_after and stuck_for != ticks and self._running:
                stuck_for = ticks
                self._write_stuck(stale)

    def _main_stack(self) -> str | None:
        frame = sys._current_frames().get(self._main_ident)
        if frame is None:
            return None
        return "".join(traceback.format_stack(frame))

    def _write_stuck(self, stale: float) -> None:
        line = json.dumps({
            "ts": datetime.fromtimestamp(_time.time(), UTC).isoformat(
                timespec="milliseconds"),
            "level": "ERROR", "logger": __name__, "service": self.service,
            "message": f"eventlet hub blocked for {stale:.1f} s and still blocked",
            "event": EVENT, "blocked_seconds": round(stale, 3), "still_blocked": True,
            "stack": self._main_stack()}, ensure_ascii=False)
        try:
            os.write(2, (line + "\n").encode("utf-8"))
        except OSError:
            pass


def _main_cpu_seconds(ident: int) -> float | None:
    try:
        return _time.clock_gettime(_time.pthread_getcpuclockid(ident))
    except (AttributeError, OSError, OverflowError):
        return None


# -- one watch per process, shared by its containers ---------------------------------

_shared: dict[str, Any] = {"watch": None, "users": 0}


def acquire(service: str, limit: float) -> HubWatch:
    if _shared["watch"] is None:
        _shared["watch"] = watch = HubWatch(service, limit)
        watch.start()
    _shared["users"] += 1
    return _shared["watch"]


def release() -> None:
    _shared["users"] -= 1
    if _shared["users"] <= 0:
        _shared["users"] = 0
        watch, _shared["watch"] = _shared["watch"], None
        if watch is not None:
            watch.stop()
