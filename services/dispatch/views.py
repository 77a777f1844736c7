"""Dispatch's records and directory as the shapes its RPC methods answer
(shared.contracts.dispatch.views and directory_views): plain dicts the
contract's schemas dump, times in the group's zone (SPEC §10)."""
from __future__ import annotations

from dataclasses import fields as dataclass_fields
from dataclasses import is_dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from marshmallow import Schema

from services.dispatch import acts, claims, work
from services.dispatch.case import STATE_LABELS, Case
from services.dispatch.directory import Directory, Person, Project
from services.dispatch.responsibility import Responsibility
from shared import organisation as org
from shared.contracts.dispatch.views import (
    APPLICATION_OUT,
    CLAIM_OUT,
    MEETING_OUT,
    PROGRESS_OUT,
    TIME_ACCEPTANCE_OUT,
    VISIT_OUT,
)

View = dict[str, Any]
Bindings = dict[str, Any]


# -- casework ----------------------------------------------------------------------------

def localise(value: Any, zone: tzinfo) -> Any:
    """Times in the group's zone (SPEC §10: ISO 8601 with offset), everywhere."""
    if isinstance(value, datetime):
        return value.astimezone(zone)
    if isinstance(value, dict):
        return {key: localise(inner, zone) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [localise(inner, zone) for inner in value]
    return value


def as_dict(record: Any, **extra: Any) -> View:
    data = {f.name: getattr(record, f.name) for f in dataclass_fields(record)} \
        if is_dataclass(record) else dict(record)
    data.update(extra)
    return data


def binding_state(bindings: Bindings, media_id: str | None) -> str | None:
    row = bindings.get(media_id) if media_id else None
    return row["state"] if row else None


def acceptance_view(acceptance: acts.TimeAcceptance) -> View:
    a = acceptance
    return {"act_id": a.visit_id,
            "act_kind": "visit" if a.outcome == "done" else "blocked_visit",
            "complaint_id": a.complaint_id, "outcome": a.outcome, "stated_at": a.stated_at,
            "received_at": a.received_at, "accepted_by": a.accepted_by,
            "accepted_at": a.accepted_at, "reason": a.reason}


def visit_view(visit: work.Visit, bindings: Bindings,
               accepted: dict[str, acts.TimeAcceptance] | None = None,
               grace: timedelta | None = None) -> View:
    acceptance = (accepted or {}).get(visit.id)
    late = grace is not None and acts.stated_too_early(visit, grace)
    return as_dict(visit, signature_status=binding_state(bindings, visit.signature_media_id),
                   time_acceptable=bool(late and acceptance is None),
                   time_accepted=acceptance_view(acceptance) if acceptance else None)


def application_view(application: work.ClosureApplication, bindings: Bindings) -> View:
    return as_dict(application,
                   signature_status=binding_state(bindings, application.signature_media_id))


def claim_view(claim: claims.Claim) -> View:
    return as_dict(claim, status_label=claims.STATUS_LABELS[claim.status])


def meeting_view(meeting: Any) -> View:
    return as_dict(meeting, minutes_due_at=meeting.minutes_due_at)


def complaint_view(case: Case, *, routings: list[Any], errors: list[Any], visits: list[Any],
                   callbacks: list[Any], progress: list[Any], applications: list[Any],
                   claim_list: list[Any], meetings: list[Any], history: list[Any],
                   bindings: Bindings, acceptances: list[acts.TimeAcceptance] | None = None,
                   grace: timedelta | None = None) -> View:
    accepted = {a.visit_id: a for a in acceptances or ()}
    return {
        "complaint_id": case.id, "project_id": case.project_id, "category": case.category,
        "order_round": case.order_round, "state": case.state,
        "state_label": STATE_LABELS[case.state], "intake_state": case.intake_state,
        "escalation_level": case.escalation_level, "major": case.major,
        "requested_completion_at": case.requested_completion_at, "signed_at": case.signed_at,
        "completion_due_at": case.completion_due_at or (
            case.requested_completion_at if case.routing else None),
        "routing": case.routing, "routings": routings, "routing_errors": errors,
        "visits": [visit_view(v, bindings, accepted, grace) for v in visits],
        "time_acceptances": [acceptance_view(a) for a in acceptances or ()],
        "callbacks": callbacks,
        "progress": progress,
        "applications": [application_view(a, bindings) for a in applications],
        "claims": [claim_view(c) for c in claim_list],
        "meetings": [meeting_view(m) for m in meetings], "history": history,
    }


def record_out(record: Any, bindings: Bindings | None = None,
               grace: timedelta | None = None) -> tuple[Schema, View]:
    """(schema, view) of a record a step returns."""
    bindings = bindings or {}
    if isinstance(record, work.Visit):
        return VISIT_OUT, visit_view(record, bindings, grace=grace)
    if isinstance(record, work.Progress):
        return PROGRESS_OUT, as_dict(record)
    if isinstance(record, work.ClosureApplication):
        return APPLICATION_OUT, application_view(record, bindings)
    if isinstance(record, claims.Claim):
        return CLAIM_OUT, claim_view(record)
    if isinstance(record, acts.TimeAcceptance):
        return TIME_ACCEPTANCE_OUT, acceptance_view(record)
    return MEETING_OUT, meeting_view(record)


def dump(schema: Schema, view: Any, zone: tzinfo) -> Any:
    return schema.dump(localise(_plain(view), zone))


def _plain(value: Any) -> Any:
    """Dataclasses as dicts, recursively (marshmallow reads attributes or keys)."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclass_fields(value)}
    if isinstance(value, dict):
        return {key: _plain(inner) for key, inner in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(inner) for inner in value]
    return value


# -- the directory -----------------------------------------------------------------------

def _unit_name(directory: Directory, unit_id: str) -> str | None:
    unit = directory.unit(unit_id)
    return unit.name if unit else None


def person_view(directory: Directory, person: Person) -> View:
    return {
        "id": person.id, "name": person.name, "mobile": person.mobile,
        "roles": list(person.roles), "unit_id": person.unit_id,
        "unit_name": _unit_name(directory, person.unit_id),
        "project_ids": directory.project_ids_of(person.id),
        "positions": [{"unit_id": p.unit_id, "unit_name": _unit_name(directory, p.unit_id),
                       "position": p.position, "areas": list(p.areas), "title": p.title}
                      for p in directory.positions_of(person.id)],
        "active": person.active, "bonus": person.bonus,
    }


def _company(directory: Directory, company_id: str) -> View:
    unit = directory.unit(company_id)
    chairman = directory.holder(company_id, org.POS_CHAIRMAN)
    return {"id": company_id, "name": unit.name if unit else None,
            "kind": unit.kind if unit else None, "chairman": chairman}


def project_view(directory: Directory, project: Project, today: date) -> View:
    desk_unit = directory.unit(project.desk_unit_id)
    specialists = []
    for assignment in directory.desk_assignments(project.id):
        person = directory.person(assignment.person_id)
        specialists.append({"person_id": assignment.person_id,
                            "name": person.name if person else None,
                            "mobile": person.mobile if person else None,
                            "assigned_on": assignment.assigned_on,
                            "rotation_due_on": assignment.rotation_due_on})
    return {
        "id": project.id, "name": project.name, "city": project.city,
        "city_tier": project.city_tier, "active": project.active,
        "region_company": _company(directory, project.region_company_id),
        "property_company": _company(directory, project.property_company_id),
        "project_gm": directory.person(project.project_gm_id) if project.project_gm_id else None,
        "desk": {"unit_id": project.desk_unit_id, "name": desk_unit.name if desk_unit else None,
                 "first_sale_on": project.first_sale_on,
                 "last_delivery_on": project.last_delivery_on,
                 "closes_on": project.desk_closes_on, "open": project.desk_open_on(today),
                 "specialists": specialists},
    }


def responsibility_view(directory: Directory, responsibility: Responsibility) -> View:
    return {
        "project_id": responsibility.project_id, "department": responsibility.department,
        "department_name": org.DEPARTMENT_NAMES_ZH[responsibility.department],
        "major": responsibility.major, "company": responsibility.company,
        "unit": responsibility.unit,
        "handler": person_view(directory, responsibility.handler),
        "leaders": [person_view(directory, leader) for leader in responsibility.leaders],
    }


def directory_loaded_data(directory: Directory, result: Any, loaded_at: datetime) -> View:
    """`data` of the `directory.loaded` event (shared.events.dispatch)."""
    version = directory.version
    return {
        "version": result.version, "loaded_at": loaded_at, "region": directory.region_code,
        "label": version.label if version else None,
        "sha256": version.sha256 if version else "", "counts": result.counts,
        "vacancies": list(result.vacancies),
        "people": [{"id": p.id, "name": p.name, "mobile": p.mobile, "roles": list(p.roles),
                    "unit": p.unit_id, "unit_name": _unit_name(directory, p.unit_id) or p.unit_id,
                    "bonus": p.bonus, "active": p.active,
                    "project_ids": directory.project_ids_of(p.id)} for p in directory.people],
        "units": [{"id": u.id, "kind": u.kind, "name": u.name, "parent": u.parent_id,
                   "department": u.department, "active": u.active} for u in directory.units],
        "projects": [{"id": p.id, "name": p.name, "city_tier": p.city_tier,
                      "region_company": p.region_company_id,
                      "property_company": p.property_company_id, "project_gm": p.project_gm_id,
                      "desk_first_sale_on": p.first_sale_on,
                      "desk_last_delivery_on": p.last_delivery_on,
                      "desk_closes_on": p.desk_closes_on, "active": p.active}
                     for p in directory.projects],
        "desk_assignments": [{"project_id": a.project_id, "person_id": a.person_id,
                              "assigned_on": a.assigned_on, "rotation_due_on": a.rotation_due_on,
                              "active": a.active} for a in directory.assignments],
    }
