"""What penalty reads from other services' events: only the fields it uses,
unknown ones ignored, so a producer may add fields freely (marshmallow 4).
What its RPC methods take and answer is the contract's
(shared.contracts.penalty)."""
from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, validate


class Lenient(Schema):
    class Meta:
        unknown = EXCLUDE


def _time(required: bool = True) -> fields.AwareDateTime:
    if required:
        return fields.AwareDateTime(required=True)
    return fields.AwareDateTime(allow_none=True, load_default=None)


def _text(required: bool = False) -> fields.String:
    if required:
        return fields.String(required=True)
    return fields.String(allow_none=True, load_default=None)


# -- sla.events ---------------------------------------------------------------------------

# "from" is a Python keyword: these schemas are built from dicts.
IntervalIn = Lenient.from_dict({
    "from": fields.AwareDateTime(required=True),
    "to": fields.AwareDateTime(required=True),
    "late_seconds": fields.Integer(required=True),
}, name="IntervalIn")


class DeadlineIn(Lenient):
    timer_id = fields.String(required=True)
    rule = fields.String(required=True)
    article = fields.String(load_default="")
    person_id = _text()
    role = _text()
    due_at = _time()
    done_at = _time(required=False)


class MissedIn(DeadlineIn):
    late_seconds = fields.Integer(required=True, validate=validate.Range(min=0))
    final = fields.Boolean(load_default=True)
    holder_intervals = fields.List(fields.Nested(IntervalIn), allow_none=True, load_default=None)


class CancelledIn(Lenient):
    timer_id = fields.String(required=True)
    rule = fields.String(required=True)
    person_id = _text()
    due_at = _time()
    reason = _text()


class WithdrawnIn(DeadlineIn):
    reason = _text()


class LeaderIn(Lenient):
    person_id = _text()
    role = _text()


class OverdueIn(Lenient):
    complaint_id = fields.String(required=True)
    timer_id = fields.String(required=True)
    day = fields.Integer(required=True, validate=validate.Range(min=1))
    tier = fields.Integer(load_default=None)
    handler_person_id = _text()
    leader_person_ids = fields.List(fields.String(), load_default=list)
    # With their roles: Art. 36 charges only the supervising leader (responsibility.py).
    leaders = fields.List(fields.Nested(LeaderIn), load_default=list)
    day_started_at = _time()
    completion_due_at = _time(required=False)


class OverdueWithdrawnIn(Lenient):
    complaint_id = fields.String(required=True)
    timer_id = fields.String(required=True)
    day = fields.Integer(required=True)
    reason = _text()


class MonthlyReportDueIn(Lenient):
    month = fields.String(required=True, validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$"))
    due_at = _time(required=False)


class FiredThroughIn(Lenient):
    fired_through = _time()


# -- intake.events --------------------------------------------------------------------------

HolderIn = Lenient.from_dict({
    "person_id": _text(),
    "role": _text(),
    "from": fields.AwareDateTime(required=True),
    "to": fields.AwareDateTime(allow_none=True, load_default=None),
}, name="HolderIn")


class FactsIn(Lenient):
    complaint_id = fields.String(required=True)
    project_id = fields.String(required=True)
    region_company_id = _text()
    property_company_id = _text()
    category = _text()
    channel = _text()
    room = _text()
    order_round = fields.Integer(load_default=1)
    specialist_id = _text()
    recorded_at = _time(required=False)
    first_submitted_at = _time(required=False)
    signed_at = _time(required=False)
    department = _text()
    escalation_level = _text()
    reopen_count = fields.Integer(load_default=0)
    holders = fields.List(fields.Nested(HolderIn), load_default=list)
    resolved_on_spot = fields.Boolean(load_default=None, allow_none=True)
    closed_at = _time(required=False)
    score = fields.Integer(load_default=None, allow_none=True)
    rated_specialist_id = _text()


class ClosureVerifiedIn(Lenient):
    application_id = fields.String(required=True)
    verified_at = _time()
    satisfaction = fields.Integer(allow_none=True, load_default=None)


class ClosureRejectedIn(Lenient):
    application_id = fields.String(required=True)
    stage = _text()
    rejected_at = _time()
    application_rejected = fields.Boolean(allow_none=True, load_default=None)


class ComplaintClosedIn(Lenient):
    closed_at = _time()
    application_id = _text()


# -- dispatch.events --------------------------------------------------------------------------

class ContactIn(Lenient):
    person_id = _text()


class RoutedIn(Lenient):
    complaint_id = fields.String(required=True)
    project_id = _text()
    department = _text()
    handler = fields.Nested(ContactIn, allow_none=True, load_default=None)
    signed_at = _time(required=False)
    completion_due_at = _time(required=False)
    requested_completion_at = _time(required=False)


class CompletionDueIn(Lenient):
    complaint_id = fields.String(required=True)
    completion_due_at = _time(required=False)


class ClosureAppliedIn(Lenient):
    complaint_id = fields.String(required=True)
    application_id = fields.String(required=True)
    applied_at = _time()
    completion_due_at = _time(required=False)


class PersonIn(Lenient):
    id = fields.String(required=True)
    name = _text()
    mobile = _text()
    roles = fields.List(fields.String(), load_default=list)
    unit = _text()
    unit_id = _text()
    unit_name = _text()
    bonus = fields.Decimal(allow_none=True, load_default=None)
    active = fields.Boolean(load_default=True)
    project_ids = fields.List(fields.String(), load_default=list)


class UnitIn(Lenient):
    id = fields.String(required=True)
    kind = _text()
    name = _text()
    parent = _text()
    department = _text()
    active = fields.Boolean(load_default=True)


class ProjectIn(Lenient):
    id = fields.String(required=True)
    name = _text()
    region_company = _text()
    property_company = _text()
    city_tier = _text()
    active = fields.Boolean(load_default=True)


class DirectoryIn(Lenient):
    version = fields.Integer(required=True)
    loaded_at = _time()
    people = fields.List(fields.Nested(PersonIn), load_default=list)
    units = fields.List(fields.Nested(UnitIn), load_default=list)
    projects = fields.List(fields.Nested(ProjectIn), load_default=list)


def load_event_data(schema_cls: type[Schema], data: Any) -> dict[str, Any]:
    """Raises ValidationError: a malformed event is a bug to dead-letter."""
    loaded: dict[str, Any] = schema_cls().load(data)
    return loaded
