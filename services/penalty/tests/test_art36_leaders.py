"""Art. 36: one definition of the supervising leader (SPEC §1, docs/sla.md
"Art. 36: who owes it") for the daily overdue fines and the day-16 sanction
cases, on the demo organisation. The leaders come from dispatch's own
resolution (SPEC §3) with the roles dispatch gives them on the order, into
an overdue event shaped as sla publishes it; who owes what is written here
by hand from the regulation."""
from datetime import timedelta
from decimal import Decimal

import pytest

from services.dispatch.assignment import _leader_role
from services.dispatch.directory import from_document
from services.dispatch.responsibility import resolve_responsibility
from services.penalty.ledger import overdue_charges
from services.penalty.sanctions import overdue_cases
from services.penalty.tests.helpers import BOOK, ZONE, at
from shared.config import REPO_ROOT
from shared.organisation_file import read_organisation

DIRECTORY = from_document(read_organisation(
    REPO_ROOT / "data" / "organisation" / "demo.yaml").document)


def overdue_event(project_id, department, major, day):
    """`overdue.accrued` / `overdue.sanction_due` data as sla builds it from
    the routed order (services/sla/firing.py, fire_overdue)."""
    found = resolve_responsibility(DIRECTORY, project_id, department, major)
    project = DIRECTORY.project(project_id)
    if major:
        leaders = [{"person_id": found.handler.id, "role": "chairman"}]
    else:
        leaders = [{"person_id": p.id, "role": _leader_role(i, p, project)}
                   for i, p in enumerate(found.leaders)]
    completion = at("2026-11-05 18:00")
    return {"complaint_id": "C-GZ-2026-000036", "timer_id": f"od-{project_id}-{day}",
            "day": day, "tier": 1 if day <= 7 else 2 if day <= 15 else 3,
            "handler_person_id": found.handler.id,
            "leader_person_ids": [leader["person_id"] for leader in leaders],
            "leaders": leaders, "day_started_at": completion + timedelta(days=day - 1),
            "completion_due_at": completion}


# (project, department, major) -> who owes Art. 36, written from SPEC §1/§3 and Art. 21, 36:
# the handler (the department's head; the chairman when major) and the department's
# 分管领导; never the capital project's other area leaders, the tier-3 project GM or,
# for a property complaint, the leaders of engineering and quality.
CASES = {
    "capital project (GZ-P01, marketing)": (
        ("GZ-P01", "marketing", False),
        [("rcgz-mkt-head", "handler"), ("rcgz-vp-mkt", "leader")],
        {"rcgz-vp-design", "rcgz-vp-eng", "rcgz-vp-dev"}),
    "tier-3 project (GZ-P02, marketing)": (
        ("GZ-P02", "marketing", False),
        [("rcgz-mkt-head", "handler"), ("rcgz-vp-mkt", "leader")], {"p02-gm"}),
    "property company (GZ-P01, property)": (
        ("GZ-P01", "property", False),
        [("pcgz-head", "handler"), ("pcgz-vp-service", "leader")],
        {"pcgz-vp-eng", "pcgz-vp-quality"}),
    "major complaint (GZ-P01, marketing, escalated)": (
        ("GZ-P01", "marketing", True), [("rcgz-chairman", "handler")], set()),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_daily_fines_and_day_16_cases_name_the_same_people(name):
    (project, department, major), owing, others = CASES[name]
    day3 = overdue_event(project, department, major, 3)
    assert others <= set(day3["leader_person_ids"])        # they are leaders on the order...
    fines = overdue_charges(day3, day3["complaint_id"], BOOK, ZONE)
    fined = [(c.person_id, c.evidence["capacity"]) for c in fines]
    assert fined == owing                                  # ...but owe no fine
    # Day 3 is in days 1-7: handler ¥100, supervising leader ¥50 (Art. 36.1).
    assert [c.amount for c in fines] == [Decimal("100.00"), Decimal("50.00")][:len(owing)]

    day16 = overdue_event(project, department, major, 16)
    cases = overdue_cases(day16, day16["complaint_id"], BOOK, ZONE, at("2026-11-21 18:00"),
                          iter(f"case-{n}" for n in range(9)).__next__)
    assert [(c.person_id, c.role) for c in cases] == owing  # and no case either
    assert overdue_charges(day16, day16["complaint_id"], BOOK, ZONE) == []
