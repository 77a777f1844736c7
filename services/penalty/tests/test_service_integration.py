"""The penalty service on the real PostgreSQL, RabbitMQ and S3 server, fed
with sla's events exactly as sla publishes them (shared Outbox, producer
"sla", relayed from sla.outbox)."""
import base64
import hashlib
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from nameko.exceptions import RemoteError

from services.penalty import readmodel
from services.penalty.tests.conftest import GM, HR, NOW, SPEC, SPEC2, lines
from services.penalty.tests.helpers import at, missed, overdue
from shared.clock import SimulationClock

pytestmark = pytest.mark.integration
CID = "C-GZ-2026-000001"


def test_a_duplicated_deadline_missed_charges_once(running, subscriber_factory):
    out = subscriber_factory("penalty.events")
    data = missed("order_submit", at("2026-11-03 10:30"), 12 * 60, timer="t-dup")
    first = running.publish("sla", "deadline.missed", data, complaint_id=CID)
    running.republish("sla", first)                  # the same message twice
    second = running.publish("sla", "deadline.missed", data, complaint_id=CID)  # a new event id
    running.applied(first, second)
    charged = lines(running.database, timer_id="t-dup")
    assert [(r["person_id"], r["amount"], r["month"]) for r in charged] == [
        ("p01-spec-1", Decimal("300.00"), "2026-11")]
    assert charged[0]["person_name"] == "李思琪" and charged[0]["rule_version"] == "2026.1"
    assert charged[0]["evidence"]["late_seconds"] == 720
    got = out.wait_for(lambda got: any(e["type"] == "deduction.recorded" for e in got))
    out.drain(timeout=0.5)
    recorded = [e for e in out.received if e["type"] == "deduction.recorded"]
    assert len(recorded) == 1 and recorded[0]["data"]["amount"] == "300.00"
    assert got[0]["complaint_id"] == CID


def test_sign_split_overdue_visit_and_a_withdrawal(running):
    due = at("2026-11-03 10:00")
    deputy = dict(missed("order_sign", due, 420, person="centre-deputy-gm", timer="sign-1",
                         role="centre_deputy_gm"), done_at=at("2026-11-03 10:19"))
    gm = dict(missed("order_sign", due, 720, person="centre-gm", timer="sign-1",
                     role="centre_gm"), done_at=at("2026-11-03 10:19"))
    events = [running.publish("sla", "deadline.missed", deputy, complaint_id=CID),
              running.publish("sla", "deadline.missed", gm, complaint_id=CID)]
    completion = at("2026-11-05 18:00")
    for day in range(1, 11):
        events.append(running.publish("sla", "overdue.accrued", overdue(day, completion),
                                      complaint_id=CID))
    visit = missed("visit", at("2026-11-03 11:19"), 60, person="rcgz-mkt-head",
                   timer="visit-1", final=False, role="handler")
    events.append(running.publish("sla", "deadline.missed", visit, complaint_id=CID))
    running.applied(*events)
    sums = {}
    for row in lines(running.database, complaint_id=CID):
        sums[(row["person_id"], row["rule"])] = sums.get((row["person_id"], row["rule"]),
                                                         0) + row["amount"]
    assert sums == {("centre-deputy-gm", "order_sign"): Decimal("200.00"),
                    ("centre-gm", "order_sign"): Decimal("300.00"),
                    ("rcgz-mkt-head", "overdue"): Decimal("1300.00"),
                    ("rcgz-vp-mkt", "overdue"): Decimal("650.00"),
                    ("rcgz-mkt-head", "visit"): Decimal("2000.00")}   # 20% of ¥10,000
    # The visit was in fact recorded in time; its event arrived late: sla says met.
    met = running.publish("sla", "deadline.met", {
        "timer_id": "visit-1", "rule": "visit", "article": "22, 35",
        "person_id": "rcgz-mkt-head", "role": "handler", "due_at": visit["due_at"],
        "done_at": at("2026-11-03 11:10")}, complaint_id=CID)
    withdrawn = running.publish("sla", "overdue.withdrawn", {
        "complaint_id": CID, "timer_id": "od-10", "day": 10,
        "day_started_at": completion + timedelta(days=9), "reason": "closure_applied"},
        complaint_id=CID)
    running.applied(met, withdrawn)
    visit_lines = lines(running.database, timer_id="visit-1")
    assert [(r["amount"], r["bonus_percent"]) for r in visit_lines] == [
        (Decimal("2000.00"), Decimal("20.00")), (Decimal("-2000.00"), Decimal("-20.00"))]
    assert str(visit_lines[1]["reverses"]) == str(visit_lines[0]["id"])
    assert sum(r["amount"] for r in lines(running.database, timer_id="od-10")) == 0


