"""Dispatch's signature bindings (visits and closure applications, SPEC §6)
for the shared binder (shared.signature_binding): how they are claimed,
finished and rescheduled in dispatch.signature_bindings."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from services.dispatch import case_repository
from services.dispatch.case import Binding
from shared.contracts.media import MediaClient
from shared.signature_binding import BindingStore, SignatureBinder


class DispatchBindings(BindingStore):
    """Each method runs its own transaction on dispatch's database."""

    def __init__(self, db: Any, clock: Any) -> None:
        self.db = db
        self.clock = clock

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Binding]:
        with self.db.transaction() as conn:
            return case_repository.claim_due_bindings(conn, now, lease_until, limit)

    def finish(self, binding: Binding, refused: str | None) -> Binding | None:
        return self._update(binding, lambda current: replace(
            current, state="refused" if refused else "bound", last_error=refused,
            attempts=current.attempts + 1,
            bound_at=None if refused else self.clock.now()))

    def failed(self, binding: Binding, error: str, next_attempt_at: datetime) -> Binding | None:
        return self._update(binding, lambda current: replace(
            current, attempts=current.attempts + 1, last_error=error,
            next_attempt_at=next_attempt_at))

    def _update(self, binding: Binding, change: Any) -> Binding | None:
        with self.db.transaction() as conn:
            current = case_repository.get_binding(conn, binding.media_id, for_update=True)
            if current is None or current.state != "pending":
                return None  # another attempt finished it first
            changed = change(current)
            case_repository.save_binding(conn, changed)
            return changed


def binder(media: MediaClient, db: Any, clock: Any) -> SignatureBinder:
    return SignatureBinder(media, DispatchBindings(db, clock))
