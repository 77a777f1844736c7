"""Dispatch's signature bindings (visits and closure applications, SPEC §6)
for the shared binder (shared.signature_binding): how they are claimed,
finished and rescheduled in dispatch.signature_bindings."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from services.dispatch import case_repository
from services.dispatch.case import Binding
from shared.contracts.media import MediaClient
from shared.signature_binding import BindingStore, SignatureBinder


class DispatchBindings(BindingStore):
    """Each method runs its own transaction on dispatch's database; an
    attempt's outcome is one statement (a binding no longer pending is left
    as another attempt finished it)."""

    def __init__(self, db: Any, clock: Any) -> None:
        self.db = db
        self.clock = clock

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Binding]:
        with self.db.transaction() as conn:
            return case_repository.claim_due_bindings(conn, now, lease_until, limit)

    def finish(self, binding: Binding, refused: str | None) -> Binding | None:
        return case_repository.finish_pending_binding(
            self.db, binding.media_id, state="refused" if refused else "bound",
            last_error=refused, bound_at=None if refused else self.clock.now())

    def failed(self, binding: Binding, error: str, next_attempt_at: datetime) -> Binding | None:
        return case_repository.fail_pending_binding(self.db, binding.media_id, error,
                                                    next_attempt_at)


def binder(media: MediaClient, db: Any, clock: Any) -> SignatureBinder:
    return SignatureBinder(media, DispatchBindings(db, clock))