def test_a_person_no_longer_in_the_directory_is_charged_and_flagged(running):
    event = running.publish("sla", "deadline.missed",
                            missed("plan", at("2026-11-03 11:00"), 60, person="left-2025",
                                   timer="plan-x", role="handler"), complaint_id=CID)
    running.applied(event)
    row, = lines(running.database, timer_id="plan-x")
    assert row["person_id"] == "left-2025" and row["amount"] == Decimal("300.00")
    assert row["flags"] == ["person_not_in_directory"]


def test_appeals_through_the_service(running, penalty):
    event = running.publish("sla", "deadline.missed",
                            missed("order_submit", at("2026-11-03 10:30"), 61, timer="t-ap"),
                            complaint_id=CID)
    running.applied(event)
    line_id = str(lines(running.database, timer_id="t-ap")[0]["id"])
    with pytest.raises(RemoteError) as caught:
        penalty.appeal_deduction(SPEC2, line_id, {"reason": "不是我的扣罚"})
    assert caught.value.exc_type == "Forbidden"
    appeal = penalty.appeal_deduction(SPEC, line_id, {"reason": "系统当时无法登录"})
    assert appeal["status"] == "pending"
    with pytest.raises(RemoteError) as caught:
        penalty.appeal_deduction(SPEC, line_id, {"reason": "再申诉一次"})
    assert caught.value.exc_type == "Conflict"
    with pytest.raises(RemoteError) as caught:
        penalty.decide_appeal(HR, appeal["id"], {"decision": "upheld"})
    assert caught.value.exc_type == "Forbidden"
    decided = penalty.decide_appeal(GM, appeal["id"], {"decision": "upheld", "reason": "属实"})
    assert decided["status"] == "upheld" and decided["reversal_id"]
    with pytest.raises(RemoteError) as caught:
        penalty.decide_appeal(GM, appeal["id"], {"decision": "rejected"})
    assert caught.value.exc_type == "Conflict"
    reversal = penalty.get_deduction(SPEC, decided["reversal_id"])
    assert reversal["amount"] == "-100.00" and reversal["reverses"] == line_id
    assert reversal["month"] == "2026-12"
    mine = penalty.list_deductions(SPEC, {})
    assert mine["total"] == 2
    assert penalty.list_deductions(SPEC2, {})["total"] == 0
    with pytest.raises(RemoteError) as caught:
        penalty.list_deductions(SPEC2, {"person_id": "p01-spec-1"})
    assert caught.value.exc_type == "Forbidden"
    assert penalty.list_deductions(HR, {"person_id": "p01-spec-1", "month": "2026-11"})[
        "total"] == 1


