"""Charging (service layer): sla's deadline and overdue events become ledger
lines and sanction cases, in the transaction that records the event in the
inbox (the entrypoint's consume()).

Each `apply_*` takes the context, the open transaction, the event's envelope
and the time it is handled. `record()` prices and stores charges: a charge
whose source key is already in the ledger is silently the same one, so a
fact described by two events is charged once.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from services.penalty import ledger, readmodel, sanctions, views
from services.penalty.context import SCHEMA, Penalty, new_id
from services.penalty.incoming import (
    DeadlineIn,
    MissedIn,
    OverdueIn,
    OverdueWithdrawnIn,
    WithdrawnIn,
    load_event_data,
)
from services.penalty.ledger import Charge, Line
from services.penalty.repository import cases as case_store
from services.penalty.repository import lines as line_store
from services.penalty.rules import BLOCK_RULES
from services.penalty.sanctions import Case
from shared import inbox

Envelope = Mapping[str, Any]


def record(ctx: Penalty, conn: Any, charges: Sequence[Charge], now: datetime,
           event_id: object = None, reason: str | None = None) -> list[Line]:
    """Price and insert charges; each new line is announced."""
    if not charges:
        return []
    people = readmodel.people(conn, {c.person_id for c in charges})
    lines = [ledger.to_line(charge, people.get(charge.person_id), line_id=new_id(),
                            now=now, zone=ctx.zone,
                            event_id=str(event_id) if event_id else None)
             for charge in charges]
    written: list[Line] = line_store.insert_lines(conn, lines)
    for line in written:
        if line.reverses is not None:
            ctx.outbox.add(conn, "deduction.reversed", views.line_event(line, reason),
                           occurred_at=now, complaint_id=line.complaint_id)
        else:
            ctx.outbox.add(conn, "deduction.recorded", views.line_event(line),
                           occurred_at=now, complaint_id=line.complaint_id)
    return written


def reverse_timer(ctx: Penalty, conn: Any, timer_id: str, reason: str, at: datetime,
                  now: datetime, event_id: object) -> list[Line]:
    """Everything a withdrawn (or met after all) deadline charged, reversed."""
    lines = [line for line in line_store.lines_for_timer(conn, timer_id)
             if ledger.reversible(line, allow_negative=True)]
    charges = [ledger.reversal(line, reason, at, event_id=str(event_id)) for line in lines]
    return record(ctx, conn, charges, now, event_id, reason)


def open_cases(ctx: Penalty, conn: Any, cases: Iterable[Case], now: datetime) -> None:
    for case in cases:
        if case_store.insert_case(conn, case):
            ctx.outbox.add(conn, "sanction_case.opened", views.case_opened(case),
                           occurred_at=now, complaint_id=case.complaint_id)


# -- sla.events ---------------------------------------------------------------------------

def consume_deadline(ctx: Penalty, handler: str, envelope: Envelope, now: datetime) -> None:
    """A deadline's outcome (missed, met, withdrawn) applied once: its upsert
    in the statement of the inbox row, then what it charges or reverses."""
    reader, outcome, then = _DEADLINES[handler]
    data = load_event_data(reader, envelope["data"])
    sql, params = readmodel.deadline_outcome_effect(data, envelope["complaint_id"], outcome, now,
                                                    guard=inbox.GUARD)
    inbox.consume_with(ctx.db, SCHEMA, handler, envelope, "", params,
                       lambda conn, _: then(ctx, conn, envelope, data, now), effects=[sql])


def _missed(ctx: Penalty, conn: Any, envelope: Envelope, data: Mapping[str, Any],
            now: datetime) -> None:
    """A block-counted step is charged from its final miss only (less what
    the month cuts charged); the others at once."""
    complaint_id = envelope["complaint_id"]
    already = 0
    if data["rule"] in BLOCK_RULES:
        if not data["final"]:
            line_store.open_miss(conn, data, complaint_id, now)
            return
        line_store.end_miss(conn, data, complaint_id, now, "final")
        already = line_store.blocks_charged(conn, data["timer_id"], data["rule"]).get(
            data.get("person_id"), 0)
    charges = ledger.missed_charges(data, complaint_id, ctx.rulebook, ctx.zone, already)
    record(ctx, conn, charges, now, envelope["event_id"])


def _met(ctx: Penalty, conn: Any, envelope: Envelope, data: Mapping[str, Any],
         now: datetime) -> None:
    """Met after a miss was announced (the step's event arrived after the
    deadline fired): whatever that miss charged is reversed."""
    if data["rule"] in BLOCK_RULES:
        line_store.end_miss(conn, data, envelope["complaint_id"], now, "met")
    reverse_timer(ctx, conn, data["timer_id"], "deadline_met", envelope["occurred_at"], now,
                  envelope["event_id"])


def _withdrawn(ctx: Penalty, conn: Any, envelope: Envelope, data: Mapping[str, Any],
               now: datetime) -> None:
    if data["rule"] in BLOCK_RULES:
        line_store.end_miss(conn, data, envelope["complaint_id"], now, "withdrawn")
    reverse_timer(ctx, conn, data["timer_id"], "deadline_withdrawn", envelope["occurred_at"],
                  now, envelope["event_id"])


_DEADLINES: dict[str, tuple[type, str, Callable[..., None]]] = {
    "deadline.missed": (MissedIn, "missed", _missed),
    "deadline.met": (DeadlineIn, "met", _met),
    "deadline.withdrawn": (WithdrawnIn, "withdrawn", _withdrawn),
}


def apply_overdue(ctx: Penalty, conn: Any, envelope: Envelope, now: datetime) -> None:
    data = load_event_data(OverdueIn, envelope["data"])
    complaint_id = envelope["complaint_id"] or data["complaint_id"]
    charges = ledger.overdue_charges(data, complaint_id, ctx.rulebook, ctx.zone)
    record(ctx, conn, charges, now, envelope["event_id"])


def apply_sanction_due(ctx: Penalty, conn: Any, envelope: Envelope, now: datetime) -> None:
    """Day 16 (Art. 36.3): cases, not money."""
    data = load_event_data(OverdueIn, envelope["data"])
    complaint_id = envelope["complaint_id"] or data["complaint_id"]
    open_cases(ctx, conn, sanctions.overdue_cases(data, complaint_id, ctx.rulebook, ctx.zone,
                                                  now, new_id), now)


def apply_overdue_withdrawn(ctx: Penalty, conn: Any, envelope: Envelope, now: datetime) -> None:
    """The overdue days are reversed and the day-16 cases still open withdrawn."""
    data = load_event_data(OverdueWithdrawnIn, envelope["data"])
    reverse_timer(ctx, conn, data["timer_id"], "overdue_withdrawn", envelope["occurred_at"],
                  now, envelope["event_id"])
    for case in case_store.open_cases_for_timer(conn, data["timer_id"]):
        withdrawn = sanctions.withdraw(case, "overdue_withdrawn", now)
        if withdrawn is None:
            continue
        case_store.save_case(conn, withdrawn)
        ctx.outbox.add(conn, "sanction_case.withdrawn",
                       dict(views.case_facts(withdrawn), reason="overdue_withdrawn"),
                       occurred_at=now, complaint_id=withdrawn.complaint_id)
