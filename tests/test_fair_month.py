"""Issue 13's month: ten complaints of different kinds driven through
November 2026 by the people who act on them, through the gateway's HTTP API,
with all six services on the real broker, database and S3 server. The
simulation clock is moved as a running clock would move: it stops at every
deadline, warning, hourly notice and daily slot on the way (read from sla's
timers), so each fires at its own time, never skipped by a jump.

At the end every notice about a complaint, the daily lists that matter, every
ledger line and the November report (issued after sla's fired-through mark
passed the month's end) are checked against the table written by hand from
the regulation in tests/fair_month_table.py."""
import re
from collections import Counter
from datetime import datetime
from decimal import Decimal

import pytest
from nameko.constants import WEB_SERVER_CONFIG_KEY

from scripts.reconcile import NOT_REPORTED, REPORTED_TWICE
from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.service import GatewayService
from services.gateway.tokens import issue_tokens
from services.intake.remote import clear_caches
from services.intake.service import IntakeService
from services.media.service import MediaService
from services.penalty.service import PenaltyService
from services.sla.service import SlaService
from shared.clock import SimulationClock
from shared.outbox import Outbox
from tests import fair_month_table as table
from tests.fair_month_driver import DEMO_FILE, PEOPLE, START, ZONE, Api, Month, at, until

pytestmark = pytest.mark.integration


