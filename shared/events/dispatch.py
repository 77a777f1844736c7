"""Events published by the dispatch service."""
from marshmallow import Schema, fields

from shared.events.registry import event


def _about(description: str) -> dict[str, str]:
    return {"description": description}


class DirectoryPerson(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    mobile = fields.String(required=True)
    roles = fields.List(fields.String(), required=True)
    unit = fields.String(required=True, metadata=_about("organisation unit id"))
    unit_name = fields.String(required=True)
    bonus = fields.Decimal(as_string=True, allow_none=True, required=True,
                           metadata=_about("月度综合奖金, CNY string decimal; null when unknown"))
    active = fields.Boolean(required=True, metadata=_about("false: left the organisation"))
    project_ids = fields.List(fields.String(), required=True,
                              metadata=_about("desks a specialist serves; a project GM's project"))


class DirectoryUnit(Schema):
    id = fields.String(required=True)
    kind = fields.String(required=True, metadata=_about(
        "centre, group_unit, region_company, property_company, department, desk"))
    name = fields.String(required=True)
    parent = fields.String(allow_none=True, required=True)
    department = fields.String(allow_none=True, required=True,
                               metadata=_about("department code; property for a property company"))
    active = fields.Boolean(required=True)


class DirectoryProject(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    city_tier = fields.String(required=True, metadata=_about("capital, tier3, other"))
    region_company = fields.String(required=True)
    property_company = fields.String(required=True)
    project_gm = fields.String(allow_none=True, required=True)
    desk_first_sale_on = fields.Date(required=True)
    desk_last_delivery_on = fields.Date(allow_none=True, required=True)
    desk_closes_on = fields.Date(allow_none=True, required=True,
                                metadata=_about("six months after the last delivery (Art. 7)"))
    active = fields.Boolean(required=True)


class DirectoryDeskAssignment(Schema):
    project_id = fields.String(required=True)
    person_id = fields.String(required=True)
    assigned_on = fields.Date(required=True)
    rotation_due_on = fields.Date(required=True, metadata=_about("six months on (Art. 43)"))
    active = fields.Boolean(required=True)


@event("directory.loaded", "dispatch",
       "the organisation directory was loaded from its file; carries every person (active or "
       "not), unit, project and desk assignment so other services keep a local copy")
class DirectoryLoaded(Schema):
    version = fields.Integer(required=True, metadata=_about("1, 2, 3 … one per load"))
    loaded_at = fields.AwareDateTime(required=True)
    region = fields.String(required=True)
    label = fields.String(allow_none=True, required=True,
                          metadata=_about("the file's own `version:` label"))
    sha256 = fields.String(required=True, metadata=_about("of the file loaded"))
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                         metadata=_about("people, people_inactive, joined, left, units, "
                                         "region_companies, property_companies, departments, "
                                         "projects, specialists"))
    vacancies = fields.List(fields.String(), required=True,
                            metadata=_about("posts nobody holds (zh)"))
    people = fields.List(fields.Nested(DirectoryPerson), required=True, metadata=_about(
        "everyone ever loaded; `active` false for those who left"))
    units = fields.List(fields.Nested(DirectoryUnit), required=True)
    projects = fields.List(fields.Nested(DirectoryProject), required=True)
    desk_assignments = fields.List(fields.Nested(DirectoryDeskAssignment), required=True)


# -- the departments' side of a complaint (SPEC §2, §3; Art. 20-34) -------------------------

def _time(description: str, required: bool = True) -> fields.AwareDateTime:
    return fields.AwareDateTime(required=True, allow_none=not required,
                                metadata=_about(description))


def _text(description: str, required: bool = True) -> fields.String:
    return fields.String(required=True, allow_none=not required, metadata=_about(description))


class CaseFacts(Schema):
    """Fields every dispatch event about a complaint carries."""
    complaint_id = fields.String(required=True)
    project_id = fields.String(required=True)
    order_round = fields.Integer(required=True, metadata=_about(
        "intake's order round: 1, then +1 each time the complaint is reopened"))
    category = fields.String(required=True, metadata=_about("SPEC §3 category code"))
    department = _text("the first responsible department (after any GM override)",
                       required=False)
    handler_id = _text("the handler (head of the department; the chairman when major)",
                       required=False)
    major = fields.Boolean(required=True, metadata=_about(
        "major / group / common issue: the chairman answers (Art. 21, 33)"))


class RoutedPerson(Schema):
    person_id = fields.String(required=True)
    name = fields.String(required=True)
    mobile = fields.String(required=True)


class RoutedLeader(RoutedPerson):
    role = fields.String(required=True, metadata=_about(
        "supervising_leader (the department's own: charged for overdue days), "
        "company_leader (design / engineering / development / marketing of a capital "
        "project; engineering / quality of a property company), project_gm (tier-3), "
        "chairman (major)"))


class CooperatingDepartment(Schema):
    department = fields.String(required=True)
    department_name = fields.String(required=True)
    unit_id = fields.String(required=True)
    unit_name = fields.String(required=True, allow_none=True)


@event("complaint.routed", "dispatch",
       "the signed order reached its first responsible department, with the handler and "
       "leaders frozen on it (Art. 19-21); published again when the complaint is escalated "
       "and the chairman takes over (Art. 33)")
class ComplaintRouted(CaseFacts):
    routing_id = fields.String(required=True)
    reason = fields.String(required=True, metadata=_about(
        "order_signed, escalated, or retry (after the directory was completed)"))
    department_name = fields.String(required=True)
    department_overridden = fields.Boolean(required=True, metadata=_about(
        "the GM chose the department instead of the routing table"))
    override_reason = _text("the GM's reason for the override", required=False)
    company_id = fields.String(required=True, metadata=_about(
        "the regional company, or the property company for `property`"))
    unit_id = fields.String(required=True, metadata=_about(
        "the responsible unit: the department, or the company when major"))
    unit_name = fields.String(required=True)
    department_unit_id = fields.String(required=True, metadata=_about(
        "the routed department's own unit (differs from unit_id when major); its staff "
        "record visits and progress too"))
    handler = fields.Nested(RoutedPerson, required=True, metadata=_about(
        "who answers (Art. 21): texted at once (Art. 19)"))
    leaders = fields.List(fields.Nested(RoutedLeader), required=True)
    chairman = fields.Nested(RoutedPerson, required=True)
    department_head = fields.Nested(RoutedPerson, required=True, metadata=_about(
        "the first responsible department's head: writes claim reports (Art. 34)"))
    supervising_leader = fields.Nested(RoutedPerson, required=True, allow_none=True)
    cooperating_departments = fields.List(fields.Nested(CooperatingDepartment), required=True)
    escalation_level = _text("major, group or common_issue, if flagged", required=False)
    signed_at = _time("the GM's signature", required=False)
    requested_completion_at = _time("the order's requested completion time")
    completion_due_at = _time("min(requested, agreed at the visit) (Art. 25); the requested "
                              "time until a visit is done")
    routed_at = _time("when it was routed")
    directory_version = fields.Integer(required=True, allow_none=True)


@event("routing.failed", "dispatch",
       "a signed or escalated order could not be routed: the directory lacks a person the "
       "rule needs (named by `role`); listed for operators and retried after a directory load")
class RoutingFailed(CaseFacts):
    trigger = fields.String(required=True, metadata=_about("order_signed, escalated or retry"))
    role = fields.String(required=True, metadata=_about(
        "what is missing: head, supervising_leader, chairman, project_gm, a department code, "
        "project or routing_table"))
    unit_id = _text("the unit that lacks it", required=False)
    message = fields.String(required=True)
    directory_version = fields.Integer(required=True, allow_none=True)
    failed_at = _time("when routing was attempted")


@event("visit.recorded", "dispatch",
       "the department visited the customer: plan, agreed completion time, photos and the "
       "customer's signature (Art. 22); the completion deadline is set (Art. 25)")
class VisitRecorded(CaseFacts):
    visit_id = fields.String(required=True)
    visited_at = _time("when the visit took place")
    recorded_at = _time("when it was recorded (`visit` and `plan` are done at this time)")
    recorded_by = fields.String(required=True)
    plan = fields.String(required=True)
    agreed_completion_at = _time("the completion time agreed with the customer")
    requested_completion_at = _time("the order's requested completion time")
    completion_due_at = _time("min(requested, agreed) (Art. 25)")
    photo_media_ids = fields.List(fields.String(), required=True)
    signature_media_id = fields.String(required=True)


@event("visit.blocked", "dispatch",
       "the customer prevented the visit or refused the handling (Art. 23); the centre calls "
       "back within 30 minutes")
class VisitBlocked(CaseFacts):
    visit_id = fields.String(required=True)
    attempted_at = _time("when the visit was attempted")
    recorded_at = _time("when it was recorded (due within 60 minutes of the attempt)")
    recorded_by = fields.String(required=True)
    reason = fields.String(required=True)
    photo_media_ids = fields.List(fields.String(), required=True)


@event("visit.time_accepted", "dispatch",
       "the deputy GM accepted the stated time of a visit (visited_at) or a blocked visit "
       "(attempted_at) that precedes its receipt by more than SLA.stated_time_grace_minutes, "
       "with a reason: the visit deadline is judged by the stated time")
class VisitTimeAccepted(CaseFacts):
    visit_id = fields.String(required=True)
    outcome = fields.String(required=True, metadata=_about("done or blocked"))
    stated_at = _time("the time the handler stated (visited_at or attempted_at)")
    received_at = _time("when dispatch received the record (its recorded_at)")
    accepted_by = fields.String(required=True)
    accepted_at = _time("when the deputy GM accepted it")
    reason = fields.String(required=True)


@event("progress.recorded", "dispatch",
       "a progress note by the handler's department or a cooperating one (Art. 26)")
class ProgressRecorded(CaseFacts):
    progress_id = fields.String(required=True)
    recorded_at = _time("when it was recorded (the daily 18:00 rule counts this)")
    recorded_by = fields.String(required=True)
    department = fields.String(required=True, metadata=_about("the author's department"))
    unit_id = fields.String(required=True)
    by_handler_department = fields.Boolean(required=True, metadata=_about(
        "false: a cooperating department's note (does not meet the handler's daily update)"))
    note = fields.String(required=True)
    photo_media_ids = fields.List(fields.String(), required=True)


@event("closure.applied", "dispatch",
       "the department applied for closure with customer-signed material (Art. 28); overdue "
       "accrual stops, the specialist verifies within 30 minutes")
class ClosureApplied(CaseFacts):
    application_id = fields.String(required=True)
    applied_at = _time("when it was applied")
    applied_by = fields.String(required=True)
    material_media_ids = fields.List(fields.String(), required=True)
    signature_media_id = fields.String(required=True)
    completion_due_at = _time("the completion deadline it is measured against (Art. 25)")


@event("claim.raised", "dispatch", "the customer raised a claim (索赔, Art. 34)")
class ClaimRaised(CaseFacts):
    claim_id = fields.String(required=True)
    raised_at = _time("when it was raised: the head's report is due 3 days later")
    raised_by = fields.String(required=True)
    amount_claimed = fields.Decimal(as_string=True, required=True, metadata=_about("CNY"))
    description = fields.String(required=True)
    head_person_id = fields.String(required=True, metadata=_about(
        "head of the first responsible department, who reports"))
    report_due_at = _time("raised_at + 3 days")


@event("claim.reported", "dispatch", "the head submitted the written report on a claim")
class ClaimReported(CaseFacts):
    claim_id = fields.String(required=True)
    reported_at = _time("when it was reported")
    by = fields.String(required=True)
    report_media_id = _text("the report file, if uploaded", required=False)
    report_due_at = _time("raised_at + 3 days")
    late = fields.Boolean(required=True)


@event("claim.decided", "dispatch",
       "the authority decided a claim: the chairman for a major complaint, otherwise the "
       "head's supervising leader or the chairman")
class ClaimDecided(CaseFacts):
    claim_id = fields.String(required=True)
    decided_at = _time("when it was decided: filing with the centre is due 24 h later")
    decided_by = fields.String(required=True)
    decided_as = fields.String(required=True, metadata=_about("chairman or supervising_leader"))
    decision = fields.String(required=True, metadata=_about("approve or reject"))
    amount_granted = fields.Decimal(as_string=True, required=True, allow_none=True,
                                    metadata=_about("CNY; null when rejected"))
    note = _text("the decision's note (the reason of a rejection)", required=False)
    file_due_at = _time("decided_at + 24 hours")
    head_person_id = fields.String(required=True)


@event("claim.filed", "dispatch", "the claim's decision was reported to the centre (Art. 34)")
class ClaimFiled(CaseFacts):
    claim_id = fields.String(required=True)
    filed_at = _time("when it was filed")
    by = fields.String(required=True)
    file_due_at = _time("decided_at + 24 hours")
    late = fields.Boolean(required=True)
    head_person_id = fields.String(required=True)


@event("meeting.held", "dispatch",
       "the chairman held the meeting on a major complaint: responsible person, solution and "
       "date (Art. 33.2); the minutes are due within 24 hours")
class MeetingHeld(CaseFacts):
    meeting_id = fields.String(required=True)
    held_at = _time("when the meeting was held")
    chairman_person_id = fields.String(required=True)
    responsible = fields.String(required=True)
    solution = fields.String(required=True)
    due_at = _time("the rectification's completion date")
    recorded_at = _time("when it was recorded")
    minutes_due_at = _time("held_at + 24 hours")


@event("meeting.minutes_filed", "dispatch",
       "the chairman filed a meeting's minutes with the centre")
class MeetingMinutesFiled(CaseFacts):
    meeting_id = fields.String(required=True)
    filed_at = _time("when they were filed")
    by = fields.String(required=True)
    minutes_media_id = fields.String(required=True)
    held_at = _time("when the meeting was held")
    minutes_due_at = _time("held_at + 24 hours")
    late = fields.Boolean(required=True)
