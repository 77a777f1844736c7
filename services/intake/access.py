"""Who may see a complaint and who may act on it (SPEC §8).

The gateway checks a caller's role before it asks intake; intake checks
everything again here (roles, the project's desk, the routing's people).
Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from services.intake.model import Complaint
from shared import roles
from shared.contracts.intake.vocabulary import (
    CALLBACK_ROLES,
    CENTRE_CALLBACK_ROLES,
    SIGNING_LINK_ROLES,
)
from shared.errors import Forbidden


@dataclass(frozen=True)
class Actor:
    """The caller as the gateway resolved them, or a customer through a link."""
    person_id: str | None
    roles: frozenset[str] = frozenset()
    project_ids: frozenset[str] = frozenset()
    kind: str = "person"
    unit_id: str | None = None

    @classmethod
    def from_dict(cls, value: Mapping[str, Any] | Any) -> Actor:
        if not isinstance(value, dict) or not isinstance(value.get("person_id"), str):
            raise Forbidden("调用者身份不明 (caller unknown)")
        return cls(value["person_id"], frozenset(value.get("roles") or ()),
                   frozenset(value.get("project_ids") or ()), value.get("kind") or "person",
                   value.get("unit_id"))

    @classmethod
    def customer(cls) -> Actor:
        return cls(None, kind="customer")

    @property
    def sees_all(self) -> bool:
        return self.kind == "person" and bool(self.roles & (roles.CENTRE | {roles.ADMIN}))

    def may_see(self, project_id: str) -> bool:
        return self.sees_all or (self.kind == "person" and project_id in self.project_ids)

    def may_see_complaint(self, complaint: Complaint) -> bool:
        """The centre, the project's desk, and those the routing made answer
        for the complaint (handler, leaders, chairman; the responsible and
        cooperating units' staff, who record visits and progress)."""
        if self.may_see(complaint.project_id):
            return True
        return self.kind == "person" and (
            self.person_id in complaint.responsible_person_ids
            or (self.unit_id is not None and self.unit_id in complaint.responsible_unit_ids))


def require_role(actor: Actor, role: str, action: str) -> str:
    """The acting person's id, or Forbidden unless they hold `role`."""
    if actor.kind != "person" or role not in actor.roles or actor.person_id is None:
        raise Forbidden(f"只有{roles.LABELS_ZH[role]}可以{action} (only {role} may do this)")
    return actor.person_id


def require_desk_specialist(actor: Actor, project_id: str, action: str) -> str:
    """The specialist's id, or Forbidden unless they are of the project's desk."""
    person_id = require_role(actor, roles.SPECIALIST, action)
    if project_id not in actor.project_ids:
        raise Forbidden(f"只有该项目售后服务中心的客服专员可以{action} "
                        f"(only a specialist of project {project_id}'s desk may do this)")
    return person_id


def require_may_see(actor: Actor, complaint: Complaint) -> None:
    if not actor.may_see_complaint(complaint):
        raise Forbidden(f"无权查看投诉 {complaint.id} (not your project's complaint)")


# -- the callback after a blocked visit (Art. 23) ------------------------------------------
# Who records it: the article says 售后服务中心 without saying which one, and
# SPEC §4 makes centre staff answer for its 30 minutes. So centre staff, the
# centre's deputy GM and GM may record it, and so may a specialist of the
# project's desk (the project's own 售后服务中心, who knows the customer); the
# timeline and the event say who called and in which role.

def _callback_forbidden() -> Forbidden:
    return Forbidden("只有售后服务中心客服人员、副总经理、总经理或该项目售后服务中心的客服专员"
                     "可以登记回访 "
                     "(only centre staff, the centre's deputy GM or GM, or a specialist of the "
                     "project's desk may record the callback)")


def require_callback_roles(actor: Actor) -> None:
    """Before anything is loaded: the actor holds a role that may call back."""
    if actor.kind != "person" or not actor.roles & CALLBACK_ROLES:
        raise _callback_forbidden()


def callback_role(actor: Actor, complaint: Complaint) -> str:
    """The role the actor calls back in, or Forbidden."""
    require_callback_roles(actor)
    for role in CENTRE_CALLBACK_ROLES:
        if role in actor.roles:
            return role
    if complaint.project_id in actor.project_ids:
        return roles.SPECIALIST
    raise _callback_forbidden()


# -- the customer's signing link again (Art. 13) -----------------------------------------------
# A specialist of the project's desk (who recorded the complaint or works beside
# them) or the centre (staff, deputy GM, GM) may send the customer a new link.

def _signing_link_forbidden() -> Forbidden:
    return Forbidden("只有该项目售后服务中心的客服专员或售后服务中心可以重新发送签名链接 "
                     "(only a specialist of the project's desk or the centre may re-send the "
                     "signing link)")


def require_signing_link_roles(actor: Actor) -> None:
    """Before anything is loaded: the actor holds a role that may re-send."""
    if actor.kind != "person" or not actor.roles & SIGNING_LINK_ROLES:
        raise _signing_link_forbidden()


def require_signing_link_role(actor: Actor, complaint: Complaint) -> str:
    """The role the actor re-sends the link in, or Forbidden."""
    require_signing_link_roles(actor)
    for role in CENTRE_CALLBACK_ROLES:
        if role in actor.roles:
            return role
    if complaint.project_id in actor.project_ids:
        return roles.SPECIALIST
    raise _signing_link_forbidden()
