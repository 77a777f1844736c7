"""Intake rules (SPEC §2, §4, §8): recording a complaint, the supervision
order's approval chain, customer links, ratings, reopening and escalation.

Pure: no I/O. `now` (an aware datetime), random tokens and directory answers
are passed in; every step returns an `Outcome` the service stores in one
transaction: the changed complaint, its timeline entries and its events.
"""
import hashlib
import re
from dataclasses import dataclass, field, replace
from datetime import timedelta

from shared import categories, roles
from shared.organisation import DEPARTMENT_NAMES_ZH, DEPARTMENTS
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound
from shared.signing import record_sha256

# -- vocabulary -----------------------------------------------------------------

CHANNELS = ("visit", "phone", "letter", "mobile")
# The customer is at the desk or on the mobile terminal and signs there; by
# phone or letter the customer signs later through a one-time link (SMS).
SIGNED_AT_DESK = frozenset({"visit", "mobile"})

CATEGORIES = categories.CATEGORIES  # SPEC §3 (Art. 20), shared.categories

# States of a complaint (SPEC §2). Between `order_signed` and
# `closure_applied` the departments work (visit, progress: dispatch's side);
# closure verification and approval come back to the centre.
RECEIVED = "received"
ORDER_DRAFTED = "order_drafted"
ORDER_SUBMITTED = "order_submitted"
ORDER_REVIEWED = "order_reviewed"
ORDER_SIGNED = "order_signed"
CLOSURE_APPLIED = "closure_applied"
CLOSURE_VERIFIED = "closure_verified"
CLOSURE_REVIEWED = "closure_reviewed"
CLOSED = "closed"
STATES = (RECEIVED, ORDER_DRAFTED, ORDER_SUBMITTED, ORDER_REVIEWED, ORDER_SIGNED,
          CLOSURE_APPLIED, CLOSURE_VERIFIED, CLOSURE_REVIEWED, CLOSED)
STATE_LABELS = {
    RECEIVED: "已受理", ORDER_DRAFTED: "督办单待提交", ORDER_SUBMITTED: "督办单待审核",
    ORDER_REVIEWED: "督办单待签发", ORDER_SIGNED: "督办单已签发", CLOSURE_APPLIED: "已申请结案",
    CLOSURE_VERIFIED: "结案已回访", CLOSURE_REVIEWED: "结案已审核", CLOSED: "已关闭",
}

# The customer's signature on the record (SPEC §6).
SIG_PENDING = "pending"    # waiting for the customer to sign through the link
SIG_BINDING = "binding"    # signature given; being bound to the record in media
SIG_SIGNED = "signed"      # bound: the record's hash is kept beside the signature
SIG_REFUSED = "refused"    # media refused the bind (the signature went to another record)

# Customer link steps.
STEP_RECORD_SIGNATURE = "record_signature"
STEP_RATING = "rating"

ESCALATION_LEVELS = {"major": "重大投诉", "group": "群体性投诉", "common_issue": "共性问题"}
DECISIONS = ("approve", "reject")

RECORD_TYPE = "complaint"

# Bounds on times given at recording.
CONTACT_CLOCK_SKEW = timedelta(minutes=2)   # terminals' clocks drift a little
CONTACT_MAX_AGE = timedelta(days=30)        # older is a typo, not a late recording
REQUESTED_MAX_AHEAD = timedelta(days=730)

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}-?\d{7,8}(?:-\d{1,6})?$")


def normalise_phone(value):
    """A CN mobile (`13812345678`, `+86 138 1234 5678`) or landline
    (`020-12345678`, `02012345678-123`) in its plain form, or None."""
    if not isinstance(value, str):
        return None
    compact = re.sub(r"[\s()]", "", value)
    for prefix in ("+86", "0086"):
        if compact.startswith(prefix):
            rest = compact[len(prefix):].lstrip("-")
            return rest if _MOBILE.match(rest) else None
    if _MOBILE.match(compact) or _LANDLINE.match(compact):
        return compact
    return None


