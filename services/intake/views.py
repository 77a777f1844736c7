"""Intake's answers: its records dumped with the contract's views
(shared.contracts.intake.views), times in the group's zone."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import Any

from services.intake.listing import Names
from services.intake.model import (
    Binding,
    Callback,
    Closure,
    Complaint,
    Holder,
    Link,
    Rating,
    TimeAcceptance,
    TimelineEntry,
)
from shared.categories import CATEGORIES
from shared.contracts.intake import views
from shared.contracts.intake.vocabulary import (
    CALLBACK_OUTCOMES,
    CHANNEL_LABELS,
    CLOSURE_LABELS,
    ESCALATION_LEVELS,
    SIG_PENDING,
    SIGNED_BY_LINK,
    STATE_LABELS,
    VOIDED,
)
from shared.organisation import DEPARTMENT_NAMES_ZH

_DECISION_ACTIONS = {"order_reviewed": ("review", "approve"),
                     "order_review_rejected": ("review", "reject"),
                     "order_signed": ("sign", "approve"),
                     "order_sign_rejected": ("sign", "reject")}

# Dump schemas are built once: building one costs more than using it.
_SUMMARY, _VIEW, _LINK = views.ComplaintSummary(), views.ComplaintView(), views.LinkView()
_LIST_ITEM, _EXPORT_ROW = views.ComplaintListItem(), views.ComplaintExportRow()
_ACCEPTANCE = views.TimeAcceptanceView()
SIGNATURE_LABELS = {"pending": "客户未签名", "binding": "签名绑定中", "signed": "客户已签名",
                    "refused": "签名无效"}


@dataclass(frozen=True)
class Acts:
    """What the page shows of issue 13's acts: accepted stated times (by
    callback id), the grace, and the signing links sent."""
    accepted: dict[str, TimeAcceptance] = field(default_factory=dict)
    grace: timedelta = timedelta(minutes=30)
    signing_links: tuple[Link, ...] | list[Link] = ()


def _localise(value: Any, zone: tzinfo) -> Any:
    """Datetimes (also inside dicts and lists) in the group's zone."""
    if isinstance(value, datetime):
        return value.astimezone(zone)
    if isinstance(value, dict):
        return {k: _localise(v, zone) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_localise(v, zone) for v in value]
    return value


def _holder(h: Holder) -> dict[str, Any]:
    return {"person_id": h.person_id, "role": h.role, "held_from": h.held_from,
            "held_to": h.held_to}


def complaint_dict(c: Complaint) -> dict[str, Any]:
    return {
        "id": c.id, "region": c.region, "project_id": c.project_id, "room": c.room,
        "customer_name": c.customer_name, "customer_phone": c.customer_phone,
        "channel": c.channel, "demand": c.demand, "category": c.category,
        "category_label": CATEGORIES.get(c.category, c.category),
        "state": c.state, "state_label": STATE_LABELS.get(c.state, c.state),
        "signature_status": c.signature_status, "recorded_by": c.recorded_by,
        "recorded_at": c.recorded_at, "requested_completion_at": c.requested_completion_at,
        "contact_ended_at": c.contact_ended_at, "resolved_on_spot": c.resolved_on_spot,
        "region_company_id": c.region_company_id, "property_company_id": c.property_company_id,
        "closed_at": c.closed_at, "escalation_level": c.escalation_level,
        "reopen_count": c.reopen_count,
        "holder": _holder(c.holder) if c.holder else None,
        "handler_id": c.handler_id, "callback_due": c.callback_due_since is not None,
    }


def dump_summary(complaint: Complaint, zone: tzinfo) -> dict[str, Any]:
    return _SUMMARY.dump(_localise(complaint_dict(complaint), zone))


def list_item(c: Complaint, names: Names) -> dict[str, Any]:
    """A row of the list: the summary with the names beside the ids."""
    routed = c.responsibility or {}
    handler = routed.get("handler") or {}
    department = routed.get("department") or c.department
    holder = c.holder
    return dict(
        complaint_dict(c), customer_phone=c.customer_phone,
        channel_label=CHANNEL_LABELS.get(c.channel, c.channel),
        project_name=names.project(c.project_id),
        recorded_by_name=names.person(c.recorded_by),
        holder_name=names.person(holder.person_id) if holder else None,
        department=department,
        department_label=(routed.get("department_name")
                          or DEPARTMENT_NAMES_ZH.get(department or "", department)),
        handler_name=handler.get("name") or names.person(c.handler_id),
        updated_at=c.updated_at, demand=c.demand, unit_name=routed.get("unit_name"))


def dump_list_items(complaints: Iterable[Complaint], zone: tzinfo,
                    names: Names) -> list[dict[str, Any]]:
    return _LIST_ITEM.dump([_localise(list_item(c, names), zone) for c in complaints], many=True)


def dump_export_rows(complaints: Iterable[Complaint], zone: tzinfo,
                     names: Names) -> list[dict[str, Any]]:
    return _EXPORT_ROW.dump([_localise(list_item(c, names), zone) for c in complaints],
                            many=True)