def test_the_monthly_report_cut_revisions_and_determinism(running, penalty, subscriber_factory):
    out = subscriber_factory("penalty.events")
    never_done = missed("order_submit", at("2026-11-30 23:50"), 0, timer="t-open", final=False)
    events = [running.publish("sla", "deadline.missed", never_done, complaint_id=CID),
              running.publish("sla", "deadline.missed",
                              missed("plan", at("2026-11-10 11:00"), 60, person="rcgz-mkt-head",
                                     timer="plan-1", role="handler"), complaint_id=CID)]
    running.applied(*events)
    with pytest.raises(RemoteError) as caught:
        penalty.issue_monthly_report(GM, "2026-12")
    assert caught.value.exc_type == "Conflict" and "尚未结束" in caught.value.value
    with pytest.raises(RemoteError) as caught:
        penalty.issue_monthly_report(HR, "2026-11")
    assert caught.value.exc_type == "Forbidden"

    first = penalty.issue_monthly_report(GM, "2026-11")
    assert first["revision"] == 1 and first["changed"] is True
    assert first["totals"]["amount"] == "500.00" and first["line_count"] == 2
    cut, = lines(running.database, timer_id="t-open")
    assert (cut["amount"], cut["month"], cut["evidence"]["segment"]) == (
        Decimal("200.00"), "2026-11", "cut:2026-11")

    again = penalty.issue_monthly_report(GM, "2026-11")
    assert again["revision"] == 1 and again["changed"] is False
    assert again["sha256s"] == first["sha256s"]
    csv_file = penalty.monthly_report(HR, "2026-11", {"format": "csv"})
    xlsx_file = penalty.monthly_report(HR, "2026-11", {"format": "xlsx"})
    assert hashlib.sha256(base64.b64decode(csv_file["content_b64"])).hexdigest() == \
        first["sha256s"]["csv"]
    assert xlsx_file["sha256"] == first["sha256s"]["xlsx"]

    # The specialist submits at 00:12 on 1 December: 22 min = 5 blocks, 2 charged at the cut.
    final = dict(never_done, final=True, late_seconds=22 * 60, done_at=at("2026-12-01 00:12"))
    # A November miss whose event arrives after the report: a late line.
    late = missed("progress", at("2026-11-29 18:00"), 1, person="rcgz-mkt-head",
                  timer="pr-late", role="handler")
    running.applied(running.publish("sla", "deadline.missed", final, complaint_id=CID),
                    running.publish("sla", "deadline.missed", late, complaint_id=CID))
    assert [(r["amount"], r["month"]) for r in lines(running.database, timer_id="t-open")] == [
        (Decimal("200.00"), "2026-11"), (Decimal("300.00"), "2026-12")]
    # The late November line issues revision 2 by itself, at once (no one asks).
    second = wait_for_revision(penalty, "2026-11", 2)
    assert second["trigger"] == "late_line"
    assert second["changes"]["lines_added"] == 1
    assert second["changes"]["changes"] == [{
        "person_id": "rcgz-mkt-head", "rule": "progress", "lines_before": 0, "lines_after": 1,
        "amount_before": "0.00", "amount_after": "200.00"}]
    [added] = second["changes"]["added_lines"]
    assert (added["person_id"], added["rule"], added["amount"]) == (
        "rcgz-mkt-head", "progress", "200.00")
    assert second["sha256s"] != first["sha256s"]
    same = penalty.issue_monthly_report(GM, "2026-11")
    assert (same["revision"], same["changed"]) == (2, False)
    assert [r["revision"] for r in penalty.list_report_revisions(HR, "2026-11")] == [1, 2]
    old = penalty.monthly_report(HR, "2026-11", {"revision": 1})
    assert old["sha256s"] == first["sha256s"]

    issued = out.wait_for(lambda got: sum(e["type"] == "monthly_report.issued" for e in got) == 2)
    notes = [e for e in issued if e["type"] == "notification.requested"]
    assert {r["person_id"] for r in notes[0]["data"]["recipients"]} == {"hr-1", "fin-1"}
    report_events = [e["data"] for e in issued if e["type"] == "monthly_report.issued"]
    assert [e["revision"] for e in report_events] == [1, 2]
    assert report_events[1]["trigger"] == "late_line"
    assert {r["person_id"] for r in notes[1]["data"]["recipients"]} == {"hr-1", "fin-1"}
    assert "第 2 版" in notes[1]["data"]["text"]
    assert report_events[0]["csv_media_id"] == first["csv_media_id"]


