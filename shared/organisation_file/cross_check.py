"""The organisation file's cross-references: every reference resolves, ids
are unique, people hold the posts their roles mean (SPEC §1)."""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from shared import organisation as org
from shared import roles
from shared.organisation_file.yaml_file import place

# Roles that mean a post in the file: whoever has the role must hold the post.
# (A specialist may be between desks; hr, finance and admin hold no post.)
_POSTS_OF_ROLE = {
    roles.CENTRE_GM: "centre.gm", roles.CENTRE_DEPUTY_GM: "centre.deputy_gm",
    roles.CENTRE_STAFF: "centre.staff", roles.VP: "centre.vp",
    roles.HEAD: "某部门或物业公司的 head",
    roles.SUPERVISING_LEADER: "某部门的 supervising_leader 或公司的 leaders",
    roles.CHAIRMAN: "某公司的 chairman", roles.PROJECT_GM: "某项目的 project_gm",
}


class _Problems:
    def __init__(self) -> None:
        self.tree: dict[Any, Any] = {}

    def add(self, path: tuple[Any, ...], message: str) -> None:
        node = self.tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node.setdefault(path[-1], []).append(message)


def cross_check(doc: dict[str, Any]) -> dict[Any, Any]:
    """Every reference resolves, ids are unique, roles match posts.
    Returns marshmallow-style nested messages (empty when all is well)."""
    problems = _Problems()
    people = doc["people"]
    index: dict[str, int] = {}
    for i, person in enumerate(people):
        if person["id"] in index:
            problems.add(("people", i, "id"),
                         f"人员编号重复，与 people[{index[person['id']]}] 相同 "
                         f"(duplicate person id {person['id']!r})")
        else:
            index[person["id"]] = i
    mobiles: dict[str, int] = {}
    for i, person in enumerate(people):
        if person["mobile"] in mobiles:
            problems.add(("people", i, "mobile"),
                         f"手机号与 people[{mobiles[person['mobile']]}] 重复 "
                         f"(mobile {person['mobile']} already used)")
        mobiles.setdefault(person["mobile"], i)

    units: dict[str, str] = {}

    def unit(path: tuple[Any, ...], unit_id: str) -> None:
        if unit_id in units:
            problems.add(path, f"单位编号重复，与 {units[unit_id]} 相同 "
                               f"(duplicate unit id {unit_id!r})")
        else:
            units[unit_id] = place(path)

    centre = doc["centre"]
    unit(("centre", "id"), centre["id"])
    for i, group_unit in enumerate(doc["group_units"]):
        unit(("group_units", i, "id"), group_unit["id"])
    for i, company in enumerate(doc["regional_companies"]):
        unit(("regional_companies", i, "id"), company["id"])
        for code in company["departments"]:
            unit(("regional_companies", i, "departments", code),
                 org.department_unit_id(company["id"], code))
    for i, company in enumerate(doc["property_companies"]):
        unit(("property_companies", i, "id"), company["id"])
    project_ids: dict[str, int] = {}
    for i, project in enumerate(doc["projects"]):
        if project["id"] in project_ids:
            problems.add(("projects", i, "id"),
                         f"项目编号重复，与 projects[{project_ids[project['id']]}] 相同 "
                         f"(duplicate project id {project['id']!r})")
        project_ids.setdefault(project["id"], i)
        unit(("projects", i, "id"), org.desk_unit_id(project["id"]))

    for i, person in enumerate(people):
        if person["unit"] not in units:
            problems.add(("people", i, "unit"), f"未知单位 (unknown unit) {person['unit']!r}")

    held: defaultdict[str, set[str]] = defaultdict(set)

    def ref(path: tuple[Any, ...], person_id: str | None, role: str) -> None:
        if person_id is None:
            return
        if person_id not in index:
            problems.add(path, f"未知人员 (unknown person) {person_id!r}")
            return
        held[person_id].add(role)
        person = people[index[person_id]]
        if role not in person["roles"]:
            problems.add(path, f"{person['name']} ({person_id}) 的角色中没有 {role} "
                               f"(person lacks role {role})")

    ref(("centre", "gm"), centre["gm"], roles.CENTRE_GM)
    ref(("centre", "deputy_gm"), centre["deputy_gm"], roles.CENTRE_DEPUTY_GM)
    ref(("centre", "vp"), centre["vp"], roles.VP)
    for k, person_id in enumerate(centre["staff"]):
        ref(("centre", "staff", k), person_id, roles.CENTRE_STAFF)

    def company_posts(section: str, i: int, company: dict[str, Any],
                      posts: list[tuple[tuple[Any, ...], dict[str, Any]]]) -> None:
        ref((section, i, "chairman"), company["chairman"], roles.CHAIRMAN)
        seen = set()
        for k, leader in enumerate(company["leaders"]):
            if leader["person"] in seen:
                problems.add((section, i, "leaders", k, "person"),
                             f"同一领导列出两次 (leader {leader['person']!r} listed twice)")
            seen.add(leader["person"])
            ref((section, i, "leaders", k, "person"), leader["person"], roles.SUPERVISING_LEADER)
        for path, post in posts:
            ref(path + ("head",), post["head"], roles.HEAD)
            ref(path + ("supervising_leader",), post["supervising_leader"],
                roles.SUPERVISING_LEADER)

    for i, company in enumerate(doc["regional_companies"]):
        company_posts("regional_companies", i, company,
                      [(("regional_companies", i, "departments", code), post)
                       for code, post in company["departments"].items()])
    for i, company in enumerate(doc["property_companies"]):
        company_posts("property_companies", i, company,
                      [(("property_companies", i, "property"), company["property"])])

    region_ids = {c["id"] for c in doc["regional_companies"]}
    property_ids = {c["id"] for c in doc["property_companies"]}
    for i, project in enumerate(doc["projects"]):
        if project["region_company"] not in region_ids:
            problems.add(("projects", i, "region_company"),
                         f"未知地区公司 (unknown regional company) {project['region_company']!r}")
        if project["property_company"] not in property_ids:
            problems.add(("projects", i, "property_company"),
                         f"未知物业公司 (unknown property company) {project['property_company']!r}")
        ref(("projects", i, "project_gm"), project["project_gm"], roles.PROJECT_GM)
        on_desk = set()
        for k, assignment in enumerate(project["desk"]["specialists"]):
            path = ("projects", i, "desk", "specialists", k, "person")
            if assignment["person"] in on_desk:
                problems.add(path, f"同一客服专员列出两次 "
                                   f"(specialist {assignment['person']!r} listed twice)")
            on_desk.add(assignment["person"])
            ref(path, assignment["person"], roles.SPECIALIST)

    for i, person in enumerate(people):
        if index.get(person["id"]) != i:
            continue
        for role in person["roles"]:
            if role in _POSTS_OF_ROLE and role not in held[person["id"]]:
                problems.add(("people", i, "roles"),
                             f"{person['name']} ({person['id']}) 有 {role} 角色，"
                             f"但没有担任 {_POSTS_OF_ROLE[role]} "
                             f"(has role {role} but holds no such post)")
    return problems.tree
