"""Rankings, sanction cases and the quarter's analysis through the penalty
service on the real PostgreSQL, RabbitMQ and S3 server: a closed month's
rankings frozen and published, day sixteen's cases and the bonus they deduct,
three months in the bottom ten (Art. 16), and the quarterly analysis issued
once."""

import pytest
from nameko.exceptions import RemoteError

from services.penalty import readmodel
from services.penalty.tests.conftest import GM, HR, NOW
from services.penalty.tests.helpers import CID, at, overdue

pytestmark = pytest.mark.integration


def test_a_closed_months_rankings_are_frozen_and_published(running, penalty,
                                                            subscriber_factory):
    out = subscriber_factory("penalty.events")
    with running.database.transaction() as conn:
        readmodel.rating(conn, "C-R-1", "p01-spec-1", 5, at("2026-11-05 10:00"))
    live = penalty.rankings(GM, "2026-11")
    assert (live["frozen"], live["published_at"]) == (False, None)
    penalty.issue_monthly_report(GM, "2026-11")
    frozen = penalty.rankings(GM, "2026-11")
    assert frozen["frozen"] is True and frozen["complete"] is True
    assert [e["person_id"] for e in frozen["specialists"]["entries"]] == ["p01-spec-1"]
    # A rating of November that arrives after the close changes nothing (Art. 38).
    with running.database.transaction() as conn:
        readmodel.rating(conn, "C-R-2", "p01-spec-2", 4, at("2026-11-06 10:00"))
    penalty.issue_monthly_report(GM, "2026-11")
    assert penalty.rankings(GM, "2026-11") == frozen
    got = out.wait_for(lambda got: any(e["type"] == "rankings.published" for e in got))
    out.drain(timeout=0.5)
    published = [e for e in out.received if e["type"] == "rankings.published"]
    assert len(published) == 1 and published[0]["data"]["month"] == "2026-11"
    assert published[0]["data"]["specialists"] == frozen["specialists"]
    assert got


def test_day_sixteen_opens_cases_and_a_decision_deducts_the_bonus(running, penalty):
    sanction = overdue(16, at("2026-11-01 18:00"))
    running.applied(running.publish("sla", "overdue.sanction_due", sanction, complaint_id=CID),
                    running.publish("sla", "overdue.sanction_due", sanction, complaint_id=CID))
    cases = penalty.list_sanction_cases(HR, {"status": "open"})
    assert [(c["person_id"], c["role"], c["kind"]) for c in cases] == [
        ("rcgz-mkt-head", "handler", "overdue"), ("rcgz-vp-mkt", "leader", "overdue")]
    with pytest.raises(RemoteError) as caught:
        penalty.decide_sanction_case(HR, cases[0]["id"], {"measure": "bonus",
                                                          "bonus_percent": "30"})
    assert caught.value.exc_type == "InvalidInput"
    decided = penalty.decide_sanction_case(HR, cases[0]["id"], {"measure": "bonus",
                                                                "bonus_percent": "50"})
    assert decided["status"] == "decided" and decided["decided_by"] == "hr-1"
    line = penalty.get_deduction(HR, decided["deduction_id"])
    assert (line["amount"], line["rule"], line["article"]) == ("5000.00", "sanction_overdue", "36")
    with pytest.raises(RemoteError) as caught:
        penalty.decide_sanction_case(GM, cases[0]["id"], {"measure": "pay_cut"})
    assert caught.value.exc_type == "Conflict"
    opened = penalty.open_sanction_case(GM, {"kind": "concealed", "person_id": "p01-spec-1",
                                             "note": "视频显示漏录一单"})
    assert opened["article"] == "17" and set(opened["allowed"]) == {"pay_grade_cut", "dismissal"}
    assert NOW.isoformat()[:7] == opened["month"]