def recording_time_errors(requested_completion_at, contact_ended_at, now):
    """Field errors of the two times a recording gives (SPEC §2)."""
    errors = {}
    if contact_ended_at is not None:
        if contact_ended_at > now + CONTACT_CLOCK_SKEW:
            errors["contact_ended_at"] = ["接待结束时间不能晚于当前时间 (contact end cannot be in the future)"]
        elif contact_ended_at < now - CONTACT_MAX_AGE:
            errors["contact_ended_at"] = [
                f"接待结束时间不能早于 {CONTACT_MAX_AGE.days} 天前 "
                f"(contact end more than {CONTACT_MAX_AGE.days} days ago)"]
    if requested_completion_at is not None:
        if requested_completion_at <= now:
            errors["requested_completion_at"] = ["要求完成时间须晚于当前时间 (must be in the future)"]
        elif requested_completion_at > now + REQUESTED_MAX_AHEAD:
            errors["requested_completion_at"] = [
                f"要求完成时间不能晚于 {REQUESTED_MAX_AHEAD.days} 天后 "
                f"(at most {REQUESTED_MAX_AHEAD.days} days ahead)"]
    return errors


# -- who acts -------------------------------------------------------------------

@dataclass(frozen=True)
class Actor:
    """The caller as the gateway resolved them, or a customer through a link."""
    person_id: str | None
    roles: frozenset = frozenset()
    project_ids: frozenset = frozenset()
    kind: str = "person"
    unit_id: str | None = None

    @classmethod
    def from_dict(cls, value):
        if not isinstance(value, dict) or not isinstance(value.get("person_id"), str):
            raise Forbidden("调用者身份不明 (caller unknown)")
        return cls(value["person_id"], frozenset(value.get("roles") or ()),
                   frozenset(value.get("project_ids") or ()), value.get("kind") or "person",
                   value.get("unit_id"))

    @classmethod
    def customer(cls):
        return cls(None, kind="customer")

    @property
    def sees_all(self):
        return self.kind == "person" and bool(self.roles & (roles.CENTRE | {roles.ADMIN}))

    def may_see(self, project_id):
        return self.sees_all or (self.kind == "person" and project_id in self.project_ids)

    def may_see_complaint(self, complaint):
        """The centre, the project's desk, and those the routing made answer
        for the complaint (handler, leaders, chairman; the responsible and
        cooperating units' staff, who record visits and progress)."""
        if self.may_see(complaint.project_id):
            return True
        return self.kind == "person" and (
            self.person_id in complaint.responsible_person_ids
            or (self.unit_id is not None and self.unit_id in complaint.responsible_unit_ids))


def require_role(actor, role, action):
    if actor.kind != "person" or role not in actor.roles:
        raise Forbidden(f"只有{roles.LABELS_ZH[role]}可以{action} (only {role} may do this)")


def require_desk_specialist(actor, project_id, action):
    require_role(actor, roles.SPECIALIST, action)
    if project_id not in actor.project_ids:
        raise Forbidden(f"只有该项目售后服务中心的客服专员可以{action} "
                        f"(only a specialist of project {project_id}'s desk may do this)")


def require_may_see(actor, complaint):
    if not actor.may_see_complaint(complaint):
        raise Forbidden(f"无权查看投诉 {complaint.id} (not your project's complaint)")


# -- records --------------------------------------------------------------------

@dataclass(frozen=True)
class Holder:
    """Who held the order from when to when (None: still holds it)."""
    person_id: str | None
    role: str
    held_from: object
    held_to: object = None


