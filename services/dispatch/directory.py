"""The organisation directory (SPEC §1) as an immutable snapshot: units,
people, the positions they hold, projects and their service desks.

Pure: built either from a validated organisation file (`from_document`) or
from the database rows, and read by the responsibility rule. No I/O here.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from shared import organisation as org


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months, clamped to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Unit:
    id: str
    kind: str
    name: str
    parent_id: str | None = None
    department: str | None = None  # department code; `property` for a property company
    active: bool = True


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    mobile: str
    roles: tuple[str, ...]
    unit_id: str
    bonus: Decimal | None = None  # 月度综合奖金, CNY
    active: bool = True

    def label(self) -> str:
        return f"{self.name} ({self.id})"


@dataclass(frozen=True)
class Position:
    unit_id: str
    position: str
    person_id: str
    seq: int = 0
    areas: tuple[str, ...] = ()  # what a company leader supervises
    title: str | None = None


@dataclass(frozen=True)
class Project:
    id: str
    name: str
    city: str | None
    city_tier: str
    region_company_id: str
    property_company_id: str
    project_gm_id: str | None
    first_sale_on: date
    last_delivery_on: date | None
    active: bool = True

    @property
    def desk_unit_id(self) -> str:
        return org.desk_unit_id(self.id)

    @property
    def desk_closes_on(self) -> date | None:
        """Art. 7: the desk stays until six months after the last delivery."""
        if self.last_delivery_on is None:
            return None
        return add_months(self.last_delivery_on, org.DESK_OPEN_MONTHS_AFTER_LAST_DELIVERY)

    def desk_open_on(self, day: date) -> bool:
        closes = self.desk_closes_on
        return self.first_sale_on <= day and (closes is None or day <= closes)


@dataclass(frozen=True)
class DeskAssignment:
    project_id: str
    person_id: str
    assigned_on: date
    active: bool = True

    @property
    def rotation_due_on(self) -> date:
        """Art. 43: a specialist rotates every six months."""
        return add_months(self.assigned_on, org.ROTATION_MONTHS)


@dataclass(frozen=True)
class Version:
    """Which load a snapshot comes from."""
    version: int
    loaded_at: datetime
    source: str
    sha256: str
    label: str | None = None


@dataclass(frozen=True)
class Directory:
    region_code: str | None
    region_name: str | None
    units: tuple[Unit, ...]
    people: tuple[Person, ...]
    positions: tuple[Position, ...]
    projects: tuple[Project, ...]
    assignments: tuple[DeskAssignment, ...]
    version: Version | None = None
    _index: dict[str, Any] = field(default_factory=dict, init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        by_unit: dict[tuple[str, str], list[Position]] = {}
        for pos in sorted(self.positions, key=lambda p: (p.unit_id, p.position, p.seq)):
            by_unit.setdefault((pos.unit_id, pos.position), []).append(pos)
        object.__setattr__(self, "_index", {
            "units": {u.id: u for u in self.units},
            "people": {p.id: p for p in self.people},
            "projects": {p.id: p for p in self.projects},
            "positions": by_unit,
        })

    @classmethod
    def empty(cls) -> Directory:
        return cls(None, None, (), (), (), (), ())

    @property
    def loaded(self) -> bool:
        return self.version is not None or bool(self.people)

    # -- lookups -------------------------------------------------------------------

    def unit(self, unit_id: str | None) -> Unit | None:
        return self._index["units"].get(unit_id)

    def person(self, person_id: str | None) -> Person | None:
        return self._index["people"].get(person_id)

    def project(self, project_id: str | None) -> Project | None:
        return self._index["projects"].get(project_id)

    def active_people(self) -> list[Person]:
        return [p for p in self.people if p.active]

    def active_projects(self) -> list[Project]:
        return [p for p in self.projects if p.active]

    def positions_in(self, unit_id: str, position: str) -> list[Position]:
        return list(self._index["positions"].get((unit_id, position), ()))

    def holders(self, unit_id: str, position: str) -> list[Person]:
        """Active people holding `position` in the unit, in file order."""
        found = (self.person(pos.person_id) for pos in self.positions_in(unit_id, position))
        return [p for p in found if p is not None and p.active]

    def holder(self, unit_id: str, position: str) -> Person | None:
        holders = self.holders(unit_id, position)
        return holders[0] if holders else None

    def leaders_supervising(self, company_id: str, area: str) -> list[Person]:
        """Company leaders whose supervised areas include `area`."""
        found = [self.person(pos.person_id) for pos in self.positions_in(company_id, org.POS_LEADER)
                 if area in pos.areas]
        return [p for p in found if p is not None and p.active]

    def department_unit(self, company_id: str, department: str) -> Unit | None:
        return self.unit(org.department_unit_id(company_id, department))

    def desk_assignments(self, project_id: str, active_only: bool = True) -> list[DeskAssignment]:
        return sorted((a for a in self.assignments if a.project_id == project_id
                       and (a.active or not active_only)),
                      key=lambda a: (a.assigned_on, a.person_id))

    def positions_of(self, person_id: str) -> list[Position]:
        return sorted((p for p in self.positions if p.person_id == person_id),
                      key=lambda p: (p.unit_id, p.position))

    def project_ids_of(self, person_id: str) -> list[str]:
        """The desks a specialist serves, and the project a project GM runs."""
        ids = {a.project_id for a in self.assignments if a.person_id == person_id and a.active}
        ids |= {p.id for p in self.projects if p.project_gm_id == person_id and p.active}
        return sorted(ids)

    def people_with_role(self, role: str) -> list[Person]:
        return [p for p in self.active_people() if role in p.roles]

    # -- what an operator should know -----------------------------------------------

    def counts(self) -> dict[str, int]:
        active_units = [u for u in self.units if u.active]
        return {
            "people": len(self.active_people()),
            "people_inactive": len(self.people) - len(self.active_people()),
            "units": len(active_units),
            "region_companies": sum(u.kind == org.UNIT_REGION_COMPANY for u in active_units),
            "property_companies": sum(u.kind == org.UNIT_PROPERTY_COMPANY for u in active_units),
            "departments": sum(u.kind == org.UNIT_DEPARTMENT for u in active_units),
            "projects": len(self.active_projects()),
            "specialists": len({a.person_id for a in self.assignments if a.active}),
        }

    def vacancies(self) -> list[str]:
        """Posts the responsibility rule may need that nobody holds (zh messages)."""
        missing: list[str] = []

        def need(unit: Unit | None, position: str, what: str) -> None:
            if unit is not None and self.holder(unit.id, position) is None:
                missing.append(f"{unit.name} {what}")

        for unit in self.units:
            if not unit.active:
                continue
            if unit.kind == org.UNIT_CENTRE:
                need(unit, org.POS_CENTRE_GM, "总经理 (centre_gm)")
                need(unit, org.POS_CENTRE_DEPUTY_GM, "副总经理 (centre_deputy_gm)")
            elif unit.kind in (org.UNIT_REGION_COMPANY, org.UNIT_PROPERTY_COMPANY):
                need(unit, org.POS_CHAIRMAN, "董事长 (chairman)")
                areas = (org.CAPITAL_LEADER_AREAS if unit.kind == org.UNIT_REGION_COMPANY
                         else org.PROPERTY_LEADER_AREAS)
                for area in areas:
                    if not self.leaders_supervising(unit.id, area):
                        missing.append(f"{unit.name} 分管{org.AREA_NAMES_ZH[area]}的领导 "
                                       f"({area} leader)")
                if unit.kind == org.UNIT_REGION_COMPANY:
                    for code in org.REGION_DEPARTMENTS:
                        if self.department_unit(unit.id, code) is None:
                            missing.append(f"{unit.name} {org.DEPARTMENT_NAMES_ZH[code]} "
                                           f"(department {code})")
            if unit.department is not None:
                need(unit, org.POS_HEAD, "一把手 (head)")
                need(unit, org.POS_SUPERVISING_LEADER, "分管领导 (supervising_leader)")
        for project in self.active_projects():
            if project.city_tier == org.TIER3 and not self._active(project.project_gm_id):
                missing.append(f"{project.name} 项目总经理 (project_gm)")
            if not self.desk_assignments(project.id):
                missing.append(f"{project.name} 项目售后服务中心客服专员 (specialist)")
        return missing

    def _active(self, person_id: str | None) -> bool:
        person = self.person(person_id) if person_id else None
        return person is not None and person.active


def from_document(doc: dict[str, Any]) -> Directory:
    """The snapshot a validated organisation file describes (every person active)."""
    units: list[Unit] = []
    positions: list[Position] = []

    def post(unit_id: str, position: str, person_id: str | None, seq: int = 0,
             areas: tuple[str, ...] = (), title: str | None = None) -> None:
        if person_id:
            positions.append(Position(unit_id, position, person_id, seq, tuple(areas), title))

    centre = doc["centre"]
    units.append(Unit(centre["id"], org.UNIT_CENTRE, centre["name"]))
    post(centre["id"], org.POS_CENTRE_GM, centre.get("gm"))
    post(centre["id"], org.POS_CENTRE_DEPUTY_GM, centre.get("deputy_gm"))
    post(centre["id"], org.POS_VP, centre.get("vp"))
    for seq, person_id in enumerate(centre.get("staff") or ()):
        post(centre["id"], org.POS_CENTRE_STAFF, person_id, seq)
    for group_unit in doc.get("group_units") or ():
        units.append(Unit(group_unit["id"], org.UNIT_GROUP, group_unit["name"]))

    def company(record: dict[str, Any], kind: str,
                departments: list[tuple[str, dict[str, Any]]]) -> None:
        units.append(Unit(record["id"], kind, record["name"],
                          department=org.PROPERTY if kind == org.UNIT_PROPERTY_COMPANY else None))
        post(record["id"], org.POS_CHAIRMAN, record.get("chairman"))
        for seq, leader in enumerate(record.get("leaders") or ()):
            post(record["id"], org.POS_LEADER, leader["person"], seq, leader["supervises"],
                 leader.get("title"))
        for code, dept in departments:
            unit_id = org.department_unit_id(record["id"], code)
            if unit_id != record["id"]:
                name = dept.get("name") or record["name"] + org.DEPARTMENT_NAMES_ZH[code]
                units.append(Unit(unit_id, org.UNIT_DEPARTMENT, name, record["id"], code))
            post(unit_id, org.POS_HEAD, dept.get("head"))
            post(unit_id, org.POS_SUPERVISING_LEADER, dept.get("supervising_leader"))

    for record in doc["regional_companies"]:
        departments = record.get("departments") or {}
        company(record, org.UNIT_REGION_COMPANY,
                [(code, departments[code]) for code in org.REGION_DEPARTMENTS
                 if code in departments])
    for record in doc["property_companies"]:
        company(record, org.UNIT_PROPERTY_COMPANY, [(org.PROPERTY, record.get("property") or {})])

    projects: list[Project] = []
    assignments: list[DeskAssignment] = []
    for record in doc["projects"]:
        desk = record["desk"]
        project = Project(record["id"], record["name"], record.get("city"), record["city_tier"],
                          record["region_company"], record["property_company"],
                          record.get("project_gm"), desk["first_sale_on"],
                          desk.get("last_delivery_on"))
        projects.append(project)
        units.append(Unit(project.desk_unit_id, org.UNIT_DESK,
                          desk.get("name") or f"{project.name}项目售后服务中心", centre["id"]))
        for spec in desk.get("specialists") or ():
            assignments.append(DeskAssignment(project.id, spec["person"], spec["assigned_on"]))

    people = [Person(p["id"], p["name"], p["mobile"], tuple(p["roles"]), p["unit"], p.get("bonus"))
              for p in doc["people"]]
    region = doc["region"]
    return Directory(region["code"], region.get("name"), tuple(units), tuple(people),
                     tuple(positions), tuple(projects), tuple(assignments))