def reports_of(database):
    with database.connection() as conn:
        return [tuple(r.values()) for r in conn.execute(
            "SELECT month, revision, trigger, line_count FROM penalty.monthly_reports "
            "ORDER BY month, revision").fetchall()]


def wait_for_revision(penalty, month, revision, timeout=15):
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        try:
            shown = penalty.monthly_report(HR, month)
        except RemoteError:
            shown = None
        if shown and shown["revision"] >= revision:
            return shown
        time.sleep(0.1)
    raise AssertionError(f"{month} revision {revision} not issued in {timeout}s")


def test_monthly_report_due_from_sla_issues_the_report_once(running, penalty):
    event = running.publish("sla", "deadline.missed",
                            missed("plan", at("2026-11-10 11:00"), 60, person="rcgz-mkt-head",
                                   timer="plan-2", role="handler"), complaint_id=CID)
    due = {"month": "2026-11", "due_at": at("2026-12-01 00:00")}
    trigger = running.publish("sla", "monthly_report.due", due)
    running.republish("sla", trigger)
    running.applied(event, trigger)
    wait_for_revision(penalty, "2026-11", 1)
    time.sleep(0.5)
    assert reports_of(running.database) == [("2026-11", 1, "monthly_report.due", 1)]


def test_the_close_waits_for_sla_to_fire_through_the_months_end(running, penalty):
    """A restart after an outage: sla announces December's report while it
    is still firing December's timers; penalty waits for the mark."""
    SimulationClock(running.database, cache_seconds=0).set(at("2027-01-01 00:05"))
    early = running.publish("sla", "deadline.missed",
                            missed("plan", at("2026-12-10 11:00"), 60, person="rcgz-mkt-head",
                                   timer="plan-d1", role="handler"), complaint_id=CID)
    running.applied(early, running.publish("sla", "monthly_report.due", {
        "month": "2026-12", "due_at": at("2027-01-01 00:00")}))
    running.fired_through(at("2026-12-20 09:45"))           # still catching up
    with pytest.raises(RemoteError) as caught:
        penalty.issue_monthly_report(GM, "2026-12")
    assert caught.value.exc_type == "Conflict" and "sla" in caught.value.value
    # The rest of December fires: a plan fine of 28 December, then the mark passes the end.
    running.applied(running.publish("sla", "deadline.missed", missed(
        "plan", at("2026-12-28 15:00"), 60, person="rcgz-mkt-head", timer="plan-d2",
        role="handler"), complaint_id=CID))
    time.sleep(2.5)                 # the close timer ran at least once: still waiting
    assert [r for r in reports_of(running.database) if r[0] == "2026-12"] == []
    running.fired_through(at("2027-01-01 00:00"))
    report = wait_for_revision(penalty, "2026-12", 1)
    # Two plan fines of ¥300 (Art. 22, 35), both in the one revision.
    assert (report["trigger"], report["line_count"], report["totals"]["amount"]) == (
        "monthly_report.due", 2, "600.00")
    assert report["review"] == {"threshold": "5000.00", "people": [], "final": True}