@dataclass(frozen=True)
class Complaint:
    id: str
    region: str
    project_id: str
    room: str
    customer_name: str
    customer_phone: str
    channel: str
    demand: str
    category: str
    requested_completion_at: object
    contact_ended_at: object
    recorded_by: str
    recorded_at: object
    resolved_on_spot: bool
    region_company_id: str | None
    property_company_id: str | None
    state: str
    signature_status: str
    signature_media_id: str | None
    order_round: int
    round_started_at: object
    updated_at: object
    submitted_at: object = None
    submitted_by: str | None = None
    first_submitted_at: object = None
    reviewed_at: object = None
    reviewed_by: str | None = None
    signed_at: object = None
    signed_by: str | None = None
    department: str | None = None
    department_reason: str | None = None
    escalation_level: str | None = None
    escalation_reason: str | None = None
    escalated_at: object = None
    escalated_by: str | None = None
    reopen_count: int = 0
    closed_at: object = None
    # Who answers for this round, as dispatch announced it (complaint.routed);
    # a copy for the complaint's page, `assigned_to_me` and who may see it.
    routing_id: str | None = None
    routed_at: object = None
    handler_id: str | None = None
    responsibility: dict | None = None
    responsible_person_ids: tuple = ()
    responsible_unit_ids: tuple = ()
    # Art. 23: a blocked visit awaits the centre's callback (a flag beside the
    # state: the department's work goes on meanwhile).
    callback_due_since: object = None
    callback_visit_ids: tuple = ()
    # Art. 28, 29: the closure application under way (or approved).
    closure_application_id: str | None = None
    holders: tuple = ()   # this order round's holders, in order

    @property
    def holder(self):
        """The current holder of the order, or None."""
        if self.holders and self.holders[-1].held_to is None:
            return self.holders[-1]
        return None

    @property
    def specialist_id(self):
        """The specialist responsible for this round's order (`order_submit`)."""
        return self.holders[0].person_id if self.holders else self.recorded_by


SIGNED_FIELDS = ("id", "project_id", "room", "customer_name", "customer_phone", "channel",
                 "demand", "category", "requested_completion_at", "contact_ended_at",
                 "recorded_by", "recorded_at", "resolved_on_spot")


def signed_record(complaint):
    """What the customer's signature confirms: the recording (SPEC §2, §6)."""
    return {"record_type": RECORD_TYPE, **{name: getattr(complaint, name) for name in SIGNED_FIELDS}}


def record_hash(complaint):
    return record_sha256(signed_record(complaint))


@dataclass(frozen=True)
class TimelineEntry:
    at: object
    actor_id: str | None
    actor_role: str | None
    action: str
    from_state: str | None
    to_state: str | None
    order_round: int
    note: str | None = None
    details: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Link:
    token_sha256: str
    complaint_id: str
    order_round: int
    step: str
    created_at: object
    expires_at: object
    used_at: object = None


@dataclass(frozen=True)
class NewLink:
    """A link just made: the token itself exists only here and in its event."""
    token: str
    link: Link

    @property
    def path(self):
        return link_path(self.token)


@dataclass(frozen=True)
class Binding:
    media_id: str
    complaint_id: str
    record_type: str
    record_sha256: str
    bound_by: str | None
    state: str
    created_at: object
    next_attempt_at: object
    attempts: int = 0
    last_error: str | None = None
    bound_at: object = None


@dataclass(frozen=True)
class Rating:
    complaint_id: str
    order_round: int
    specialist_id: str
    score: int
    comment: str | None
    via: str
    rated_by: str | None
    rated_at: object


@dataclass
class Outcome:
    """What one step changes; stored in one transaction by the service."""
    complaint: Complaint
    entries: list = field(default_factory=list)
    events: list = field(default_factory=list)        # [(type, data)]
    new_links: list = field(default_factory=list)     # [NewLink]
    used_link: Link | None = None
    binding: Binding | None = None
    rating: Rating | None = None
    closures: list = field(default_factory=list)      # [closure.Closure] to store
    callback: object = None                           # closure.Callback to store


def token_hash(token):
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def link_path(token):
    """Where the customer opens the link (the web page; its API is /api/sign/<token>)."""
    return f"/sign/{token}"


def new_link(token, complaint, step, now, ttl):
    return NewLink(token, Link(token_hash(token), complaint.id, complaint.order_round, step,
                               now, now + ttl))


# -- events ---------------------------------------------------------------------

def _local(value, zone):
    return value.astimezone(zone) if value is not None and zone is not None else value


