"""Builders for the casework tests: intake facts, routed cases and staff of
the demo organisation, and media descriptions as the media service gives them."""
from datetime import UTC, datetime, timedelta

from services.dispatch import assignment
from services.dispatch.case import merge_facts
from services.dispatch.checks import staff_of
from services.dispatch.routing import read_routing_table
from shared.events.envelope import build_envelope
from shared.events.registry import schema_for

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
SIGNED_AT = NOW - timedelta(minutes=20)
REQUESTED = NOW + timedelta(days=7)
TABLE = read_routing_table()
COMPANIES = {"GZ-P01": ("rc-gz", "pc-gz"), "GZ-P02": ("rc-gz", "pc-gz"),
             "GZ-P03": ("rc-gx", "pc-gx"), "GZ-P04": ("rc-gx", "pc-gx")}


def facts_data(complaint_id="C-GZ-2026-000001", project_id="GZ-P01", category="sales_contract",
               state="order_signed", order_round=1, **changes):
    """An intake event's ComplaintFacts, as JSON carries them."""
    region, prop = COMPANIES[project_id]
    data = {
        "complaint_id": complaint_id, "project_id": project_id, "region_company_id": region,
        "property_company_id": prop, "category": category, "channel": "phone",
        "room": "3-2-1801", "state": state, "order_round": order_round,
        "specialist_id": "p01-spec-1", "recorded_by": "p01-spec-1",
        "recorded_at": (NOW - timedelta(hours=2)).isoformat(),
        "contact_ended_at": (NOW - timedelta(hours=2)).isoformat(),
        "round_started_at": (NOW - timedelta(hours=2)).isoformat(),
        "requested_completion_at": REQUESTED.isoformat(),
        "submitted_at": (NOW - timedelta(hours=1)).isoformat(),
        "first_submitted_at": (NOW - timedelta(hours=1)).isoformat(),
        "reviewed_at": (NOW - timedelta(minutes=40)).isoformat(),
        "signed_at": SIGNED_AT.isoformat() if state == "order_signed" else None,
        "department": None, "department_reason": None, "escalation_level": None,
        "reopen_count": order_round - 1, "signature_status": "signed", "holders": [],
        "actor_id": "centre-gm", "actor_role": "centre_gm",
    }
    data.update(changes)
    return data


def facts(occurred_at=NOW, **changes):
    from services.dispatch.incoming import facts_of
    return facts_of(facts_data(**changes), occurred_at)


def routed(directory, now=NOW, **changes):
    """A case whose order was signed and routed (or failed to route)."""
    signed = facts(**changes)
    case = merge_facts(None, signed, now)
    return assignment.on_order_signed(case, signed, TABLE, directory, now, f"{case.id}-R1")


def routed_case(directory, **changes):
    outcome = routed(directory, **changes)
    assert outcome.result is not None and outcome.case.state == "routed", outcome.history
    return outcome.case


def staff(directory, person_id):
    return staff_of(directory, {"person_id": person_id, "roles": [], "kind": "person"})


def media(media_id, kind, complaint_id=None, binding=None):
    return {"id": media_id, "kind": kind, "complaint_id": complaint_id, "binding": binding}


def signature(media_id="M-GZ-" + "a" * 32, **kwargs):
    return media(media_id, "signature", **kwargs)


def photo(media_id="M-GZ-" + "b" * 32, **kwargs):
    return media(media_id, "photo", **kwargs)


def envelope_body(event_type, data, complaint_id, occurred_at=NOW):
    """The JSON body intake's outbox would publish for this event (`data` in
    its JSON form, as intake's schema reads it)."""
    return build_envelope(event_type, schema_for(event_type).load(data), producer="intake",
                          region="GZ", occurred_at=occurred_at, complaint_id=complaint_id).payload


def closure_event(event_type, complaint_id, at, application_id=None, state="closure_applied",
                  facts=None, **fields):
    """The closure loop's events as intake publishes them: the complaint's
    facts plus the event's own fields (shared/events/intake.py)."""
    stamp = at.isoformat()
    own = {
        "callback.recorded": {"callback_at": stamp, "recorded_at": stamp,
                              "by": "centre-staff-1", "by_role": "centre_staff",
                              "outcome": "reached", "note": "客户同意改日上门", "visit_ids": [],
                              "due_since": stamp},
        "closure.verified": {"application_id": application_id, "verified_at": stamp,
                             "by": "p01-spec-1", "satisfaction": 5, "comment": None},
        "closure.reviewed": {"application_id": application_id, "reviewed_at": stamp,
                             "by": "centre-deputy-gm"},
        "closure.rejected": {"application_id": application_id, "stage": "verify",
                             "rejected_at": stamp, "by": "p01-spec-1", "reason": "材料不全",
                             "returned_to": "department", "application_rejected": True},
        "complaint.closed": {"closed_at": stamp, "application_id": application_id,
                             "by": "centre-gm", "satisfaction": 5},
    }[event_type]
    own.update(fields)
    return dict(facts_data(complaint_id=complaint_id, state=state, **(facts or {})), **own)
