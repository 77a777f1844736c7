"""Rankings and assessments (SPEC §5, Art. 16, 38, 39, 42) from read-model rows."""
from datetime import timedelta

from services.penalty import analysis, months, rankings
from services.penalty.tests.helpers import ZONE, at

START, END = months.month_bounds("2026-11", ZONE)
UNITS = {"rc-gz": {"kind": "region_company", "name": "广州地区公司"},
         "pc-gz": {"kind": "property_company", "name": "广州物业公司"},
         "rc-gx": {"kind": "region_company", "name": "广西地区公司"}}
PROJECTS = {"GZ-P01": {"name": "一期"}, "GZ-P02": {"name": "二期"}, "GZ-P03": {"name": "南宁"}}


def complaint(cid, project, department="marketing", region="rc-gz", prop="pc-gz",
              recorded="2026-11-02 09:00", signed="2026-11-02 10:00", due="2026-11-10 18:00",
              on_spot=False, room="1-101", category="sales_contract", handler="h-1"):
    return {"id": cid, "project_id": project, "department": department,
            "region_company_id": region, "property_company_id": prop, "room": room,
            "category": category, "recorded_at": at(recorded),
            "signed_at": at(signed) if signed else None,
            "completion_due_at": at(due) if due else None, "resolved_on_spot": on_spot,
            "handler_person_id": handler}


def applied(cid, when, rejected=None, verified=None, satisfaction=None):
    return {"application_id": f"{cid}-A", "complaint_id": cid, "applied_at": at(when),
            "rejected_at": at(rejected) if rejected else None,
            "verified_at": at(verified) if verified else None, "satisfaction": satisfaction}


def test_companies_and_their_projects_by_on_time_efficiency_and_satisfaction():
    complaints = [
        complaint("C1", "GZ-P01"), complaint("C2", "GZ-P01"), complaint("C3", "GZ-P02"),
        complaint("C4", "GZ-P03", region="rc-gx"),
        complaint("C5", "GZ-P01", department="property"),
    ]
    applications = {
        "C1": [applied("C1", "2026-11-04 10:00", verified="2026-11-04 11:00", satisfaction=5)],
        "C2": [applied("C2", "2026-11-12 10:00", verified="2026-11-12 12:00", satisfaction=3)],
        "C3": [dict(applied("C3", "2026-11-03 10:00"), application_id="C3-A0",
                    rejected_at=at("2026-11-03 12:00")),
               applied("C3", "2026-11-06 10:00", verified="2026-11-06 11:00", satisfaction=4)],
        "C4": [],
        "C5": [applied("C5", "2026-11-03 10:00", verified="2026-11-03 11:00", satisfaction=5)],
    }
    reopens = [{"complaint_id": "C2", "order_round": 2, "reopened_at": at("2026-11-20 09:00")}]
    out = rankings.company_rankings(complaints, applications, reopens, UNITS, PROJECTS, START, END)
    regions = {e["id"]: e for e in out["region_company"]}
    gz = regions["rc-gz"]
    assert (gz["due"], gz["on_time"], gz["on_time_rate"]) == (3, 2, "0.6667")
    # C1: 48 h, C2: 240 h, C3 (the standing application): 96 h -> median 96
    assert gz["efficiency_median_hours"] == "96.00"
    assert gz["satisfaction_mean"] == "4.00" and gz["reopened"] == 1
    assert regions["rc-gx"]["on_time_rate"] == "0.0000"
    assert [e["id"] for e in out["region_company"]] == ["rc-gz", "rc-gx"]
    assert [p["id"] for p in gz["projects"]] == ["GZ-P02", "GZ-P01"]
    assert out["property_company"][0]["id"] == "pc-gz" and out["property_company"][0]["due"] == 1