def test_three_months_in_the_bottom_ten_open_an_art_16_case(running, penalty):
    """25 specialists rated each month, exactly ten badly: s-00 and s-01
    every month, s-02 in September and November only, and seven or eight
    others who change each month."""
    lows = {"09": ["s-00", "s-01", "s-02"] + [f"s-{n:02d}" for n in range(3, 10)],
            "10": ["s-00", "s-01"] + [f"s-{n:02d}" for n in range(10, 18)],
            "11": ["s-00", "s-01", "s-02"] + [f"s-{n:02d}" for n in range(18, 25)]}
    with running.database.transaction() as conn:
        for month, low in lows.items():
            for n in range(25):
                person = f"s-{n:02d}"
                readmodel.rating(conn, f"C-{month}-{n}", person, 1 if person in low else 5,
                                 at(f"2026-{month}-10 10:00"))
    for month in ("2026-09", "2026-10"):
        penalty.issue_monthly_report(GM, month)
    assert penalty.list_sanction_cases(HR, {"kind": "bottom_ten"}) == []
    penalty.issue_monthly_report(GM, "2026-11")
    cases = penalty.list_sanction_cases(HR, {"kind": "bottom_ten"})
    assert sorted(c["person_id"] for c in cases) == ["s-00", "s-01"]
    assert cases[0]["article"] == "16"
    assert cases[0]["evidence"]["months"] == ["2026-09", "2026-10", "2026-11"]
    penalty.issue_monthly_report(GM, "2026-11")
    assert len(penalty.list_sanction_cases(HR, {"kind": "bottom_ten"})) == 2
    ranked = penalty.rankings(GM, "2026-11")["specialists"]
    assert ranked["ranked"] == 25 and sorted(ranked["bottom_ten"]) == sorted(lows["11"])
    bottom = {e["person_id"]: e["bottom_ten_months"] for e in ranked["entries"]}
    assert bottom["s-00"] == ["2026-09", "2026-10", "2026-11"]


def test_the_quarterly_analysis_is_issued_once_and_announced(running, penalty,
                                                             subscriber_factory):
    out = subscriber_factory("penalty.events")
    with running.database.transaction() as conn:
        for n, room in enumerate(("1-101", "1-101", "2-202")):
            readmodel.apply_intake_facts(conn, {
                "complaint_id": f"C-Q3-{n}", "project_id": "GZ-P01", "region_company_id": "rc-gz",
                "property_company_id": "pc-gz", "category": "sales_contract", "channel": "visit",
                "room": room, "order_round": 1, "specialist_id": "p01-spec-1",
                "recorded_at": at(f"2026-08-0{n + 1} 10:00"), "first_submitted_at": None,
                "signed_at": None, "department": "marketing", "escalation_level": None,
                "reopen_count": 0, "holders": [], "resolved_on_spot": False},
                at(f"2026-08-0{n + 1} 10:00"))
            readmodel.apply_routing(conn, {"complaint_id": f"C-Q3-{n}", "department": "marketing",
                                           "handler": {"person_id": "rcgz-mkt-head"}},
                                    at(f"2026-08-0{n + 1} 11:00"))
    with pytest.raises(RemoteError) as caught:
        penalty.issue_analysis(GM, "2026-Q4")
    assert caught.value.exc_type == "Conflict"
    issued = penalty.issue_analysis(GM, "2026-Q3")
    assert issued["complaint_count"] == 3 and issued["revision"] == 1
    assert issued["repeat_rooms"][0]["room"] == "1-101"
    assert issued["departments"][0]["head_person_ids"] == ["rcgz-mkt-head"]
    assert penalty.issue_analysis(GM, "2026-Q3")["changed"] is False
    assert penalty.get_analysis(GM, "2026-Q3")["revision"] == 1
    got = out.wait_for(lambda got: any(e["type"] == "analysis.issued" for e in got))
    out.drain(timeout=0.3)
    assert sum(e["type"] == "analysis.issued" for e in out.received) == 1
    assert got[0]["data"]["quarter"] == "2026-Q3"
