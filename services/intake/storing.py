"""What a step writes (services.intake.steps): its outcome, in the caller's
transaction, so the change, its timeline and its outbox rows commit together."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from services.intake import act_repository, repository
from services.intake.model import Outcome
from shared.signature_binding import lease_until


def store(conn: Any, outbox: Any, outcome: Outcome, now: datetime, insert: bool) -> None:
    """Write an outcome in the caller's transaction (in a pipeline: queued,
    no answer read): the complaint, its timeline, links, binding, rating,
    closures, callback, accepted time and its events in the outbox."""
    c = outcome.complaint
    repository.save_state(conn, c, outcome.entries, insert)
    if outcome.revoke_links:
        act_repository.revoke_links(conn, c.id, outcome.revoke_links, now)
    for made in outcome.new_links:
        repository.insert_link(conn, made.link)
    if outcome.used_link is not None:
        repository.mark_link_used(conn, outcome.used_link)
    if outcome.binding is not None:
        # This worker binds right after the commit; the timer takes over
        # only if that attempt never reports (a crash), once the lease ends.
        repository.insert_binding(conn, replace(outcome.binding,
                                                next_attempt_at=lease_until()))
    if outcome.rating is not None:
        repository.insert_rating(conn, outcome.rating)
    for changed in outcome.closures:
        repository.save_closure(conn, changed)
    if outcome.callback is not None:
        repository.insert_callback(conn, outcome.callback)
    if outcome.time_acceptance is not None:
        act_repository.insert_time_acceptance(conn, outcome.time_acceptance)
    for event_type, data in outcome.events:
        outbox.add(conn, event_type, data, occurred_at=now, complaint_id=c.id)
