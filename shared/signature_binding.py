"""Binding a customer's signature to the record it confirms (SPEC §6), after
the record's commit, with one retry policy for every service that takes
signatures (intake: the complaint; dispatch: visits and closure applications).

The step's transaction writes a `pending` binding beside the record; right
after the commit the worker asks media to bind once, and a timer retries the
pending bindings whose lease or back-off has run out until media answers. A
refusal from media (the object is gone, already bound, not a signature) ends
the binding as refused; anything else (media down, slow) is retried. Retries
run on real time: a simulation clock set ahead or back must not stall them.

A service supplies a `BindingStore` (how it locks and saves its bindings and
what a finished bind changes in its records); `SignatureBinder` does the rest.
"""
from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from datetime import datetime, timedelta
from typing import Any, Protocol

from shared.clock import system_now
from shared.errors import CCRMError, Conflict, InvalidInput, NotFound

log = logging.getLogger(__name__)

RETRY_INTERVAL_SECONDS = 5          # the timer that retries pending bindings
BATCH = 50                          # bindings claimed per timer tick
LEASE = timedelta(seconds=60)       # a claimed binding is another's again after this
FIRST_DELAY = timedelta(seconds=5)
MAX_DELAY = timedelta(minutes=5)

# What media answers when it will never bind this signature: not retried.
REFUSALS: tuple[type[CCRMError], ...] = (Conflict, NotFound, InvalidInput)


def retry_delay(attempts: int) -> timedelta:
    """Back off 5 s, 10 s, 20 s ... up to 5 minutes after `attempts` failed attempts."""
    seconds = FIRST_DELAY.total_seconds() * 2 ** max(attempts - 1, 0)
    return min(timedelta(seconds=seconds), MAX_DELAY)


def lease_until(now: datetime | None = None) -> datetime:
    """When a binding written now becomes the timer's, should its worker never
    report (a crash right after the commit)."""
    return (now or system_now()) + LEASE


def error_text(exc: BaseException) -> str:
    """What is kept of a failed attempt (at most 500 characters)."""
    text = exc.message if isinstance(exc, CCRMError) else f"{type(exc).__name__}: {exc}"
    return text[:500]


class Binding(Protocol):
    """What the binder reads of a service's pending binding (read-only, so a
    frozen dataclass is one)."""

    @property
    def media_id(self) -> str: ...

    @property
    def record_type(self) -> str: ...

    @property
    def record_sha256(self) -> str: ...

    @property
    def bound_by(self) -> str | None: ...

    @property
    def complaint_id(self) -> str | None: ...

    @property
    def attempts(self) -> int: ...

    @property
    def record_id(self) -> str: ...


class MediaBinder(Protocol):
    """The part of media's client the binder calls (shared.contracts.media)."""

    def bind_signature(self, media_id: str, record_type: str, record_id: str,
                       record_sha256: str, bound_by: str | None = None,
                       complaint_id: str | None = None) -> Any: ...


class BindingStore(ABC):
    """How one service keeps its bindings. Each method runs its own
    transaction and does nothing (returns None) when the binding is no longer
    pending: another attempt finished it first."""

    @abstractmethod
    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Any]:
        """Pending bindings due for an attempt, each leased until `lease_until`."""

    @abstractmethod
    def finish(self, binding: Any, refused: str | None) -> Any:
        """The bind succeeded (`refused` None) or media refused it for good."""

    @abstractmethod
    def failed(self, binding: Any, error: str, next_attempt_at: datetime) -> Any:
        """The attempt failed and will be retried at `next_attempt_at`."""


class SignatureBinder:
    """Attempts binds through media and records each outcome in the store."""

    def __init__(self, media: MediaBinder, store: BindingStore) -> None:
        self.media = media
        self.store = store

    def attempt(self, binding: Binding) -> Any:
        """One attempt: the store's answer for the outcome (or None if another
        attempt had already finished the binding)."""
        try:
            self.media.bind_signature(binding.media_id, binding.record_type, binding.record_id,
                                      binding.record_sha256, bound_by=binding.bound_by,
                                      complaint_id=binding.complaint_id)
        except REFUSALS as refused:
            log.warning("media refused binding %s to %s %s: %s", binding.media_id,
                        binding.record_type, binding.record_id, refused.message)
            return self.store.finish(binding, refused.message)
        except Exception as exc:  # noqa: BLE001 - media down or slow: retry later
            log.warning("binding %s to %s failed (%s); will retry", binding.media_id,
                        binding.record_id, exc)
            return self.store.failed(binding, error_text(exc),
                                     system_now() + retry_delay(binding.attempts + 1))
        return self.store.finish(binding, None)

    def retry_due(self) -> int:
        """Attempt every binding whose lease or back-off has run out; how many."""
        now = system_now()
        due = self.store.claim_due(now, now + LEASE, BATCH)
        for binding in due:
            self.attempt(binding)
        return len(due)
