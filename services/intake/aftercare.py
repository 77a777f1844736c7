"""What dispatch's news changes on the centre's side (SPEC §2, §8; Art. 20-23):
who answers for the complaint (a copy of dispatch's `complaint.routed`) and
the callback the centre owes the customer after a blocked visit (Art. 23).

Pure: no I/O. Dispatch's events arrive as loaded dicts (services/intake/
incoming.py); a consumer's function returns None when the event changes
nothing (an older round, a repeat).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, tzinfo
from typing import Any

from services.intake.access import Actor, callback_role
from services.intake.model import (
    Callback,
    Complaint,
    Outcome,
    TimelineEntry,
    checked_reason,
    event_data,
    local,
)
from shared.contracts.intake.vocabulary import CLOSED, CONTACT_CLOCK_SKEW
from shared.errors import Conflict, InvalidInput

DEPARTMENT = "department"   # actor_role of what a department did (dispatch's events)
DISPATCH = "dispatch"       # actor_role of dispatch's own decisions (routing)


def iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# -- who answers for it (dispatch's complaint.routed) ----------------------------------------

def _contact(person: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if not person:
        return None
    return {key: person.get(key) for key in ("person_id", "name", "mobile", "role")
            if key in person}


def on_routed(complaint: Complaint, routed: Mapping[str, Any], now: datetime) -> Outcome | None:
    """Keep who answers for this round; a later announcement (an escalation
    moves it to the chairman) replaces an earlier one, never the reverse."""
    c = complaint
    if routed["order_round"] != c.order_round or routed["routing_id"] == c.routing_id:
        return None
    if c.routed_at is not None and routed["routed_at"] < c.routed_at:
        return None
    handler = _contact(routed["handler"]) or {}     # required by incoming.RoutedIn
    leaders = [_contact(p) for p in routed.get("leaders") or ()]
    cooperating = [{key: d.get(key) for key in ("department", "department_name", "unit_id",
                                                 "unit_name")}
                   for d in routed.get("cooperating_departments") or ()]
    extra = [_contact(routed.get(key)) for key in ("chairman", "department_head",
                                                    "supervising_leader")]
    responsibility = {
        "routing_id": routed["routing_id"], "reason": routed.get("reason"),
        "department": routed["department"], "department_name": routed.get("department_name"),
        "department_overridden": bool(routed.get("department_overridden")),
        "override_reason": routed.get("override_reason"),
        "unit_id": routed.get("unit_id"), "unit_name": routed.get("unit_name"),
        "company_id": routed.get("company_id"), "major": bool(routed.get("major")),
        "escalation_level": routed.get("escalation_level"),
        "handler": handler, "leaders": leaders, "chairman": extra[0],
        "department_head": extra[1], "supervising_leader": extra[2],
        "cooperating_departments": cooperating,
    }
    people = [p["person_id"] for p in [handler, *leaders, *extra] if p and p.get("person_id")]
    units = [u for u in [routed.get("unit_id"), routed.get("department_unit_id"),
                         *(d["unit_id"] for d in cooperating)] if u]
    new = replace(c, routing_id=routed["routing_id"], routed_at=routed["routed_at"],
                  handler_id=handler["person_id"], responsibility=responsibility,
                  responsible_person_ids=tuple(dict.fromkeys(people)),
                  responsible_unit_ids=tuple(dict.fromkeys(units)), updated_at=now)
    entry = TimelineEntry(routed["routed_at"], None, DISPATCH, "routed", c.state, c.state,
                          c.order_round, note=f"{routed.get('unit_name')}：{handler['name']}",
                          details={"routing_id": routed["routing_id"],
                                   "reason": routed.get("reason"),
                                   "department": routed["department"],
                                   "handler_id": handler["person_id"],
                                   "major": bool(routed.get("major"))})
    return Outcome(new, [entry])


# -- a blocked visit and the centre's callback (Art. 23) ---------------------------------------

def on_visit_blocked(complaint: Complaint, blocked: Mapping[str, Any],
                     now: datetime) -> Outcome | None:
    """The department could not visit (the customer's doing): the centre
    owes the customer a callback. The department's work goes on meanwhile,
    so this is a flag beside the state, not a state."""
    c = complaint
    if blocked["order_round"] != c.order_round or c.state == CLOSED \
            or blocked["visit_id"] in c.callback_visit_ids:
        return None
    new = replace(c, callback_due_since=c.callback_due_since or blocked["recorded_at"],
                  callback_visit_ids=c.callback_visit_ids + (blocked["visit_id"],),
                  updated_at=now)
    entry = TimelineEntry(blocked["recorded_at"], blocked.get("recorded_by"), DEPARTMENT,
                          "visit_blocked", c.state, c.state, c.order_round,
                          note=blocked.get("reason"),
                          details={"visit_id": blocked["visit_id"],
                                   "attempted_at": iso(blocked.get("attempted_at")),
                                   "callback_due": True})
    return Outcome(new, [entry])


def record_callback(complaint: Complaint, actor: Actor, form: Mapping[str, Any], now: datetime,
                    zone: tzinfo | None = None, *, callback_id: str) -> Outcome:
    """The centre's callback; `callback_at` is the time the caller states,
    `now` its receipt (a stated time earlier than the receipt by more than
    the grace counts from the receipt unless the deputy GM accepts it)."""
    c = complaint
    role = callback_role(actor, c)
    if c.callback_due_since is None:
        raise Conflict(f"投诉 {c.id} 没有待回访的受阻上门记录，不能登记回访 "
                       "(no blocked visit awaits a callback)")
    callback_at = form.get("callback_at") or now
    if callback_at > now + CONTACT_CLOCK_SKEW:
        raise InvalidInput({"callback_at": ["回访时间不能晚于当前时间 (cannot be in the future)"]})
    if c.signed_at is not None and callback_at < c.signed_at - CONTACT_CLOCK_SKEW:
        raise InvalidInput({"callback_at": [
            "回访时间不能早于督办单签发时间 (cannot be before the order was signed)"]})
    note = checked_reason(form.get("note"), required=False, field_name="note")
    callback = Callback(c.id, c.order_round, callback_at, now, actor.person_id, role,
                        form["outcome"], note, c.callback_visit_ids, c.callback_due_since,
                        callback_id=callback_id)
    new = replace(c, callback_due_since=None, callback_visit_ids=(), updated_at=now)
    entry = TimelineEntry(now, actor.person_id, role, "callback_recorded", c.state, c.state,
                          c.order_round, note=note,
                          details={"outcome": callback.outcome, "callback_at": iso(callback_at),
                                   "visit_ids": list(callback.visit_ids),
                                   "callback_id": callback_id})
    outcome = Outcome(new, [entry], [("callback.recorded", event_data(
        new, actor.person_id, role, zone, callback_id=callback_id,
        callback_at=local(callback_at, zone),
        recorded_at=local(now, zone), by=actor.person_id, by_role=role,
        outcome=callback.outcome, note=note, visit_ids=list(callback.visit_ids),
        due_since=local(callback.due_since, zone)))])
    outcome.callback = callback
    return outcome
