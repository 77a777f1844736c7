"""Who may read and do what in penalty (SPEC §8). The role sets are the
contract's (the gateway checks them too); the service checks again, since it
is not only reached through the gateway."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from shared.contracts.penalty.access import (
    ANALYSIS_ISSUERS,
    ANALYSIS_READERS,
    APPEAL_DECIDERS,
    CASE_DECIDERS,
    CASE_OPENERS,
    CASE_READERS,
    LEDGER_READERS,
    MEASURES_FILERS,
    RANKING_READERS,
    REPORT_ISSUERS,
    REPORT_READERS,
)
from shared.errors import Forbidden, Unauthenticated

if TYPE_CHECKING:
    from services.penalty.ledger import Line

__all__ = ["ANALYSIS_ISSUERS", "ANALYSIS_READERS", "APPEAL_DECIDERS", "CASE_DECIDERS",
           "CASE_OPENERS", "CASE_READERS", "LEDGER_READERS", "MEASURES_FILERS", "RANKING_READERS",
           "REPORT_ISSUERS", "REPORT_READERS", "Actor", "ledger_person_filter", "may_read_line",
           "require"]


@dataclass(frozen=True)
class Actor:
    person_id: str | None
    roles: frozenset[str]
    name: str | None = None

    @classmethod
    def from_dict(cls, data: Any) -> Actor:
        if not isinstance(data, dict) or data.get("kind", "person") != "person" \
                or not data.get("person_id"):
            raise Unauthenticated("须以本人身份调用 (a signed-in person is required)")
        return cls(data["person_id"], frozenset(data.get("roles") or ()), data.get("name"))

    def any_of(self, allowed: Iterable[str]) -> bool:
        return bool(self.roles & set(allowed))


def require(actor: Actor, allowed: Iterable[str], action: str) -> None:
    if not actor.any_of(allowed):
        raise Forbidden(f"无权执行此操作：{action} (your role may not do this)")


def ledger_person_filter(actor: Actor, person_id: str | None) -> str | None:
    """HR, Finance and the centre read every line; anyone else only their own."""
    if actor.any_of(LEDGER_READERS):
        return person_id
    if person_id is not None and person_id != actor.person_id:
        raise Forbidden("只能查看本人的扣罚记录 (you may see only your own deductions)")
    return actor.person_id


def may_read_line(actor: Actor, line: Line) -> bool:
    return actor.any_of(LEDGER_READERS) or line.person_id == actor.person_id
