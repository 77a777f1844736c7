"""SPEC §3's routing table as data (Art. 20): every row, on the demo
organisation; and a bad table is refused with every problem named."""
import pytest

from services.dispatch.routing import read_routing_table
from services.dispatch.tests.casework import TABLE, routed_case
from shared.errors import InvalidInput

# SPEC §3, row by row: category -> (first responsible department, cooperating departments)
SPEC_TABLE = {
    "sales_contract": ("marketing", ("finance", "treasury")),
    "sales_licence": ("marketing", ("development", "engineering")),
    "property_certificate": ("marketing", ("development", "engineering")),
    "delivery_certificate": ("marketing", ("development", "engineering")),
    "delivery_delay_progress": ("marketing", ("development", "engineering")),
    "delivery_delay_quality": ("engineering", ("marketing", "property")),
    "planning_change": ("marketing", ("chief_engineer_office", "engineering", "development",
                                      "property")),
    "design_defect": ("marketing", ("chief_engineer_office", "engineering", "development",
                                    "property")),
    "living_amenities": ("marketing", ("chief_engineer_office", "engineering", "development",
                                       "property")),
    "infrastructure": ("marketing", ("chief_engineer_office", "engineering", "development",
                                     "property")),
    "leasing": ("commercial_operations", ("chief_engineer_office", "engineering", "development",
                                          "property")),
    "property_service": ("property", ("engineering",)),
    "maintenance_repair": ("property", ("engineering",)),
}

# The demo organisation's heads: GZ-P01 belongs to rc-gz and pc-gz.
HEADS_P01 = {"marketing": "rcgz-mkt-head", "engineering": "rcgz-eng-head",
             "commercial_operations": "rcgz-com-head", "property": "pcgz-head"}
UNITS_P01 = {"finance": "rc-gz.finance", "treasury": "rc-gz.treasury",
             "development": "rc-gz.development", "engineering": "rc-gz.engineering",
             "chief_engineer_office": "rc-gz.chief_engineer_office", "marketing": "rc-gz.marketing",
             "property": "pc-gz"}


def test_the_file_holds_exactly_the_spec_table():
    assert {code: (r.first, r.cooperating) for code, r in TABLE.routes.items()} == SPEC_TABLE
    assert TABLE.label == "2026-11" and len(TABLE.sha256) == 64


def test_the_table_covers_every_category_intake_records():
    from shared.categories import CATEGORIES
    assert set(TABLE.categories) == set(CATEGORIES)


@pytest.mark.parametrize("category", sorted(SPEC_TABLE))
def test_every_row_routes_to_its_department_with_its_cooperating_departments(
        demo_directory, category):
    first, cooperating = SPEC_TABLE[category]
    case = routed_case(demo_directory, category=category)
    routing = case.routing
    assert (routing.department, routing.handler.person_id) == (first, HEADS_P01[first])
    assert routing.category == category and routing.department_overridden is False
    assert [c.department for c in routing.cooperating] == list(cooperating)
    assert [c.unit_id for c in routing.cooperating] == [UNITS_P01[d] for d in cooperating]
    company = "pc-gz" if first == "property" else "rc-gz"
    assert routing.company_id == company and routing.chairman.person_id == (
        "pcgz-chairman" if first == "property" else "rcgz-chairman")


def write(tmp_path, text):
    path = tmp_path / "routing.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_bad_table_is_refused_naming_every_problem(tmp_path):
    path = write(tmp_path, """
categories:
  sales_contract: {name: 营销签约类, first: marketing, cooperating: [finance, marketing]}
  leasing: {name: 租赁, first: leasing_dept}
  Bad-Code: {name: x, first: marketing}
  nameless: {first: property, cooperating: [engineering, engineering]}
""")
    with pytest.raises(InvalidInput) as caught:
        read_routing_table(path)
    fields = caught.value.fields
    assert "第一责任部门不能同时是配合部门" in \
        fields["categories.sales_contract.value.cooperating"][0]
    assert "(one of marketing, " in fields["categories.leasing.value.first"][0]
    assert "lower-case code" in fields["categories.Bad-Code.key"][0]
    assert fields["categories.nameless.value.name"] == ["必填 (required)"]


@pytest.mark.parametrize("text, fragment", [
    ("categories: {}", "at least one category"),
    ("- a list", "must hold a YAML mapping"),
    ("categories: {a: {name: x, first: marketing}}\ncategories: {}", "duplicate key"),
    ("categories: [", "YAML syntax error"),
])
def test_malformed_files_are_refused(tmp_path, text, fragment):
    with pytest.raises(InvalidInput) as caught:
        read_routing_table(write(tmp_path, text))
    assert fragment in str(caught.value.fields)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(InvalidInput) as caught:
        read_routing_table(tmp_path / "nowhere.yaml")
    assert "cannot read" in str(caught.value.fields)
