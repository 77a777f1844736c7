"""The one clock every service reads (ARCHITECTURE, Time; SPEC §9).

Production reads the system clock. Simulation mode keeps an offset in the
database (`clock.settings`) that an admin sets or advances; every process adds
it to the system time, so all services agree on "now" and timers fire as if
that time had passed. Domain code never calls this: it is handed `now`.
"""
from __future__ import annotations

import logging
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from nameko.extensions import DependencyProvider

from shared.config import as_bool
from shared.errors import Forbidden, InvalidInput

if TYPE_CHECKING:
    from shared.db import Database

log = logging.getLogger(__name__)


def system_now() -> datetime:
    return datetime.now(UTC)


class Clock(ABC):
    """Interface: `now()` is an aware UTC datetime; `zone` the group's zone."""

    simulated = False

    def __init__(self, zone: str = "Asia/Shanghai") -> None:
        self.zone = ZoneInfo(zone)

    @abstractmethod
    def now(self) -> datetime:
        """The current time, aware, in UTC."""

    def local_now(self) -> datetime:
        return self.now().astimezone(self.zone)

    def set(self, now: datetime, by: str | None = None) -> datetime | None:
        raise Forbidden("生产模式下不能调整时钟 (the clock can only be set in simulation mode)")

    def advance(self, delta: timedelta, by: str | None = None) -> datetime | None:
        raise Forbidden("生产模式下不能调整时钟 (the clock can only be set in simulation mode)")


class SystemClock(Clock):
    def now(self) -> datetime:
        return system_now()


class FixedClock(Clock):
    """For unit tests: time moves only when the test moves it."""

    simulated = True

    def __init__(self, now: datetime, zone: str = "Asia/Shanghai") -> None:
        super().__init__(zone)
        self._now = now

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime, by: str | None = None) -> None:
        self._now = now

    def advance(self, delta: timedelta, by: str | None = None) -> None:
        self._now += delta


class SimulationClock(Clock):
    """System time plus an offset stored in `clock.settings`, shared by all."""

    simulated = True

    def __init__(self, database: Database, zone: str = "Asia/Shanghai",
                 cache_seconds: float = 0.2) -> None:
        super().__init__(zone)
        self.database = database
        self.cache_seconds = cache_seconds
        self._offset: timedelta | None = None
        self._read_at = 0.0
        self._lock = threading.Lock()

    def offset(self) -> timedelta:
        with self._lock:
            fresh = time.monotonic() - self._read_at < self.cache_seconds
            if self._offset is None or not fresh:
                with self.database.connection() as conn:
                    row = conn.execute(
                        "SELECT offset_us FROM clock.settings WHERE id = 1").fetchone()
                self._offset = timedelta(microseconds=row["offset_us"] if row else 0)
                self._read_at = time.monotonic()
            return self._offset

    def now(self) -> datetime:
        return system_now() + self.offset()

    def set(self, now: datetime, by: str | None = None) -> datetime:
        if now.tzinfo is None:
            raise InvalidInput({"now": ["时间须带时区 (time needs an offset, e.g. +08:00)"]})
        return self._store(by, offset=now - system_now())

    def advance(self, delta: timedelta, by: str | None = None) -> datetime:
        return self._store(by, delta=delta)

    def _store(self, by: str | None, *, offset: timedelta | None = None,
               delta: timedelta | None = None) -> datetime:
        """Read and write the offset in one transaction, under the row's lock:
        two admins advancing at once both count."""
        with self.database.transaction() as conn:
            row = conn.execute(
                "SELECT offset_us FROM clock.settings WHERE id = 1 FOR UPDATE").fetchone()
            current = timedelta(microseconds=row["offset_us"] if row else 0)
            if offset is not None:
                new = offset
            else:
                assert delta is not None    # advance() gives a delta
                new = current + delta
            if new < current - timedelta(seconds=1):
                log.warning("simulation clock moved backwards by %s (by %s)", current - new, by)
            offset_us = new // timedelta(microseconds=1)
            conn.execute(
                """INSERT INTO clock.settings (id, offset_us, changed_at, changed_by)
                   VALUES (1, %(offset)s, now(), %(by)s)
                   ON CONFLICT (id) DO UPDATE SET offset_us = EXCLUDED.offset_us,
                       changed_at = EXCLUDED.changed_at, changed_by = EXCLUDED.changed_by""",
                {"offset": offset_us, "by": by})
        with self._lock:
            self._offset = timedelta(microseconds=offset_us)
            self._read_at = time.monotonic()
        return self.now()


def clock_from_config(config: Mapping[str, Any], database: Database) -> Clock:
    zone = config.get("TIME_ZONE", "Asia/Shanghai")
    if as_bool(config.get("SIMULATION", False)):
        return SimulationClock(database, zone, float(config.get("CLOCK_CACHE_SECONDS", 0.2)))
    return SystemClock(zone)


class ClockProvider(DependencyProvider):
    """Gives a worker the shared clock (needs the service's DatabaseProvider
    config; it opens its own small pool for the offset reads)."""

    def setup(self) -> None:
        from shared.db import Database, database_url
        config = self.container.config
        # The service's own URL (its role may read clock.settings).
        self.database = Database(database_url(config, self.container.service_name), size=2)
        self.clock = clock_from_config(config, self.database)

    def stop(self) -> None:
        self.database.close()

    kill = stop

    def get_dependency(self, worker_ctx: Any) -> Clock:
        return self.clock
