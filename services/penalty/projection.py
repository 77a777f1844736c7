"""Read-models (service layer): the facts of intake's and dispatch's events,
and the deadline outcomes nobody is charged for, kept for the ledger's
names and the rankings. Each `apply_*` runs in the transaction of the
entrypoint's consume(), like charging's.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from services.penalty import readmodel
from services.penalty.context import SCHEMA, Penalty
from services.penalty.incoming import (
    CancelledIn,
    ClosureAppliedIn,
    ClosureRejectedIn,
    ClosureVerifiedIn,
    ComplaintClosedIn,
    CompletionDueIn,
    DirectoryIn,
    FactsIn,
    RoutedIn,
    load_event_data,
)
from shared import inbox

log = logging.getLogger(__name__)

Envelope = Mapping[str, Any]


def consume_cancelled(ctx: Penalty, handler: str, envelope: Envelope, now: datetime) -> None:
    """The outcome's upsert is the whole effect: one statement with the inbox row."""
    inbox.consume_statement(ctx.db, SCHEMA, handler, envelope, *readmodel.deadline_outcome_effect(
        load_event_data(CancelledIn, envelope["data"]), envelope["complaint_id"], "cancelled",
        now, guard=inbox.GUARD))


# -- intake.events ------------------------------------------------------------------------

def consume_intake_facts(ctx: Penalty, handler: str, envelope: Envelope, now: datetime) -> None:
    """A complaint's snapshot, and what its event type adds (a rating, a
    reopening, a resolution on the spot), applied once. The snapshot's upsert
    shares the inbox row's statement; for most events it is the whole effect,
    and that one statement needs no transaction around it."""
    facts = load_event_data(FactsIn, envelope["data"])
    at = envelope["occurred_at"]
    sql, params = readmodel.intake_facts_effect(facts, at, guard=inbox.GUARD)
    kind = envelope["type"]
    more: Callable[[Any], None] | None = None
    if kind == "complaint.reception_rated" and facts["score"] is not None:
        def more(conn: Any) -> None:
            readmodel.rating(conn, facts["complaint_id"],
                             facts["rated_specialist_id"] or facts["specialist_id"],
                             facts["score"], at)
    elif kind == "complaint.reopened":
        def more(conn: Any) -> None:
            readmodel.reopened(conn, facts["complaint_id"], facts["order_round"], at)
    elif kind == "complaint.resolved_on_spot":
        def more(conn: Any) -> None:
            readmodel.complaint_closed(conn, facts["complaint_id"], facts["closed_at"] or at)
    if more is None:
        inbox.consume_statement(ctx.db, SCHEMA, handler, envelope, sql, params)
        return
    then = more
    inbox.consume_with(ctx.db, SCHEMA, handler, envelope, "", params,
                       lambda conn, _: then(conn), effects=[sql])


def apply_closure_verified(ctx: Penalty, conn: Any, envelope: Envelope, now: datetime) -> None:
    readmodel.closure_verified(conn, envelope["complaint_id"],
                               load_event_data(ClosureVerifiedIn, envelope["data"]))


def apply_closure_rejected(ctx: Penalty, conn: Any, envelope: Envelope, now: datetime) -> None:
    readmodel.closure_rejected(conn, envelope["complaint_id"],
                               load_event_data(ClosureRejectedIn, envelope["data"]))


def apply_complaint_closed(ctx: Penalty, conn: Any, envelope: Envelope, now: datetime) -> None:
    data = load_event_data(ComplaintClosedIn, envelope["data"])
    readmodel.complaint_closed(conn, envelope["complaint_id"], data["closed_at"])


# -- dispatch.events -------------------------------------------------------------------------

def apply_directory(ctx: Penalty, conn: Any, envelope: Envelope, now: datetime) -> None:
    readmodel.replace_directory(conn, load_event_data(DirectoryIn, envelope["data"]))


def apply_routing(ctx: Penalty, conn: Any, envelope: Envelope, now: datetime) -> None:
    readmodel.apply_routing(conn, load_event_data(RoutedIn, envelope["data"]),
                            envelope["occurred_at"])


def apply_completion_due(ctx: Penalty, conn: Any, envelope: Envelope, now: datetime) -> None:
    data = load_event_data(CompletionDueIn, envelope["data"])
    readmodel.set_completion_due(conn, data["complaint_id"], data["completion_due_at"],
                                 envelope["occurred_at"])


def apply_closure_applied(ctx: Penalty, conn: Any, envelope: Envelope, now: datetime) -> None:
    data = load_event_data(ClosureAppliedIn, envelope["data"])
    readmodel.closure_applied(conn, data)
    readmodel.set_completion_due(conn, data["complaint_id"], data["completion_due_at"],
                                 envelope["occurred_at"])


def catch_up_directory(ctx: Penalty) -> None:
    """directory.loaded reaches penalty only if its queue existed when the
    event went out: on a first start against a new broker it did not. Until
    a directory is known, read the current one from dispatch by RPC."""
    with ctx.db.connection() as conn:
        if readmodel.directory_version(conn) is not None:
            return
    try:
        data = ctx.dispatch().directory_snapshot()
    except Exception as exc:  # noqa: BLE001 - dispatch not up yet: try again later
        log.info("directory catch-up skipped: %s", type(exc).__name__)
        return
    with ctx.db.transaction() as conn:
        readmodel.replace_directory(conn, load_event_data(DirectoryIn, data))
    log.info("directory version %s read from dispatch by RPC", data.get("version"))