def event_data(complaint, actor_id, actor_role, zone=None, **extra):
    """The facts every intake event carries (sla and penalty compute from these)."""
    c = complaint
    data = {
        "complaint_id": c.id, "project_id": c.project_id,
        "region_company_id": c.region_company_id, "property_company_id": c.property_company_id,
        "category": c.category, "channel": c.channel, "room": c.room, "state": c.state,
        "order_round": c.order_round, "specialist_id": c.specialist_id,
        "recorded_by": c.recorded_by,
        "recorded_at": _local(c.recorded_at, zone),
        "contact_ended_at": _local(c.contact_ended_at, zone),
        "round_started_at": _local(c.round_started_at, zone),
        "requested_completion_at": _local(c.requested_completion_at, zone),
        "submitted_at": _local(c.submitted_at, zone),
        "first_submitted_at": _local(c.first_submitted_at, zone),
        "reviewed_at": _local(c.reviewed_at, zone),
        "signed_at": _local(c.signed_at, zone),
        "department": c.department, "department_reason": c.department_reason,
        "escalation_level": c.escalation_level, "reopen_count": c.reopen_count,
        "signature_status": c.signature_status,
        "holders": [{"person_id": h.person_id, "role": h.role,
                     "held_from": _local(h.held_from, zone), "held_to": _local(h.held_to, zone)}
                    for h in c.holders],
        "actor_id": actor_id, "actor_role": actor_role,
    }
    data.update(extra)
    return data


# -- holding the order ----------------------------------------------------------

def hand_over(holders, now, person_id=None, role=None):
    """Close the open holding at `now`; open the next one if a role is given."""
    closed = tuple(replace(h, held_to=now) if h.held_to is None else h for h in holders)
    if role is None:
        return closed
    return closed + (Holder(person_id, role, now),)


def require_state(complaint, expected, action, hint=""):
    if complaint.state != expected:
        label = STATE_LABELS.get(complaint.state, complaint.state)
        raise Conflict(f"投诉 {complaint.id} 当前状态为「{label}」，不能{action}"
                       + (f"：{hint}" if hint else "")
                       + f" (state {complaint.state}: cannot do this now)")


def _reason(reason, required, field_name="reason"):
    text = (reason or "").strip()
    if required and not text:
        raise InvalidInput({field_name: ["须填写理由 (a reason is required)"]})
    return reason if text else None


# -- recording (Art. 13-15) -----------------------------------------------------

def record(complaint_id, region, form, actor, project, now, *, signature_media=None,
           link_token=None, link_ttl=timedelta(hours=24), zone=None):
    """A new complaint from a validated form (schemas.RecordForm).

    `project` is the directory's project; `signature_media` the media
    service's description of the desk signature (visit/mobile);
    `link_token` a fresh random token for the signing link (phone/letter)."""
    require_desk_specialist(actor, form["project_id"], "登记投诉")
    at_desk = form["channel"] in SIGNED_AT_DESK
    if at_desk:
        check_signature_media(signature_media, "customer_signature_media_id")
    elif not link_token:
        raise ValueError("a phone or letter recording needs a signing link token")
    on_spot = bool(form["resolved_on_spot"])
    base = Complaint(
        id=complaint_id, region=region, project_id=form["project_id"], room=form["room"],
        customer_name=form["customer_name"], customer_phone=form["customer_phone"],
        channel=form["channel"], demand=form["demand"], category=form["category"],
        requested_completion_at=form["requested_completion_at"],
        contact_ended_at=form["contact_ended_at"], recorded_by=actor.person_id,
        recorded_at=now, resolved_on_spot=on_spot,
        region_company_id=company_id(project, "region_company"),
        property_company_id=company_id(project, "property_company"),
        state=RECEIVED, signature_status=SIG_BINDING if at_desk else SIG_PENDING,
        signature_media_id=signature_media["id"] if at_desk else None,
        order_round=1, round_started_at=form["contact_ended_at"], updated_at=now)
    who = (actor.person_id, roles.SPECIALIST)
    entries = [TimelineEntry(now, *who, "recorded", None, RECEIVED, 1,
                             details={"channel": base.channel, "category": base.category})]
    if on_spot:
        complaint = replace(base, state=CLOSED, closed_at=now)
        entries.append(TimelineEntry(now, *who, "resolved_on_spot", RECEIVED, CLOSED, 1,
                                     note="当场解决 (resolved on the spot, Art. 15)"))
    else:
        # Art. 14: the order is drafted at once and held by the specialist.
        complaint = replace(base, state=ORDER_DRAFTED,
                            holders=(Holder(actor.person_id, roles.SPECIALIST, now),))
        entries.append(TimelineEntry(now, *who, "order_drafted", RECEIVED, ORDER_DRAFTED, 1))
    outcome = Outcome(complaint, entries)
    received_extra = {"resolved_on_spot": on_spot,
                      "signature_media_id": complaint.signature_media_id}
    outcome.events.append(("complaint.received", event_data(complaint, *who, zone,
                                                            **received_extra)))
    if on_spot:
        outcome.events.append(("complaint.resolved_on_spot", event_data(
            complaint, *who, zone, closed_at=_local(now, zone))))
    if at_desk:
        outcome.binding = new_binding(complaint, actor.person_id, now)
    else:
        made = new_link(link_token, complaint, STEP_RECORD_SIGNATURE, now, link_ttl)
        outcome.new_links.append(made)
        outcome.events.append(("complaint.signature_requested", event_data(
            complaint, *who, zone, step=STEP_RECORD_SIGNATURE, link_path=made.path,
            expires_at=_local(made.link.expires_at, zone),
            customer_phone=complaint.customer_phone, customer_name=complaint.customer_name)))
    return outcome


