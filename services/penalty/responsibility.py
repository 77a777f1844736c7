"""Who owes Art. 36 for an overdue complaint (pure): one definition for the
daily overdue fines (`ledger.overdue_charges`) and the day-16 sanction cases
(`sanctions.overdue_cases`); docs/sla.md, "Art. 36: who owes it", says it in
words.

Art. 36 names the 投诉处理责任人 (the handler: the head of the first
responsible department) and the 分管领导. SPEC §1 defines the 分管领导
(`supervising_leader`) as "the company leader who supervises a department":
the leader sla's `overdue.*` events list with the role `supervising_leader`
(dispatch names exactly one, the first responsible department's). The other
leaders SPEC §3 lists (the capital project's design, engineering and
development leaders, `company_leader`; the tier-3 project GM, `project_gm`)
carry leadership responsibility (Art. 21) and hear of the complaint, but do
not owe this fine or case. A major complaint's chairman is its handler and
its only leader (role `chairman`): he owes the handler's share, once.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SUPERVISING_LEADER = "supervising_leader"
HANDLER, LEADER = "handler", "leader"


def supervising_leaders(data: Mapping[str, Any]) -> list[str]:
    """The supervising leaders an overdue event names. An event without the
    leaders' roles (older than the `leaders` field) falls back to its
    `leader_person_ids`."""
    if data.get("leaders"):
        return [leader["person_id"] for leader in data["leaders"]
                if leader.get("role") == SUPERVISING_LEADER and leader.get("person_id")]
    return [person for person in data.get("leader_person_ids") or [] if person]


def owing(data: Mapping[str, Any]) -> list[tuple[str | None, str]]:
    """[(person_id, capacity)]: the handler first, then each supervising
    leader who is not the handler, each once."""
    handler = data.get("handler_person_id")
    out: list[tuple[str | None, str]] = [(handler, HANDLER)]
    for leader in supervising_leaders(data):
        if leader not in {person for person, _ in out}:
            out.append((leader, LEADER))
    return out
