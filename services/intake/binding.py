"""Intake's store of signature bindings for the shared binder
(shared.signature_binding): how a binding is claimed, finished or put back
for a retry, and what a finished bind changes on the complaint.

Each method runs its own transaction and answers (complaint, binding, entry)
as stored after the attempt (entry None after a failure), or None when the
binding was no longer pending: another attempt finished it first.
"""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from services.intake import repository
from services.intake.model import Binding, Complaint, TimelineEntry
from services.intake.signature import signature_bound, signature_refused
from shared.signature_binding import BindingStore

Attempt = tuple[Complaint, Binding, TimelineEntry | None]


class IntakeBindings(BindingStore):
    """Bindings in intake.signature_bindings; `clock` dates the timeline."""

    def __init__(self, db: Any, clock: Any) -> None:
        self.db = db
        self.clock = clock

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Binding]:
        with self.db.transaction() as conn:
            return repository.claim_due_bindings(conn, now, lease_until, limit)

    def finish(self, binding: Binding, refused: str | None) -> Attempt | None:
        now = self.clock.now()
        with self.db.transaction() as conn:
            complaint = repository.get_complaint(conn, binding.complaint_id, for_update=True)
            current = repository.get_binding(conn, binding.media_id, for_update=True)
            if complaint is None or current is None or current.state != "pending":
                return None
            if refused is None:
                complaint, current, entry = signature_bound(complaint, current, now)
            else:
                complaint, current, entry = signature_refused(complaint, current, refused, now)
            repository.update_complaint(conn, complaint)
            repository.save_binding(conn, current)
            repository.add_timeline(conn, complaint.id, [entry])
        return complaint, current, entry

    def failed(self, binding: Binding, error: str, next_attempt_at: datetime) -> Attempt | None:
        with self.db.transaction() as conn:
            complaint = repository.get_complaint(conn, binding.complaint_id)
            current = repository.get_binding(conn, binding.media_id, for_update=True)
            if complaint is None or current is None or current.state != "pending":
                return None
            current = replace(current, attempts=binding.attempts + 1, last_error=error,
                              next_attempt_at=next_attempt_at)
            repository.save_binding(conn, current)
        return complaint, current, None