def company_id(project, key):
    """The id of a project's company as the directory gives it (nested or flat)."""
    value = project.get(key)
    if isinstance(value, dict):
        return value.get("id")
    return value if isinstance(value, str) else project.get(f"{key}_id")


def new_binding(complaint, by, now):
    return Binding(complaint.signature_media_id, complaint.id, RECORD_TYPE,
                   record_hash(complaint), by, "pending", now, now)


def check_signature_media(media, field_name, complaint_id=None):
    """The media service's answer for a signature id: must be a signature,
    bound to nothing, and not uploaded for another complaint."""
    if media is None:
        raise InvalidInput({field_name: ["须提供客户签名 (the customer's signature is required)"]})
    if media.get("kind") != "signature":
        raise InvalidInput({field_name: [
            f"该文件不是签名（类型为 {media.get('kind')}）(this media is not a signature)"]})
    binding = media.get("binding")
    if binding:
        raise InvalidInput({field_name: [
            f"该签名已用于 {binding.get('record_type')} {binding.get('record_id')} "
            "(signature already attached to another record)"]})
    owner = media.get("complaint_id")
    if owner and owner != complaint_id:
        raise InvalidInput({field_name: [
            f"该签名属于投诉 {owner} (signature uploaded for another complaint)"]})


# -- the order's approval chain (Art. 14, 18) ------------------------------------

def submit(complaint, actor, now, deputy_gm_id, zone=None):
    c = complaint
    require_desk_specialist(actor, c.project_id, "提交督办单")
    require_state(c, ORDER_DRAFTED, "提交督办单")
    resubmitted = c.first_submitted_at is not None
    new = replace(c, state=ORDER_SUBMITTED, submitted_at=now, submitted_by=actor.person_id,
                  first_submitted_at=c.first_submitted_at or now, updated_at=now,
                  holders=hand_over(c.holders, now, deputy_gm_id, roles.CENTRE_DEPUTY_GM))
    who = (actor.person_id, roles.SPECIALIST)
    return Outcome(new, [TimelineEntry(now, *who, "order_submitted", c.state, new.state,
                                       c.order_round, details={"resubmitted": resubmitted})],
                   [("order.submitted", event_data(new, *who, zone, resubmitted=resubmitted))])


