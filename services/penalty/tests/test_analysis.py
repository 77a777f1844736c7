"""Art. 42, pure: the quarterly analysis names only the departments with a
systemic problem (the two settings), says why, and where their measures stand."""
from datetime import timedelta

import pytest

from services.penalty import analysis, months
from services.penalty.tests.helpers import ZONE, at

START, END = months.quarter_bounds("2026-Q3", ZONE)
DIRECTORY = analysis.Directory(
    heads={"rc-gz.engineering": [("rcgz-eng-head", "邓海峰")], "pc-gz": [("pcgz-head", "黄志强")],
           "rc-gz.marketing": [("rcgz-mkt-head", "冯晓东")]},
    unit_names={"rc-gz": "广州公司", "rc-gz.engineering": "广州公司工程部", "pc-gz": "广州物业"},
    project_names={"GZ-P01": "天悦府", "GZ-P02": "云湖郡"})


def c(cid, department="engineering", category="maintenance_repair", room=None, project="GZ-P01",
      recorded="2026-08-03 10:00"):
    return {"id": cid, "project_id": project, "department": department, "category": category,
            "room": room or f"room-{cid}", "region_company_id": "rc-gz",
            "property_company_id": "pc-gz", "recorded_at": at(recorded)}


def run(complaints, reopens=(), rules=None):
    return analysis.systemic_analysis("2026-Q3", complaints, reopens, START, END, rules,
                                      DIRECTORY)


def test_a_department_is_named_only_from_n_complaints_of_one_category():
    two = run([c("C1"), c("C2"), c("C3", category="design_defect")])
    assert two["departments"] == [] and two["complaint_count"] == 3
    three = run([c("C1"), c("C2"), c("C3"), c("C4", department="marketing",
                                               category="sales_contract")])
    eng, = three["departments"]
    assert (eng["unit_id"], eng["unit_name"], eng["head_person_ids"]) == (
        "rc-gz.engineering", "广州公司工程部", ["rcgz-eng-head"])
    assert eng["reasons"] == [{"kind": "category", "category": "maintenance_repair",
                               "category_name": "维保修类", "project_id": None,
                               "project_name": None, "room": None, "count": 3,
                               "complaint_ids": ["C1", "C2", "C3"]}]
    assert eng["why"] == "“维保修类”投诉 3 宗（标准：同类 3 宗及以上）"
    assert three["criteria"] == {"category_min": 3, "repeat_room_above": 1}
    # The setting moves the line.
    assert run([c("C1"), c("C2")], rules=analysis.Criteria(2, 1))["departments"][0]["unit_id"] \
        == "rc-gz.engineering"


def test_a_room_complained_about_more_than_m_times_names_its_department():
    # One complaint of a property room in the quarter, raised again after closing.
    first = c("C1", department="property", category="property_service", room="3-301",
              project="GZ-P02")
    earlier = c("C0", department="property", category="property_service", room="5-501",
                project="GZ-P02", recorded="2026-05-02 10:00")
    reopens = [{"complaint_id": "C1", "order_round": 2, "reopened_at": at("2026-09-01 09:00")},
               {"complaint_id": "C0", "order_round": 2, "reopened_at": at("2026-07-01 09:00")}]
    out = run([first, earlier], reopens)
    prop, = out["departments"]
    assert (prop["unit_id"], prop["unit_name"], prop["heads"]) == (
        "pc-gz", "广州物业", [{"person_id": "pcgz-head", "name": "黄志强"}])
    assert [(r["kind"], r["project_name"], r["room"], r["count"]) for r in prop["reasons"]] == [
        ("repeat_room", "云湖郡", "3-301", 2)]
    assert "云湖郡 3-301 重复投诉 2 次（标准：超过 1 次）" in prop["why"]
    # Above M = 2: two complaints about the room are not enough.
    assert run([first, earlier], reopens, analysis.Criteria(3, 2))["departments"] == []


