"""The process's Prometheus metrics (issue 8; docs/observability.md).

One registry per process, served at /metrics by shared.metrics_server. Every
series has a `service` label, so the few tests that run several services in
one process still tell them apart. Counters only grow: tests compare before
and after.

Gauges that cost a query (outbox backlog, sla's due timers) are read when
Prometheus scrapes, through `register_reading`, each bounded in time: a slow
database leaves the value out of that scrape instead of holding it.
"""
from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator

import eventlet
from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)
from prometheus_client.core import GaugeMetricFamily, Metric

log = logging.getLogger(__name__)

disable_created_metrics()    # no *_created series: they only add noise here

REGISTRY = CollectorRegistry(auto_describe=True)
ProcessCollector(registry=REGISTRY)   # RSS, CPU seconds, open fds, start time

# The outcome of one delivery: applied, duplicate (the inbox had it), failed
# (raised: retried or dead-lettered by shared.consumer), or sla's own
# ignored / parked / invalid.
events_consumed = Counter(
    "ccrm_events_consumed", "Events delivered to a handler, by outcome",
    ["service", "event_type", "outcome"], registry=REGISTRY)

events_published = Counter(
    "ccrm_events_published", "Events the outbox relay published (broker-confirmed)",
    ["service", "event_type"], registry=REGISTRY)

events_dead_lettered = Counter(
    "ccrm_events_dead_lettered", "Events moved to ccrm.dead-letter after their last attempt",
    ["service", "handler"], registry=REGISTRY)

handler_seconds = Histogram(
    "ccrm_handler_seconds", "Time a nameko entrypoint (rpc, event, http, timer) ran",
    ["service", "entrypoint"], registry=REGISTRY,
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60))

# Shared-clock seconds: in simulation mode a clock moved forward makes
# every timer it passes over late by that much, hence the long buckets.
timer_lag_seconds = Histogram(
    "ccrm_timer_lag_seconds", "fired_at - due_at of each timer sla fired",
    ["service"], registry=REGISTRY,
    buckets=(0.25, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400))

hub_blocked = Counter(
    "ccrm_hub_blocked", "Times the eventlet hub was blocked longer than HUB_BLOCK_LIMIT",
    ["service"], registry=REGISTRY)

READING_TIMEOUT = 2.0

# A scrape-time reading: returns a number.
Reader = Callable[[], float]


class ScrapeReadings:
    """Gauges computed at scrape time: `register(name, help, service, read)`."""

    def __init__(self, timeout: float = READING_TIMEOUT) -> None:
        self.timeout = timeout
        # name -> (help, {service: read})
        self._readings: dict[str, tuple[str, dict[str, Reader]]] = {}

    def register(self, name: str, documentation: str, service: str, read: Reader) -> None:
        self._readings.setdefault(name, (documentation, {}))[1][service] = read

    def unregister(self, name: str, service: str) -> None:
        entry = self._readings.get(name)
        if entry is not None:
            entry[1].pop(service, None)

    def describe(self) -> list[Metric]:
        return []     # names vary with what is registered; nothing to check up front

    def collect(self) -> Iterator[Metric]:
        for name, (documentation, readers) in sorted(self._readings.items()):
            family = GaugeMetricFamily(name, documentation, labels=["service"])
            for service, read in sorted(readers.items()):
                value = self._read(name, service, read)
                if value is not None:
                    family.add_metric([service], value)
            yield family

    def _read(self, name: str, service: str, read: Reader) -> float | None:
        try:
            with eventlet.Timeout(self.timeout):
                value = float(read())
        except (Exception, eventlet.Timeout) as exc:  # noqa: BLE001 - left out, not fatal
            log.warning("metric %s{service=%s} not read: %s", name, service,
                        f"{type(exc).__name__}: {exc}")
            return None
        return value if math.isfinite(value) else None


readings = ScrapeReadings()
REGISTRY.register(readings)


def register_reading(name: str, documentation: str, service: str, read: Reader) -> None:
    """`read()` -> a number, called at each scrape (within READING_TIMEOUT)."""
    readings.register(name, documentation, service, read)


def unregister_reading(name: str, service: str) -> None:
    readings.unregister(name, service)