def review(complaint, actor, decision, reason, now, *, gm_id, zone=None):
    """Deputy GM: approve (on to the GM) or reject (back to the specialist)."""
    c = complaint
    require_role(actor, roles.CENTRE_DEPUTY_GM, "审核督办单")
    require_state(c, ORDER_SUBMITTED, "审核督办单",
                  "督办单须先由客服专员提交 (the specialist must submit the order first)"
                  if c.state == ORDER_DRAFTED else "")
    who = (actor.person_id, roles.CENTRE_DEPUTY_GM)
    if decision == "approve":
        reason = _reason(reason, required=False)
        new = replace(c, state=ORDER_REVIEWED, reviewed_at=now, reviewed_by=actor.person_id,
                      updated_at=now, holders=hand_over(c.holders, now, gm_id, roles.CENTRE_GM))
        entry = TimelineEntry(now, *who, "order_reviewed", c.state, new.state, c.order_round,
                              note=reason, details={"decision": "approve"})
        return Outcome(new, [entry], [("order.reviewed", event_data(new, *who, zone,
                                                                     reason=reason))])
    _decision(decision)
    reason = _reason(reason, required=True)
    back_to = c.submitted_by or c.recorded_by
    new = replace(c, state=ORDER_DRAFTED, updated_at=now,
                  holders=hand_over(c.holders, now, back_to, roles.SPECIALIST))
    entry = TimelineEntry(now, *who, "order_review_rejected", c.state, new.state, c.order_round,
                          note=reason, details={"decision": "reject", "step": "review"})
    return Outcome(new, [entry], [("order.rejected", event_data(
        new, *who, zone, step="review", reason=reason, returned_to_role=roles.SPECIALIST,
        returned_to_person_id=back_to))])


def sign(complaint, actor, decision, reason, now, *, department=None, department_reason=None,
         deputy_gm_id=None, zone=None):
    """GM: sign (dispatch the order, optionally overriding the department) or
    reject (back to the deputy GM to review again)."""
    c = complaint
    require_role(actor, roles.CENTRE_GM, "签发督办单")
    hint = {ORDER_DRAFTED: "督办单尚未提交 (the order was never submitted)",
            ORDER_SUBMITTED: "督办单须先经副总经理审核 (the order must be reviewed first)"}
    require_state(c, ORDER_REVIEWED, "签发督办单", hint.get(c.state, ""))
    who = (actor.person_id, roles.CENTRE_GM)
    if decision == "approve":
        reason = _reason(reason, required=False)
        if department is not None:
            if department not in DEPARTMENTS:
                raise InvalidInput({"department": [
                    f"部门须为 {', '.join(DEPARTMENTS)} 之一 (unknown department)"]})
            department_reason = _reason(department_reason, True, "department_reason")
        elif department_reason:
            raise InvalidInput({"department": ["给出调整理由时须指定部门 (name the department)"]})
        new = replace(c, state=ORDER_SIGNED, signed_at=now, signed_by=actor.person_id,
                      department=department, department_reason=department_reason,
                      updated_at=now, holders=hand_over(c.holders, now))
        details = {"decision": "approve"}
        if department:
            details.update(department=department, department_reason=department_reason,
                           department_label=DEPARTMENT_NAMES_ZH[department])
        entry = TimelineEntry(now, *who, "order_signed", c.state, new.state, c.order_round,
                              note=reason, details=details)
        return Outcome(new, [entry], [("order.signed", event_data(
            new, *who, zone, reason=reason, department_overridden=department is not None))])
    _decision(decision)
    if department is not None or department_reason:
        raise InvalidInput({"department": ["退回时不能调整部门 (no department change on a rejection)"]})
    reason = _reason(reason, required=True)
    new = replace(c, state=ORDER_SUBMITTED, reviewed_at=None, reviewed_by=None, updated_at=now,
                  holders=hand_over(c.holders, now, deputy_gm_id, roles.CENTRE_DEPUTY_GM))
    entry = TimelineEntry(now, *who, "order_sign_rejected", c.state, new.state, c.order_round,
                          note=reason, details={"decision": "reject", "step": "sign"})
    return Outcome(new, [entry], [("order.rejected", event_data(
        new, *who, zone, step="sign", reason=reason, returned_to_role=roles.CENTRE_DEPUTY_GM,
        returned_to_person_id=deputy_gm_id))])


def _decision(decision):
    if decision not in DECISIONS:
        raise InvalidInput({"decision": ["须为 approve 或 reject (approve or reject)"]})