@pytest.fixture
def month(runner_factory, ccrm_config, s3_config, web_config, clean_database):
    clear_caches()
    SimulationClock(clean_database, cache_seconds=0).set(at(START))
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10, SMS={"provider": "record"},
                  DB_POOL_SIZE=3, **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, GatewayService, IntakeService, DispatchService,
                            MediaService, SlaService, PenaltyService)
    runner.start()
    # After the start: every consumer's queue is bound when directory.loaded leaves.
    load_organisation(clean_database, DEMO_FILE, now=at(START),
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    issued = issue_tokens(clean_database, [{"id": pid, "name": key} for key, pid in
                                           PEOPLE.items()], at(START))
    tokens = {entry["person_id"]: entry["token"] for entry in issued}
    with clean_database.connection() as conn:
        until(lambda: conn.execute("SELECT version FROM sla.directory").fetchone(), "sla dir")
        until(lambda: conn.execute("SELECT 1 FROM penalty.directory_state").fetchone(),
              "penalty dir")
    yield Month({key: Api(f"http://{address}", tokens[pid]) for key, pid in PEOPLE.items()},
                clean_database)
    clear_caches()


def drive(m):
    """November, in order of time."""
    # Mon 2: A in time; H signed (its completion due on the 6th).
    m.record("A", "2026-11-02 09:40", requested="2026-11-09 18:00")
    m.order("A", "2026-11-02 09:45", "2026-11-02 09:50", "2026-11-02 09:55")
    m.visit("A", "2026-11-02 10:10", agreed="2026-11-04 12:00")
    m.record("H", "2026-11-02 10:30", category="sales_contract", requested="2026-11-06 18:00")
    m.order("H", "2026-11-02 10:35", "2026-11-02 10:40", "2026-11-02 10:45")
    m.visit("H", "2026-11-02 11:00", agreed="2026-11-06 18:00", who="mkt")
    m.close("A", "2026-11-02 14:00")
    # Tue 3: B resolved on the spot.
    m.record("B", "2026-11-03 10:00", on_spot=True)
    m.progress("H", "2026-11-03 15:00", "mkt")
    # Wed 4: C submitted 12 minutes late.
    m.record("C", "2026-11-04 10:00", requested="2026-11-11 18:00")
    m.order("C", "2026-11-04 10:42", "2026-11-04 10:50", "2026-11-04 11:00")
    m.visit("C", "2026-11-04 11:20", agreed="2026-11-06 17:00")
    m.close("C", "2026-11-04 14:00")
    m.progress("H", "2026-11-04 15:00", "mkt")
    # Thu 5: D waits 75 minutes for the GM.
    m.record("D", "2026-11-05 10:00", requested="2026-11-12 18:00")
    m.order("D", "2026-11-05 10:10", "2026-11-05 10:13", "2026-11-05 11:28")
    m.visit("D", "2026-11-05 11:50", agreed="2026-11-07 17:00")
    m.close("D", "2026-11-05 14:00")
    for day in range(5, 9):
        m.progress("H", f"2026-11-{day:02d} 15:00", "mkt")
    # Mon 9: E, nobody visits.
    m.record("E", "2026-11-09 10:00", category="sales_contract", requested="2026-11-16 17:00")
    m.order("E", "2026-11-09 10:05", "2026-11-09 10:08", "2026-11-09 10:12")
    m.progress("H", "2026-11-09 15:00", "mkt")
    # Tue 10: F, a blocked visit recorded hours after the time it states.
    m.record("F", "2026-11-10 10:00", requested="2026-11-12 17:00")
    m.order("F", "2026-11-10 10:05", "2026-11-10 10:08", "2026-11-10 10:12")
    blocked = m.act("2026-11-10 14:00", "prop", m.path("F", "visits"), {
        "outcome": "blocked", "attempted_at": at("2026-11-10 10:20").isoformat(),
        "reason": "客户不在家且拒绝改约"})
    m.act("2026-11-10 14:10", "staff", m.path("F", "callbacks"), {
        "outcome": "reached", "callback_at": at("2026-11-10 14:10").isoformat(),
        "note": "客户同意次日上门"})
    m.progress("H", "2026-11-10 14:50", "mkt")
    m.act("2026-11-10 15:00", "deputy", m.path("F", f"acts/{blocked['id']}/accept-time"),
          {"reason": "山区无信号，回项目部后补录"})
    # Wed 11: E visited two days late; F visited and closed; G by phone, routed after
    # its requested time.
    m.visit("E", "2026-11-11 10:00", agreed="2026-11-14 17:00", who="mkt")
    m.visit("F", "2026-11-11 10:30", agreed="2026-11-12 17:00")
    m.record("G", "2026-11-11 11:20", channel="phone", requested="2026-11-11 12:00")
    m.order("G", "2026-11-11 11:35", "2026-11-11 11:45", "2026-11-11 12:10")
    m.visit("G", "2026-11-11 12:40", agreed="2026-11-13 12:00")
    m.close("F", "2026-11-11 15:00")
    m.progress("H", "2026-11-11 15:20", "mkt")
    # Thu 12: I recorded by mistake and voided.
    m.record("I", "2026-11-12 10:00", who="spec2")
    m.act("2026-11-12 11:40", "deputy", m.path("I", "void"),
          {"reason": "与已登记投诉重复 (duplicate)"})
    m.progress("G", "2026-11-12 15:00", "prop")
    m.progress("H", "2026-11-12 15:10", "mkt")
    # Fri 13: G and E closed.
    m.close("G", "2026-11-13 10:00")
    m.close("E", "2026-11-13 15:00", who="mkt")
    m.progress("H", "2026-11-13 15:20", "mkt")
    m.progress("H", "2026-11-14 15:00", "mkt")
    m.progress("H", "2026-11-15 15:00", "mkt")
    # Mon 16: J, a major complaint; H's closure applied, ten days overdue.
    m.record("J", "2026-11-16 10:00", requested="2026-11-20 17:00")
    m.order("J", "2026-11-16 10:05", "2026-11-16 10:08", "2026-11-16 10:12")
    m.visit("J", "2026-11-16 10:40", agreed="2026-11-20 17:00")
    m.act("2026-11-16 11:00", "gm", m.path("J", "escalate"),
          {"level": "major", "reason": "多户业主联名投诉"})
    chairman = m.api["chairman"]
    minutes = chairman.upload("minutes", m.ids["J"])
    meeting = m.act("2026-11-16 15:00", "chairman", m.path("J", "meetings"), {
        "held_at": at("2026-11-16 15:00").isoformat(), "responsible": "物业公司工程部",
        "solution": "更换整栋楼顶防水层", "due_at": at("2026-11-20 17:00").isoformat()})
    m.progress("H", "2026-11-16 15:10", "mkt")
    m.close("H", "2026-11-16 17:00", who="mkt")
    m.act("2026-11-17 10:00", "chairman", f"/api/meetings/{meeting['id']}/minutes",
          {"minutes_media_id": minutes})
    m.close("J", "2026-11-17 11:00")
    # The rest of the month passes; at 00:00 on 1 December the report falls due.
    m.run_to("2026-12-01 00:05")


def test_a_month_of_ten_complaints_against_the_regulation(month):
    m = month
    drive(m)
    api = m.api

    # -- the report: issued after the close, behind sla's fired-through mark ---------------
    m.penalty_caught_up()
    report = until(lambda: (lambda r: r.json() if r.status_code == 200 else None)(
        api["hr"].call("GET", "/api/reports/monthly/2026-11")), "November's report", 60)
    with m.db.connection() as conn:
        latest = conn.execute("SELECT max(revision) AS r FROM penalty.monthly_reports "
                              "WHERE month = '2026-11'").fetchone()["r"]
    assert latest == report["revision"]
    # Cut once, by the monthly trigger: no line arrived after it (no revision).
    assert (report["revision"], report["trigger"]) == (1, "monthly_report.due")
    got = {(p["person_id"], r["rule"]): (r["lines"], Decimal(r["amount"]))
           for p in report["people"] for r in p["rules"]}
    assert got == table.REPORT
    assert (report["line_count"], Decimal(report["totals"]["amount"])) == table.REPORT_TOTAL
    assert report["review"]["people"] == []          # nobody above ¥5,000

    # -- the ledger, line by line -----------------------------------------------------------
    with m.db.connection() as conn:
        lines = conn.execute("SELECT complaint_id, person_id, rule, amount, month "
                             "FROM penalty.deductions").fetchall()
        assert conn.execute(NOT_REPORTED, {"zone": "Asia/Shanghai"}).fetchall() == []
        assert conn.execute(REPORTED_TWICE).fetchall() == []
        in_latest = conn.execute(
            """SELECT count(*) AS n FROM penalty.report_lines WHERE month = '2026-11'
               AND revision = %s""", (report["revision"],)).fetchone()["n"]
    assert {line["month"] for line in lines} == {"2026-11"}
    ledger = sorted(((m.key_of(line["complaint_id"]), line["person_id"], line["rule"],
                      line["amount"]) for line in lines), key=repr)
    assert ledger == table.LEDGER
    assert in_latest == len(table.LEDGER)

    # -- every notice about a complaint --------------------------------------------------------
    sent = m.notifications()
    about = Counter((m.key_of(n["complaint_id"]), n["template"], n["recipient_person_id"])
                    for n in sent if n["complaint_id"])
    assert dict(about) == table.NOTICES
    for (key, template, who), parts in table.NOTICE_TEXTS.items():
        texts = [n["text"] for n in sent if n["complaint_id"] == m.ids[key]
                 and n["template"] == template and n["recipient_person_id"] == who]
        assert any(all(part in text for part in parts) for text in texts), (key, template, texts)
    assert {n["status"] for n in sent if n["recipient_person_id"]} <= {"sent", "pending"}
    # ... and none of these kinds goes out about no complaint.
    assert not [n for n in sent if not n["complaint_id"] and n["template"] in {
        template for _, template, _ in table.NOTICES}]

    # -- the daily lists that matter -----------------------------------------------------------
    daily = {}
    for n in sent:
        if n["complaint_id"] is None:
            day = datetime.fromisoformat(n["created_at"]).astimezone(ZONE).date().isoformat()
            daily.setdefault((n["template"], n["recipient_person_id"]), {})[day] = n["text"]
    for (template, who) in {(t, w) for t, w, _ in table.DAILY}:
        expected = {d: keys for (t, w, d), keys in table.DAILY.items() if (t, w) == (template,
                                                                                    who)}
        got_days = daily.get((template, who), {})
        assert sorted(got_days) == sorted(expected), (template, who, sorted(got_days))
        for day, keys in expected.items():
            named = set(re.findall(r"C-GZ-\d{4}-\d{6}", got_days[day]))
            if isinstance(keys, str):
                assert keys in got_days[day] and not named, (template, who, day, got_days[day])
            else:
                assert named == {m.ids[k] for k in keys}, (template, who, day, got_days[day])
    for template in table.DAILY_COMPLETE:
        assert {w for t, w in daily if t == template} == {
            w for t, w, _ in table.DAILY if t == template}, template
