"""Who acts on a complaint and what a step may do (SPEC §3, §8): the caller
as the directory knows them, the handler's department, the states a step
needs, and the input checks that need `now` or other records.

Pure: no I/O. Each check raises our error (Forbidden, Conflict, InvalidInput).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.dispatch.case import (
    AWAITING_ORDER,
    ROUTING_FAILED,
    STATE_LABELS,
    Case,
    Cooperating,
    Routing,
)
from services.dispatch.directory import Directory
from shared import roles
from shared.errors import Conflict, Forbidden, InvalidInput

# Terminals' clocks drift a little: a time "now" may be a minute or two ahead.
CLOCK_SKEW = timedelta(minutes=2)
MAX_AHEAD = timedelta(days=730)

Errors = dict[str, list[str]]


# -- who acts -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Staff:
    """The caller as the directory knows them (the gateway's word is not taken
    for their unit or roles)."""
    person_id: str
    name: str
    roles: frozenset[str]
    unit_id: str
    project_ids: frozenset[str] = frozenset()  # the desks a specialist serves


def staff_of(directory: Directory, actor: Any) -> Staff:
    if not isinstance(actor, dict) or not isinstance(actor.get("person_id"), str) \
            or (actor.get("kind") or "person") != "person":
        raise Forbidden("调用者身份不明 (caller unknown)")
    person = directory.person(actor["person_id"])
    if person is None or not person.active:
        raise Forbidden(f"组织架构中没有此人 (not in the directory) {actor['person_id']}")
    return Staff(person.id, person.name, frozenset(person.roles), person.unit_id,
                 frozenset(directory.project_ids_of(person.id)))


def in_handler_department(staff: Staff, routing: Routing) -> bool:
    """The handler, or anyone of the responsible unit (the department, or for a
    major complaint the company and the routed department both)."""
    return staff.person_id == routing.handler.person_id or staff.unit_id in (
        routing.unit_id, routing.department_unit_id)


def cooperating_department(staff: Staff, routing: Routing) -> Cooperating | None:
    return next((c for c in routing.cooperating if c.unit_id == staff.unit_id), None)


def require_handler_department(staff: Staff, routing: Routing, action: str) -> None:
    if not in_handler_department(staff, routing):
        raise Forbidden(f"只有责任部门（{routing.unit_name}）的人员可以{action} "
                        f"(only the handler's department may do this)")


def is_centre(staff: Staff) -> bool:
    return bool(staff.roles & (roles.CENTRE | {roles.ADMIN}))


def may_see(staff: Staff, case: Case, routings: list[Routing]) -> bool:
    """Who may read a complaint's dispatch page: the centre, the project's desk,
    and whoever a routing made answer for it or cooperate on it (as intake's
    complaint page allows)."""
    if is_centre(staff) or case.project_id in staff.project_ids:
        return True
    for routing in routings:
        people = {routing.handler, routing.chairman, routing.department_head,
                  routing.supervising_leader, *routing.leaders}
        units = {routing.unit_id, routing.department_unit_id,
                 *(c.unit_id for c in routing.cooperating)}
        if staff.person_id in {p.person_id for p in people if p} or staff.unit_id in units:
            return True
    return False


# -- states -------------------------------------------------------------------------------

def require_routed(case: Case, action: str) -> Routing:
    """The order of this round must have reached a department."""
    if case.state in (AWAITING_ORDER, ROUTING_FAILED) or case.routing is None:
        hint = ("派单失败，待管理员补全组织架构 (routing failed: the directory lacks someone)"
                if case.state == ROUTING_FAILED else
                "督办单尚未签发派出 (the order is not signed and routed yet)")
        raise Conflict(f"投诉 {case.id} 不能{action}：{hint}")
    return case.routing


def require_state(case: Case, allowed: tuple[str, ...], action: str, hint: str = "") -> None:
    if case.state not in allowed:
        label = STATE_LABELS.get(case.state, case.state)
        raise Conflict(f"投诉 {case.id} 当前为「{label}」，不能{action}"
                       + (f"：{hint}" if hint else "") + f" (state {case.state})")


# -- input checks that need `now` or other records -------------------------------------------

def not_after_now(value: datetime | None, now: datetime, field_name: str,
                  errors: Errors) -> None:
    if value is not None and value > now + CLOCK_SKEW:
        errors.setdefault(field_name, []).append("不能晚于当前时间 (cannot be in the future)")


def not_before(value: datetime | None, earliest: datetime | None, field_name: str,
               what_zh: str, what_en: str, errors: Errors) -> None:
    if value is not None and earliest is not None and value < earliest - CLOCK_SKEW:
        errors.setdefault(field_name, []).append(f"不能早于{what_zh} (cannot be before {what_en})")


def in_future(value: datetime | None, now: datetime, field_name: str, errors: Errors) -> None:
    if value is None:
        return
    if value <= now:
        errors.setdefault(field_name, []).append("不能早于当前时间 (cannot be in the past)")
    elif value > now + MAX_AHEAD:
        errors.setdefault(field_name, []).append(
            f"不能晚于 {MAX_AHEAD.days} 天后 (at most {MAX_AHEAD.days} days ahead)")


def raise_errors(errors: Errors) -> None:
    if errors:
        raise InvalidInput(errors)


def check_media(media: dict[str, Any] | None, media_id: str, kinds: tuple[str, ...],
                field_name: str, complaint_id: str, errors: Errors,
                signature: bool = False) -> None:
    """A media description from the media service: it exists, is of an
    allowed kind, belongs to this complaint (or none yet); a signature is not
    bound to another record."""
    kinds_text = "、".join(kinds)
    if media is None:
        errors.setdefault(field_name, []).append(f"文件不存在 (no such media) {media_id}")
        return
    if media.get("kind") not in kinds:
        errors.setdefault(field_name, []).append(
            f"{media_id} 须为 {kinds_text} 类文件，实为 {media.get('kind')} "
            f"(must be a {kinds_text} upload)")
    owner = media.get("complaint_id")
    if owner and owner != complaint_id:
        errors.setdefault(field_name, []).append(
            f"{media_id} 属于投诉 {owner} (uploaded for another complaint)")
    if signature and media.get("binding"):
        binding = media["binding"]
        errors.setdefault(field_name, []).append(
            f"该签名已用于 {binding.get('record_type')} {binding.get('record_id')} "
            "(signature already attached to another record)")