def test_specialists_by_reception_rating_with_the_bottom_ten_only_in_a_large_field():
    ratings = [{"complaint_id": f"C{i}", "specialist_id": f"s-{i:02d}", "score": 1 + i % 5,
                "rated_at": at("2026-11-05 10:00")} for i in range(12)]
    ratings.append({"complaint_id": "old", "specialist_id": "s-00", "score": 5,
                    "rated_at": at("2026-10-31 10:00")})
    ranked = rankings.specialist_ranking(ratings, {"s-04": {"name": "甲"}}, START, END)
    assert ranked["ranked"] == 12
    assert ranked["entries"][0]["person_id"] == "s-04" and ranked["entries"][0]["mean"] == "5.00"
    assert ranked["entries"][0]["name"] == "甲"
    assert len(ranked["bottom_ten"]) == 10 and "s-04" not in ranked["bottom_ten"]
    small = rankings.specialist_ranking(ratings[:5], {}, START, END)
    assert small["bottom_ten"] == []


def test_desk_assessment_on_the_spot_completion_and_deadlines_met():
    complaints = [complaint("C1", "GZ-P01", on_spot=True, signed=None, due=None),
                  complaint("C2", "GZ-P01"), complaint("C3", "GZ-P01", due="2026-11-25 18:00")]
    applications = {"C2": [applied("C2", "2026-11-09 10:00")]}
    outcomes = [
        {"timer_id": "t1", "rule": "order_submit", "complaint_id": "C2",
         "due_at": at("2026-11-02 09:30"), "outcome": "met"},
        {"timer_id": "t2", "rule": "order_submit", "complaint_id": "C3",
         "due_at": at("2026-11-02 09:30"), "outcome": "missed"},
        {"timer_id": "t3", "rule": "closure_verify", "complaint_id": "C2",
         "due_at": at("2026-11-09 10:30"), "outcome": "met"},
        {"timer_id": "t4", "rule": "visit", "complaint_id": "C2",
         "due_at": at("2026-11-02 11:00"), "outcome": "missed"},
    ]
    desk, = rankings.desk_assessment(complaints, applications, outcomes, PROJECTS, START, END)
    assert (desk["received"], desk["resolved_on_spot"], desk["on_spot_rate"]) == (3, 1, "0.3333")
    assert (desk["due"], desk["completed"], desk["completion_rate"]) == (2, 1, "0.5000")
    assert (desk["deadlines"], desk["deadlines_met"]) == (3, 2)


def test_quarterly_analysis_by_category_and_project_and_repeat_rooms():
    start, end = months.quarter_bounds("2026-Q4", ZONE)
    complaints = [complaint("C1", "GZ-P01", room="1-101"),
                  complaint("C2", "GZ-P01", room="1-101", recorded="2026-12-02 09:00"),
                  complaint("C3", "GZ-P02", room="2-202", category="property_service",
                            department="property", handler="pc-head"),
                  complaint("C4", "GZ-P02", room="2-203", recorded="2026-09-30 09:00")]
    reopens = [{"complaint_id": "C3", "order_round": 2, "reopened_at": at("2026-12-20 10:00")},
               {"complaint_id": "C4", "order_round": 2, "reopened_at": at("2026-10-20 10:00")}]
    out = analysis.systemic_analysis("2026-Q4", complaints, reopens, start, end)
    assert out["complaint_count"] == 3
    assert out["by_category_project"] == [
        {"category": "sales_contract", "project_id": "GZ-P01", "count": 2},
        {"category": "property_service", "project_id": "GZ-P02", "count": 1}]
    assert [(r["project_id"], r["room"], r["count"]) for r in out["repeat_rooms"]] == [
        ("GZ-P01", "1-101", 2), ("GZ-P02", "2-202", 2)]
    # Both named by their repeated room (default: more than once), heads from the directory.
    assert [(d["unit_id"], d["head_person_ids"], [r["kind"] for r in d["reasons"]])
            for d in out["departments"]] == [("pc-gz", [], ["repeat_room"]),
                                             ("rc-gz.marketing", [], ["repeat_room"])]


def test_months_and_quarters_in_the_group_zone():
    assert months.month_of(at("2026-12-01 07:00"), ZONE) == "2026-12"
    assert months.previous_month("2026-01") == "2025-12"
    assert months.next_month("2026-12") == "2027-01"
    assert months.quarter_of_month("2026-12") == "2026-Q4"
    assert months.quarter_of_month("2026-11") is None
    start, end = months.month_bounds("2026-11", ZONE)
    assert end - start == timedelta(days=30) and start == at("2026-11-01 00:00")