# -- reopen and escalate (Art. 5, 21, 33) -----------------------------------------

def reopen(complaint, actor, reason, now, zone=None):
    """The customer complained again about a closed complaint (再次投訴): a
    new order round starts now, the history stays."""
    c = complaint
    require_desk_specialist(actor, c.project_id, "重新打开投诉")
    require_state(c, CLOSED, "重新打开", "只有已关闭的投诉可以再次投诉 (only a closed complaint)")
    reason = _reason(reason, required=True)
    new = replace(c, state=ORDER_DRAFTED, order_round=c.order_round + 1, round_started_at=now,
                  submitted_at=None, submitted_by=None, first_submitted_at=None,
                  reviewed_at=None, reviewed_by=None, signed_at=None, signed_by=None,
                  department=None, department_reason=None, closed_at=None,
                  reopen_count=c.reopen_count + 1, updated_at=now,
                  # the new round is routed afresh; the last round's stay in the timeline
                  routing_id=None, routed_at=None, handler_id=None, responsibility=None,
                  responsible_person_ids=(), responsible_unit_ids=(),
                  callback_due_since=None, callback_visit_ids=(), closure_application_id=None,
                  holders=(Holder(actor.person_id, roles.SPECIALIST, now),))
    who = (actor.person_id, roles.SPECIALIST)
    entry = TimelineEntry(now, *who, "reopened", c.state, new.state, new.order_round,
                          note=reason, details={"reopen_count": new.reopen_count})
    return Outcome(new, [entry], [("complaint.reopened", event_data(
        new, *who, zone, reason=reason, previous_closed_at=_local(c.closed_at, zone)))])


def escalate(complaint, actor, level, reason, now, zone=None):
    """GM: flag major / group / common issue; responsibility moves to the chairman."""
    c = complaint
    require_role(actor, roles.CENTRE_GM, "升级投诉")
    if level not in ESCALATION_LEVELS:
        raise InvalidInput({"level": ["须为 major、group 或 common_issue (unknown level)"]})
    if c.state == CLOSED:
        raise Conflict(f"投诉 {c.id} 已关闭，不能升级；如客户再次投诉请先重新打开 "
                       "(closed: reopen it first)")
    if c.escalation_level == level:
        raise Conflict(f"投诉 {c.id} 已标记为{ESCALATION_LEVELS[level]} (already {level})")
    reason = _reason(reason, required=True)
    new = replace(c, escalation_level=level, escalation_reason=reason, escalated_at=now,
                  escalated_by=actor.person_id, updated_at=now)
    who = (actor.person_id, roles.CENTRE_GM)
    entry = TimelineEntry(now, *who, "escalated", c.state, c.state, c.order_round, note=reason,
                          details={"level": level, "previous_level": c.escalation_level})
    return Outcome(new, [entry], [("complaint.escalated", event_data(
        new, *who, zone, level=level, previous_level=c.escalation_level, reason=reason))])


# -- the customer's side: links, signature, rating (Art. 13, 16) ---------------------

def check_link(link, now, step=None):
    if link is None:
        raise NotFound("链接不存在 (unknown link)")
    if link.used_at is not None:
        raise Conflict("该链接已使用，不能再次使用 (this link was already used)")
    if link.expires_at <= now:
        raise Conflict("该链接已过期，请联系客服专员 (this link has expired)")
    if step is not None and link.step != step:
        raise Conflict("该链接不能用于此操作 (this link is for another step)")


