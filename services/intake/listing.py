"""Finding complaints (SPEC §10): the list's filters as SQL conditions with
named parameters, and the names shown beside the ids.

Pure: no I/O. The filters arrive loaded by the contract's form
(shared.contracts.intake.forms.ListFilters); every value a person typed
travels as a parameter, never as SQL text, and free text is matched with
its LIKE wildcards escaped, so `50%` or `a_b` mean what they say.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

# sort name -> column (a whitelist: the form allows only these names)
SORT_COLUMNS = {"recorded_at": "c.recorded_at", "id": "c.id",
                "requested_completion_at": "c.requested_completion_at",
                "updated_at": "c.updated_at"}
DEFAULT_SORT = "-recorded_at"

# The routed department (complaint.routed), or the GM's override before routing.
DEPARTMENT_SQL = "COALESCE(c.responsibility->>'department', c.department)"
_PHONE_SEPARATORS = re.compile(r"[\s\-()]")


@dataclass(frozen=True)
class Visibility:
    """Who sees what besides the centre (services.intake.access.Actor.may_see_complaint)."""
    projects: tuple[str, ...]
    person_id: str | None
    unit_id: str | None


@dataclass
class Where:
    """Conditions joined with AND, and their parameters."""
    conditions: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)

    def add(self, condition: str, **params: Any) -> None:
        self.conditions.append(condition)
        self.params.update(params)

    @property
    def clause(self) -> str:
        return (" WHERE " + " AND ".join(self.conditions)) if self.conditions else ""


def like_pattern(text: str) -> str:
    """`text` as an ILIKE pattern matching it anywhere; its wildcards (% _)
    and the escape character itself are taken literally (ESCAPE '\\')."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def phone_digits(text: str) -> str | None:
    """The digits a phone search means (spaces, dashes, +86 dropped), or None
    if `text` is not a run of digits."""
    compact = _PHONE_SEPARATORS.sub("", text)
    for prefix in ("+86", "0086"):
        if compact.startswith(prefix) and len(compact) > len(prefix) + 6:
            compact = compact[len(prefix):]
    return compact if compact.isdigit() and len(compact) >= 3 else None


def day_start(day: date, zone: tzinfo) -> datetime:
    """Midnight starting `day` in the group's zone."""
    return datetime.combine(day, time(0), tzinfo=zone)


def text_search(where: Where, q: str) -> None:
    """q over the id, the customer's name and phone and the room."""
    terms = ["c.id ILIKE %(q)s ESCAPE '\\'", "c.customer_name ILIKE %(q)s ESCAPE '\\'",
             "c.room ILIKE %(q)s ESCAPE '\\'", "c.customer_phone ILIKE %(q)s ESCAPE '\\'"]
    params: dict[str, Any] = {"q": like_pattern(q)}
    digits = phone_digits(q)
    if digits is not None:
        terms.append("regexp_replace(c.customer_phone, '[^0-9]', '', 'g') LIKE %(q_digits)s")
        params["q_digits"] = f"%{digits}%"
    where.add("(" + " OR ".join(terms) + ")", **params)


def due_today(where: Where, now: datetime, zone: tzinfo) -> None:
    """In work (order signed, not yet applied for closure) and asked to be
    complete on `now`'s date in the group's zone: the GM's due-today count."""
    today = now.astimezone(zone).date()
    where.add("""c.state = 'order_signed' AND c.requested_completion_at >= %(due_from)s
                 AND c.requested_completion_at < %(due_before)s""",
              due_from=day_start(today, zone),
              due_before=day_start(today + timedelta(days=1), zone))


def conditions(query: Mapping[str, Any], zone: tzinfo, visible: Visibility | None = None,
               holder_id: str | None = None, callbacks_for: bool = False,
               now: datetime | None = None) -> Where:
    """The WHERE of the list. `visible=None`: everything (the centre);
    `holder_id`: only what waits on that person now (assigned_to_me); `now`
    (the shared clock) is what `due=today` counts from."""
    where = Where()
    if visible is not None:
        where.add("""(c.project_id = ANY(%(visible_projects)s)
                      OR %(visible_person)s = ANY(c.responsible_person_ids)
                      OR %(visible_unit)s = ANY(c.responsible_unit_ids))""",
                  visible_projects=list(visible.projects), visible_person=visible.person_id,
                  visible_unit=visible.unit_id)
    if query.get("state") is not None:
        where.add("c.state = %(state)s", state=query["state"])
    else:
        # A voided complaint leaves every list; only asking for it shows it.
        where.add("c.state <> 'voided'")
    for name, column in (("project_id", "c.project_id"), ("category", "c.category"),
                         ("channel", "c.channel"), ("handler_id", "c.handler_id"),
                         ("department_id", DEPARTMENT_SQL)):
        if query.get(name) is not None:
            where.add(f"{column} = %({name})s", **{name: query[name]})
    if query.get("q"):
        text_search(where, query["q"])
    if query.get("recorded_from") is not None:
        where.add("c.recorded_at >= %(recorded_from)s",
                  recorded_from=day_start(query["recorded_from"], zone))
    if query.get("recorded_to") is not None:
        where.add("c.recorded_at < %(recorded_before)s",
                  recorded_before=day_start(query["recorded_to"] + timedelta(days=1), zone))
    if query.get("ids") is not None:
        where.add("c.id = ANY(%(ids)s)", ids=list(query["ids"]))
    if query.get("due") == "today":
        if now is None:
            raise ValueError("due=today needs the shared clock's now")
        due_today(where, now, zone)
    if query.get("callback_due") is not None:
        where.add("c.callback_due_since IS " + ("NOT NULL" if query["callback_due"] else "NULL"))
    if holder_id is not None:
        where.add(f"""(EXISTS (SELECT 1 FROM intake.order_holders h
                       WHERE h.complaint_id = c.id AND h.order_round = c.order_round
                         AND h.held_to IS NULL AND h.person_id = %(holder)s)
                      OR (c.state = 'order_signed' AND c.handler_id = %(holder)s)
                      OR EXISTS (SELECT 1 FROM intake.closures x
                          WHERE x.application_id = c.closure_application_id
                            AND x.status IN ('applied', 'verified', 'reviewed')
                            AND x.holder_id = %(holder)s)
                      {"OR c.callback_due_since IS NOT NULL" if callbacks_for else ""})""",
                  holder=holder_id)
    return where


def order_by(sort: str | None) -> str:
    """ORDER BY of a whitelisted sort name; the id breaks ties, so pages never overlap."""
    name = sort or DEFAULT_SORT
    descending = name.startswith("-")
    column = SORT_COLUMNS[name.lstrip("-")]
    direction = "DESC" if descending else "ASC"
    if column == "c.id":
        return f" ORDER BY c.id {direction}"
    return f" ORDER BY {column} {direction}, c.id {direction}"


# -- names beside the ids ----------------------------------------------------------------

@dataclass(frozen=True)
class Names:
    """The directory's names of projects and people ({id: name}); empty when
    the directory did not answer (the list still shows, with ids)."""
    projects: Mapping[str, str] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)

    def project(self, project_id: str | None) -> str | None:
        return self.projects.get(project_id) if project_id else None

    def person(self, person_id: str | None) -> str | None:
        return self.people.get(person_id) if person_id else None