def test_a_month_above_the_threshold_needs_the_gm(running, penalty, subscriber_factory):
    """¥200 per missed progress day (Art. 26, 35): 26 days are ¥5,200, above
    ¥5,000 (needs the GM); 25 days are ¥5,000, not above it."""
    out = subscriber_factory("penalty.events")
    events = []
    for day in range(1, 27):
        events.append(running.publish("sla", "deadline.missed", missed(
            "progress", at(f"2026-11-{day:02d} 18:00"), 1, person="rcgz-mkt-head",
            timer=f"pr-a-{day}", role="handler"), complaint_id=CID))
    for day in range(1, 26):
        events.append(running.publish("sla", "deadline.missed", missed(
            "progress", at(f"2026-11-{day:02d} 18:00"), 1, person="rcgx-mkt-head",
            timer=f"pr-b-{day}", role="handler"), complaint_id=CID))
    running.applied(*events)
    report = penalty.issue_monthly_report(GM, "2026-11")
    review = report["review"]
    assert review["threshold"] == "5000.00" and review["final"] is False
    assert [(p["person_id"], p["amount"], p["status"], p["status_zh"])
            for p in review["people"]] == [
        ("rcgz-mkt-head", "5200.00", "pending", "需总经理确认")]
    as_csv = base64.b64decode(penalty.monthly_report(HR, "2026-11", {"format": "csv"})[
        "content_b64"]).decode("utf-8-sig")
    subtotals = {row.split(",")[1]: row for row in as_csv.splitlines() if "subtotal" in row}
    assert "需总经理确认" in subtotals["rcgz-mkt-head"]
    assert "需总经理确认" not in subtotals["rcgx-mkt-head"]

    for who, person in ((HR, "rcgz-mkt-head"), (GM, "rcgx-mkt-head")):
        with pytest.raises(RemoteError) as caught:
            penalty.confirm_person_month(who, "2026-11", person, {})
        assert caught.value.exc_type == ("Forbidden" if who is HR else "Conflict")
    confirmed = penalty.confirm_person_month(GM, "2026-11", "rcgz-mkt-head",
                                             {"note": "逐条核对无误"})
    [person] = confirmed["review"]["people"]
    assert (person["status"], person["decided_by"], confirmed["review"]["final"]) == (
        "confirmed", "centre-gm", True)
    with pytest.raises(RemoteError) as caught:
        penalty.confirm_person_month(GM, "2026-11", "rcgz-mkt-head", {})
    assert caught.value.exc_type == "Conflict"

    # A late November line raises the amount: revision 2, and the GM is needed again.
    running.applied(running.publish("sla", "deadline.missed", missed(
        "progress", at("2026-11-27 18:00"), 1, person="rcgz-mkt-head", timer="pr-a-27",
        role="handler"), complaint_id=CID))
    second = wait_for_revision(penalty, "2026-11", 2)
    [person] = second["review"]["people"]
    assert (person["amount"], person["status"], person["confirmed_amount"]) == (
        "5400.00", "pending", "5200.00")
    referred = penalty.refer_person_month(GM, "2026-11", "rcgz-mkt-head",
                                          {"note": "系统漏洞导致，移交复核"})
    [person] = referred["review"]["people"]
    assert (person["status"], person["case_status"], referred["review"]["final"]) == (
        "referred", "open", False)
    [case] = penalty.list_sanction_cases(HR, {"kind": "monthly_review"})
    assert case["id"] == person["case_id"] and case["evidence"]["amount"] == "5400.00"
    with pytest.raises(RemoteError) as caught:
        penalty.refer_person_month(GM, "2026-11", "rcgz-mkt-head", {})
    assert caught.value.exc_type == "Conflict"
    penalty.decide_sanction_case(HR, case["id"], {"measure": "pay_cut", "note": "降薪一级"})
    assert penalty.monthly_report(HR, "2026-11")["review"]["final"] is True
    # The ledger is untouched: every line is still there.
    assert len(lines(running.database, person_id="rcgz-mkt-head")) == 27

    got = out.wait_for(lambda got: sum(e["type"] == "monthly_report.reviewed"
                                       for e in got) == 2)
    reviewed = [e["data"] for e in got if e["type"] == "monthly_report.reviewed"]
    assert [(r["decision"], r["amount"], r["revision"]) for r in reviewed] == [
        ("confirmed", "5200.00", 1), ("referred", "5400.00", 2)]
    issued = [e["data"] for e in got if e["type"] == "monthly_report.issued"]
    assert issued[0]["needs_gm_confirmation"] == ["rcgz-mkt-head"]
    to_gm = [e["data"] for e in got if e["type"] == "notification.requested"
             and e["data"]["template"] == "monthly_report_needs_gm"]
    assert [r["person_id"] for r in to_gm[0]["recipients"]] == ["centre-gm"]


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