def sign_by_link(complaint, link, media, now, *, rating_token, link_ttl, zone=None):
    """The customer signs the record through the one-time link (phone/letter)."""
    c = complaint
    check_link(link, now, STEP_RECORD_SIGNATURE)
    if link.complaint_id != c.id:
        raise NotFound("链接不存在 (unknown link)")
    if c.signature_status != SIG_PENDING:
        raise Conflict(f"投诉 {c.id} 已签名 (already signed)")
    check_signature_media(media, "signature_media_id", complaint_id=c.id)
    new = replace(c, signature_status=SIG_BINDING, signature_media_id=media["id"], updated_at=now)
    rating_link = new_link(rating_token, new, STEP_RATING, now, link_ttl)
    entry = TimelineEntry(now, None, "customer", "customer_signed", c.state, c.state,
                          c.order_round, details={"signature_media_id": media["id"],
                                                  "via": "link"})
    outcome = Outcome(new, [entry], [("complaint.signed", event_data(
        new, None, "customer", zone, signature_media_id=media["id"], via="link",
        record_sha256=record_hash(new), rating_link_path=rating_link.path,
        customer_phone=new.customer_phone))])
    outcome.used_link = replace(link, used_at=now)
    outcome.new_links.append(rating_link)
    outcome.binding = new_binding(new, None, now)
    return outcome


def rate(complaint, score, comment, now, *, existing, via, actor=None, link=None, zone=None):
    """Reception rating 1-5 (Art. 16), once per order round: from the
    specialist's terminal (handed to the customer) or the customer's link."""
    c = complaint
    if via == "terminal":
        require_desk_specialist(actor, c.project_id, "登记接待评价")
        rated_by, who = actor.person_id, (actor.person_id, roles.SPECIALIST)
    else:
        check_link(link, now, STEP_RATING)
        if link.complaint_id != c.id:
            raise NotFound("链接不存在 (unknown link)")
        if link.order_round != c.order_round:
            # a round's rating link rates that round's reception only
            raise Conflict("该评价链接属于此前一轮处理，已失效 "
                           "(this link rates an earlier round of the complaint)")
        rated_by, who = None, (None, "customer")
    if existing is not None:
        raise Conflict(f"投诉 {c.id} 的接待已评价，不能重复评价 (reception already rated)")
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise InvalidInput({"score": ["评分须为 1 到 5 的整数 (score 1-5)"]})
    comment = comment if (comment or "").strip() else None
    rating = Rating(c.id, c.order_round, c.specialist_id, score, comment, via, rated_by, now)
    entry = TimelineEntry(now, *who, "reception_rated", c.state, c.state, c.order_round,
                          note=comment, details={"score": score, "via": via})
    outcome = Outcome(replace(c, updated_at=now), [entry], [("complaint.reception_rated",
                      event_data(c, *who, zone, score=score, comment=comment, via=via,
                                 rated_specialist_id=c.specialist_id))])
    outcome.rating = rating
    if link is not None:
        outcome.used_link = replace(link, used_at=now)
    return outcome


def customer_view(complaint, link, project_name):
    """What the customer sees when opening a link: no one else's data."""
    c = complaint
    return {"complaint_id": c.id, "project_id": c.project_id, "project_name": project_name,
            "room": c.room, "demand": c.demand, "category": c.category,
            "category_label": CATEGORIES.get(c.category, c.category),
            "recorded_at": c.recorded_at, "step": link.step, "expires_at": link.expires_at}


# -- signature binding results (SPEC §6) ---------------------------------------------

def signature_bound(complaint, binding, now):
    """Media confirmed the bind: the record is signed."""
    new = replace(complaint, signature_status=SIG_SIGNED, updated_at=now)
    entry = TimelineEntry(now, None, "system", "signature_bound", complaint.state,
                          complaint.state, complaint.order_round,
                          details={"media_id": binding.media_id,
                                   "record_sha256": binding.record_sha256})
    return new, replace(binding, state="bound", bound_at=now, last_error=None), entry


def signature_refused(complaint, binding, error, now):
    """Media refused the bind (the signature went to another record meanwhile)."""
    new = replace(complaint, signature_status=SIG_REFUSED, updated_at=now)
    entry = TimelineEntry(now, None, "system", "signature_refused", complaint.state,
                          complaint.state, complaint.order_round, note=error,
                          details={"media_id": binding.media_id})
    return new, replace(binding, state="refused", last_error=error), entry


def retry_delay(attempts):
    """Back off 5 s, 10 s, 20 s ... up to 5 minutes between bind attempts."""
    return timedelta(seconds=min(5 * 2 ** max(attempts - 1, 0), 300))