def test_complaints_outside_the_quarter_and_unrouted_ones_name_nobody():
    out = run([c("C1", recorded="2026-06-30 23:59"), c("C2", recorded="2026-10-01 00:00"),
               c("C3", department=None), c("C4"), c("C5")])
    assert out["complaint_count"] == 3 and out["departments"] == []


def test_the_settings_are_whole_numbers_of_at_least_one():
    assert analysis.criteria(None) == analysis.Criteria(3, 1)
    assert analysis.criteria({"PENALTY_ANALYSIS_CATEGORY_MIN": "5",
                              "PENALTY_ANALYSIS_REPEAT_ROOM_ABOVE": 2}) == analysis.Criteria(5, 2)
    for wrong in ("0", "x", "2.5"):
        with pytest.raises(ValueError):
            analysis.criteria({"PENALTY_ANALYSIS_CATEGORY_MIN": wrong})


def test_a_revision_keeps_when_each_department_was_first_named_and_its_due_time():
    issued = at("2026-10-01 00:05")
    first = analysis.carry_named_at(run([c("C1"), c("C2"), c("C3")]), None, issued)
    eng, = first["departments"]
    assert eng["named_at"] == issued.isoformat()
    assert eng["measures_due_at"] == (issued + timedelta(days=15)).isoformat()
    later = at("2026-10-05 09:00")
    second = analysis.carry_named_at(
        run([c("C1"), c("C2"), c("C3"), c("M1", "marketing", "sales_contract"),
             c("M2", "marketing", "sales_contract"), c("M3", "marketing", "sales_contract")]),
        first, later)
    assert {d["unit_id"]: d["named_at"] for d in second["departments"]} == {
        "rc-gz.engineering": issued.isoformat(), "rc-gz.marketing": later.isoformat()}
    assert [d["unit_id"] for d in analysis.newly_named(second, first)] == ["rc-gz.marketing"]


def test_the_heads_message_names_the_quarter_the_department_and_why():
    issued = at("2026-10-01 00:05")
    data = analysis.carry_named_at(run([c("C1"), c("C2"), c("C3")]), None, issued)
    message = analysis.head_notification("2026-Q3", data["departments"][0])
    assert message["text"] == (
        "2026年第3季度客户投诉系统性问题分析：广州公司工程部被列为存在系统性问题的部门"
        "（“维保修类”投诉 3 宗（标准：同类 3 宗及以上））。请于 2026-10-16 00:05 前"
        "在客诉系统“排名与报表”页报备优化措施（第四十二条）。")
    assert message["recipients"] == [{"person_id": "rcgz-eng-head", "name": "邓海峰"}]
    assert message["template"] == "systemic_measures_requested"


def test_measures_are_pending_then_overdue_and_filed_late_is_said():
    issued = at("2026-10-01 00:05")
    department = analysis.carry_named_at(run([c("C1"), c("C2"), c("C3")]), None,
                                         issued)["departments"][0]
    due = issued + timedelta(days=15)
    assert analysis.measures_status(department, None, due)["status"] == "pending"
    late = analysis.measures_status(department, None, due + timedelta(seconds=1))
    assert (late["status"], late["status_zh"]) == ("overdue", "已逾期未报备")
    filed = analysis.measures_status(department, {"filed_at": due + timedelta(hours=1)}, due)
    assert (filed["status"], filed["late"]) == ("filed", True)


def test_who_may_file_and_what_may_be_attached():
    department = {"head_person_ids": ["rcgz-eng-head"]}
    assert analysis.may_file("rcgz-eng-head", department, [])
    assert analysis.may_file("new-head", department, ["new-head"])     # the head replaced since
    assert not analysis.may_file("rcgz-mkt-head", department, ["rcgz-eng-head"])
    errors = analysis.attachment_errors({
        "m1": {"kind": "material", "uploaded_by": "h"}, "m2": None,
        "m3": {"kind": "signature", "uploaded_by": "h"},
        "m4": {"kind": "photo", "uploaded_by": "x"}}, "h")
    assert [e.split(" ")[0] for e in errors] == ["文件不存在", "m3", "m4"]