def _closure(x: Closure) -> dict[str, Any]:
    return dict(vars(x), status_label=CLOSURE_LABELS[x.status])


def _responsibility(c: Complaint) -> dict[str, Any] | None:
    if c.responsibility is None:
        return None
    return dict(c.responsibility, routed_at=c.routed_at)


def acceptance_dict(a: TimeAcceptance) -> dict[str, Any]:
    return {"act_id": a.callback_id, "act_kind": "callback", "complaint_id": a.complaint_id,
            "stated_at": a.stated_at, "received_at": a.received_at, "accepted_by": a.accepted_by,
            "accepted_at": a.accepted_at, "reason": a.reason}


def dump_acceptance(acceptance: TimeAcceptance, zone: tzinfo) -> dict[str, Any]:
    return _ACCEPTANCE.dump(_localise(acceptance_dict(acceptance), zone))


def _callback(k: Callback, acts: Acts) -> dict[str, Any]:
    accepted = acts.accepted.get(k.callback_id or "")
    late = k.recorded_at - k.callback_at > acts.grace
    return dict(vars(k), outcome_label=CALLBACK_OUTCOMES[k.outcome],
                time_acceptable=bool(late and accepted is None and k.callback_id),
                time_accepted=acceptance_dict(accepted) if accepted else None)


def _signature(c: Complaint, binding: Binding | None, acts: Acts) -> dict[str, Any]:
    sent = list(acts.signing_links)
    latest = sent[-1] if sent else None
    by_link = c.channel in SIGNED_BY_LINK
    return {"status": c.signature_status,
            "status_label": SIGNATURE_LABELS.get(c.signature_status, c.signature_status),
            "media_id": c.signature_media_id, "bound_at": binding.bound_at if binding else None,
            "by_link": by_link, "links_sent": len(sent),
            "link_sent_at": latest.created_at if latest else None,
            "link_expires_at": latest.expires_at if latest else None,
            "may_resend": by_link and c.signature_status == SIG_PENDING and c.state != VOIDED}


def dump_complaint(complaint: Complaint, timeline: Iterable[TimelineEntry], rating: Rating | None,
                   binding: Binding | None, zone: tzinfo, closures: Iterable[Closure] = (),
                   callbacks: Iterable[Callback] = (), acts: Acts | None = None) -> dict[str, Any]:
    """The complaint with its order, signature, rating, responsibility,
    callbacks, closure applications and timeline (views.ComplaintView)."""
    c = complaint
    acts = acts or Acts()
    timeline, closures = list(timeline), list(closures)
    data = complaint_dict(c)
    decisions = [{"step": _DECISION_ACTIONS[e.action][0],
                  "decision": _DECISION_ACTIONS[e.action][1], "by": e.actor_id, "at": e.at,
                  "reason": e.note, "order_round": e.order_round}
                 for e in timeline if e.action in _DECISION_ACTIONS]
    has_order = c.order_round > 1 or not c.resolved_on_spot
    data["order"] = {
        "order_round": c.order_round, "round_started_at": c.round_started_at,
        "holder": data["holder"], "holders": [_holder(h) for h in c.holders],
        "submitted_at": c.submitted_at, "submitted_by": c.submitted_by,
        "first_submitted_at": c.first_submitted_at, "reviewed_at": c.reviewed_at,
        "reviewed_by": c.reviewed_by, "signed_at": c.signed_at, "signed_by": c.signed_by,
        "department": c.department, "department_reason": c.department_reason,
        "decisions": decisions,
    } if has_order else None
    data["signature"] = _signature(c, binding, acts)
    data["rating"] = ({"score": rating.score, "comment": rating.comment, "via": rating.via,
                       "rated_at": rating.rated_at, "order_round": rating.order_round}
                      if rating else None)
    data["escalation"] = ({"level": c.escalation_level,
                           "level_label": ESCALATION_LEVELS[c.escalation_level],
                           "reason": c.escalation_reason, "at": c.escalated_at,
                           "by": c.escalated_by} if c.escalation_level else None)
    data["responsibility"] = _responsibility(c)
    data["callback"] = {"due": c.callback_due_since is not None,
                        "due_since": c.callback_due_since, "visit_ids": list(c.callback_visit_ids)}
    data["callbacks"] = [_callback(k, acts) for k in callbacks]
    data["void"] = ({"by": c.voided_by, "at": c.voided_at, "reason": c.void_reason}
                    if c.state == VOIDED else None)
    data["closures"] = [_closure(x) for x in closures]
    data["closure"] = next((_closure(x) for x in closures
                            if x.application_id == c.closure_application_id), None)
    data["timeline"] = [{"at": e.at, "actor_id": e.actor_id, "actor_role": e.actor_role,
                         "action": e.action, "from_state": e.from_state, "to_state": e.to_state,
                         "note": e.note, "order_round": e.order_round, "details": e.details}
                        for e in timeline]
    return _VIEW.dump(_localise(data, zone))


def dump_link(view: dict[str, Any], zone: tzinfo) -> dict[str, Any]:
    return _LINK.dump(_localise(view, zone))
