"""Who answers for a complaint (SPEC §3 "Responsibility"; Art. 5, 21, 33).

Resolved from a directory snapshot at dispatch time; the caller freezes the
answer on the order, so later changes to the directory never move it. Pure.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from services.dispatch.directory import Directory, Person, Unit
from shared import organisation as org
from shared import roles
from shared.errors import Conflict, InvalidInput, NotFound


class DirectoryIncomplete(Conflict):
    """The directory lacks a person the rule needs: an admin must fill the post."""
    code = "directory_incomplete"

    def __init__(self, message: str, role: str, unit_id: str | None) -> None:
        super().__init__(message, {"role": [role], "unit_id": [unit_id or ""]})
        self.role = role
        self.unit_id = unit_id


@dataclass(frozen=True)
class Responsibility:
    project_id: str
    department: str
    major: bool
    company: Unit  # the regional company, or the property company for `property`
    unit: Unit  # the responsible department (the company itself when major)
    handler: Person
    leaders: tuple[Person, ...]


def resolve_responsibility(directory: Directory, project_id: str, department: str,
                           major: bool = False) -> Responsibility:
    """Handler and leaders for a complaint on `project_id` routed to `department`.

    - handler: head of the department in the project's regional company (of its
      property company for `property`);
    - leaders: the department's supervising leader, plus the leaders supervising
      design, engineering, development and marketing for a capital project, the
      project GM for a tier-3 one, the leaders supervising engineering and
      quality on the property side;
    - major / group / common issue: the company's chairman is handler and leader.
    """
    if department not in org.DEPARTMENTS:
        raise InvalidInput({"department": [
            f"未知部门 (unknown department) {department!r}; "
            f"须为 {', '.join(org.DEPARTMENTS)} 之一"]})
    if not directory.loaded:
        raise DirectoryIncomplete(
            "组织架构尚未加载 (no directory loaded: "
            "run python -m services.dispatch.load_directory)",
            "directory", None)
    project = directory.project(project_id)
    if project is None or not project.active:
        raise NotFound(f"项目不存在或已停用 (unknown project) {project_id}")

    property_side = department == org.PROPERTY
    company = directory.unit(project.property_company_id if property_side
                             else project.region_company_id)
    if company is None or not company.active:
        raise DirectoryIncomplete(
            f"{project.name} 所属{'物业公司' if property_side else '地区公司'}不在组织架构中 "
            f"(company of project {project.id} missing)",
            org.UNIT_PROPERTY_COMPANY if property_side else org.UNIT_REGION_COMPANY,
            project.property_company_id if property_side else project.region_company_id)

    if major:
        chairman = _required(directory, company, org.POS_CHAIRMAN)
        return Responsibility(project.id, department, True, company, company, chairman, (chairman,))

    unit = directory.department_unit(company.id, department)
    if unit is None or not unit.active:
        raise DirectoryIncomplete(
            f"{company.name} 没有{org.DEPARTMENT_NAMES_ZH[department]} "
            f"(department {department} missing in {company.id})",
            department, org.department_unit_id(company.id, department))
    handler = _required(directory, unit, org.POS_HEAD)
    leaders = [_required(directory, unit, org.POS_SUPERVISING_LEADER)]
    if property_side:
        leaders += _area_leaders(directory, company, org.PROPERTY_LEADER_AREAS)
    elif project.city_tier == org.CAPITAL:
        leaders += _area_leaders(directory, company, org.CAPITAL_LEADER_AREAS)
    elif project.city_tier == org.TIER3:
        gm = directory.person(project.project_gm_id) if project.project_gm_id else None
        if gm is None or not gm.active:
            raise DirectoryIncomplete(
                f"三线项目 {project.name} 没有项目总经理 "
                f"(tier-3 project {project.id} has no project_gm)",
                roles.PROJECT_GM, project.desk_unit_id)
        leaders.append(gm)
    return Responsibility(project.id, department, False, company, unit, handler,
                          tuple(_unique(leaders)))


def _required(directory: Directory, unit: Unit, position: str) -> Person:
    person = directory.holder(unit.id, position)
    if person is None:
        raise DirectoryIncomplete(
            f"{unit.name} 没有{org.POSITION_NAMES_ZH[position]} ({position} missing in {unit.id})",
            position, unit.id)
    return person


def _area_leaders(directory: Directory, company: Unit, areas: Iterable[str]) -> list[Person]:
    found = []
    for area in areas:
        leaders = directory.leaders_supervising(company.id, area)
        if not leaders:
            raise DirectoryIncomplete(
                f"{company.name} 没有分管{org.AREA_NAMES_ZH[area]}的领导 "
                f"(no leader supervising {area} in {company.id})",
                org.POS_SUPERVISING_LEADER, company.id)
        found += leaders
    return found


def _unique(people: Iterable[Person]) -> Iterator[Person]:
    seen = set()
    for person in people:
        if person.id not in seen:
            seen.add(person.id)
            yield person
