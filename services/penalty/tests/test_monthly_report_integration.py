"""The month's report through the penalty service on the real PostgreSQL,
RabbitMQ and S3 server, fed with sla's events exactly as sla publishes them:
the cut at the month's end, revisions for late lines, the report sla's
monthly_report.due asks for, the close waiting for sla's firing mark, and
the GM's confirmation of a person's month above the threshold."""
import base64
import hashlib
import time
from decimal import Decimal

import pytest
from nameko.exceptions import RemoteError

from services.penalty.tests.conftest import GM, HR, lines
from services.penalty.tests.helpers import CID, at, missed
from shared.clock import SimulationClock

pytestmark = pytest.mark.integration


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
