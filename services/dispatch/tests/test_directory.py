"""The directory snapshot built from the demo file (SPEC §1), no database."""
from datetime import date
from decimal import Decimal

from services.dispatch.directory import add_months
from shared import organisation as org


def test_demo_has_every_role_department_and_project_kind(demo_directory):
    d = demo_directory
    assert {role for p in d.people for role in p.roles} == set(org.ROLES)
    assert d.counts() == {"people": 59, "people_inactive": 0, "units": 26, "region_companies": 2,
                          "property_companies": 2, "departments": 14, "projects": 4,
                          "specialists": 9}
    for company in ("rc-gz", "rc-gx"):
        for code in org.REGION_DEPARTMENTS:
            assert d.department_unit(company, code).department == code
        tiers = {p.city_tier for p in d.projects if p.region_company_id == company}
        assert tiers == {"capital", "tier3"}
    assert all(len(d.desk_assignments(p.id)) >= 2 for p in d.projects)
    assert len({p.mobile for p in d.people}) == len(d.people)
    assert sum(p.bonus is not None for p in d.people) > len(d.people) * 3 // 4
    assert d.vacancies() == []


def test_people_know_their_desks_and_projects(demo_directory):
    assert demo_directory.project_ids_of("p03-spec-2") == ["GZ-P03"]
    assert demo_directory.project_ids_of("p04-gm") == ["GZ-P04"]
    assert demo_directory.project_ids_of("rcgz-mkt-head") == []
    assert demo_directory.person("centre-gm").bonus == Decimal("15000.00")


def test_desk_closes_six_months_after_the_last_delivery(demo_directory):
    p01 = demo_directory.project("GZ-P01")
    assert p01.desk_closes_on == date(2026, 12, 30)
    assert p01.desk_open_on(date(2026, 12, 30)) and not p01.desk_open_on(date(2026, 12, 31))
    assert not p01.desk_open_on(date(2024, 3, 15))
    p02 = demo_directory.project("GZ-P02")
    assert p02.desk_closes_on is None and p02.desk_open_on(date(2030, 1, 1))


def test_rotation_is_due_six_months_after_assignment(demo_directory):
    first = demo_directory.desk_assignments("GZ-P01")[0]
    assert (first.person_id, first.rotation_due_on) == ("p01-spec-1", date(2026, 12, 1))


def test_add_months_clamps_to_the_month_end():
    assert add_months(date(2026, 8, 31), 6) == date(2027, 2, 28)
    assert add_months(date(2027, 8, 31), 6) == date(2028, 2, 29)
    assert add_months(date(2026, 1, 15), 11) == date(2026, 12, 15)


def test_vacancies_are_reported(demo_raw, directory_of):
    demo_raw["regional_companies"][1]["departments"]["treasury"]["supervising_leader"] = None
    del demo_raw["regional_companies"][0]["departments"]["commercial_operations"]
    demo_raw["people"] = [p for p in demo_raw["people"] if p["id"] != "rcgz-com-head"]
    vacancies = directory_of(demo_raw).vacancies()
    assert vacancies == ["恒大地产集团广州公司 商业经营管理部 (department commercial_operations)",
                         "恒大地产集团广西公司资金部 分管领导 (supervising_leader)"]
