"""Who may read and do what in penalty (SPEC §8). The gateway checks roles
too; the service checks again, since it is not only reached through it."""
from dataclasses import dataclass

from shared import roles
from shared.errors import Forbidden, Unauthenticated

LEDGER_READERS = roles.CENTRE | {roles.HR, roles.FINANCE}
REPORT_READERS = roles.CENTRE | {roles.HR, roles.FINANCE}
REPORT_ISSUERS = frozenset({roles.CENTRE_GM, roles.ADMIN})
RANKING_READERS = roles.CENTRE
CASE_READERS = roles.CENTRE | {roles.HR}
CASE_DECIDERS = frozenset({roles.CENTRE_GM, roles.HR})
APPEAL_DECIDERS = frozenset({roles.CENTRE_GM})
ANALYSIS_ISSUERS = frozenset({roles.CENTRE_GM, roles.ADMIN})


@dataclass(frozen=True)
class Actor:
    person_id: str | None
    roles: frozenset
    name: str | None = None

    @classmethod
    def from_dict(cls, data):
        if not isinstance(data, dict) or data.get("kind", "person") != "person" \
                or not data.get("person_id"):
            raise Unauthenticated("须以本人身份调用 (a signed-in person is required)")
        return cls(data["person_id"], frozenset(data.get("roles") or ()), data.get("name"))

    def any_of(self, allowed):
        return bool(self.roles & set(allowed))


def require(actor, allowed, action):
    if not actor.any_of(allowed):
        raise Forbidden(f"无权执行此操作：{action} (your role may not do this)")


def ledger_person_filter(actor, person_id):
    """HR, Finance and the centre read every line; anyone else only their own."""
    if actor.any_of(LEDGER_READERS):
        return person_id
    if person_id is not None and person_id != actor.person_id:
        raise Forbidden("只能查看本人的扣罚记录 (you may see only your own deductions)")
    return actor.person_id


def may_read_line(actor, line):
    return actor.any_of(LEDGER_READERS) or line.person_id == actor.person_id
