"""Every fine reaches HR, once (issue 13), through a restart after an
outage: the clock moves two months at once, sla fires the backlog of timers
while its monthly job announces both reports at the first tick, and penalty
cuts each month only behind sla's fired-through mark. Gateway, intake,
dispatch, sla, penalty and media on the real broker, database and S3 server.

One complaint on GZ-P01 (capital project, sales_contract; handler the
regional marketing head, supervising leader the marketing VP): recorded
20 Oct 09:00, every step in time, the visit agrees completion for 24 Oct
18:00 (before the requested 28 Oct). Then nothing: the clock jumps from
20 Oct 10:00 to 1 Dec 00:30. By hand from the regulation:
- progress (Art. 26, 35), ¥200 for each day from the day after signing
  with no progress by 18:00: 21-31 Oct = 11 days (¥2,200), 1-30 Nov = 30
  days (¥6,000);
- overdue (Art. 36), day n starting 24 Oct 18:00 + (n - 1) x 24 h: days 1-7
  (24-30 Oct) ¥100 handler, ¥50 leader; day 8 (31 Oct) ¥200 / ¥100: October
  handler ¥900, leader ¥450; days 9-15 (1-7 Nov) ¥200 / ¥100: November
  handler ¥1,400, leader ¥700; day 16 (8 Nov) a case, no money.
October: ¥3,550 in 27 lines; November: ¥8,100 in 44 lines, the handler's
¥7,400 above ¥5,000 (needs the GM).
"""
import pytest
from nameko.constants import WEB_SERVER_CONFIG_KEY

from scripts.reconcile import NOT_REPORTED, REPORTED_TWICE
from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.tokens import issue_tokens
from services.intake.remote import clear_caches
from services.intake.service import IntakeService
from services.media.service import MediaService
from services.penalty.service import PenaltyService
from services.penalty.tests.test_month_scenario import (
    DEMO_FILE,
    HANDLER,
    PEOPLE,
    Api,
    Gateway,
    Month,
    at,
    ok,
    until,
)
from services.sla.service import SlaService
from shared.clock import SimulationClock
from shared.outbox import Outbox

pytestmark = pytest.mark.integration
LEADER = "rcgz-vp-mkt"
START = "2026-10-20 08:50"


@pytest.fixture
def october(ccrm_config, s3_config, web_config, clean_database, runner_factory):
    # runner_factory last: its containers are killed before the vhost is deleted.
    clear_caches()
    SimulationClock(clean_database, cache_seconds=0).set(at(START))
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10, SMS={"provider": "record"},
                  DB_POOL_SIZE=3, **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, Gateway, IntakeService, DispatchService, SlaService,
                            PenaltyService, MediaService)
    runner.start()
    load_organisation(clean_database, DEMO_FILE, now=at(START),
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    issued = issue_tokens(clean_database, [{"id": i, "name": i} for i in PEOPLE.values()],
                          at(START))
    tokens = {entry["person_id"]: entry["token"] for entry in issued}
    api = {key: Api(f"http://{address}", tokens[person]) for key, person in PEOPLE.items()}
    with clean_database.connection() as conn:
        until(lambda: conn.execute("SELECT 1 FROM penalty.directory_state").fetchone(),
              "penalty has the directory")
    yield Month(api, clean_database)
    clear_caches()


def report_of(api, month, revision=None):
    query = {"revision": revision} if revision else {}
    response = api["hr"].get(f"/api/reports/monthly/{month}", **query)
    return response.json() if response.status_code == 200 else None


def by_person(report):
    return {(p["person_id"], r["rule"]): (r["lines"], r["amount"])
            for p in report["people"] for r in p["rules"]}


def test_two_months_at_once_every_line_in_exactly_one_report(october):
    api = october.api
    cid = october.record("spec", "2026-10-20 09:00", "2026-10-28 18:00")
    october.order(cid, "2026-10-20 09:10", "2026-10-20 09:15", "2026-10-20 09:20")
    october.visit(cid, "2026-10-20 09:40", "2026-10-24 18:00")
    october.clock("2026-10-20 10:00")

    october.clock("2026-12-01 00:30")                  # the restart after the outage
    nov = until(lambda: report_of(api, "2026-11"), "November's report", 90)
    oct_ = until(lambda: report_of(api, "2026-10"), "October's report", 30)

    # October: one revision, complete: the close waited for sla's backlog.
    assert (oct_["revision"], oct_["trigger"]) == (1, "monthly_report.due")
    assert by_person(oct_) == {(HANDLER, "progress"): (11, "2200.00"),
                               (HANDLER, "overdue"): (8, "900.00"),
                               (LEADER, "overdue"): (8, "450.00")}
    assert (oct_["line_count"], oct_["totals"]["amount"]) == (27, "3550.00")
    assert oct_["review"]["people"] == [] and oct_["review"]["final"] is True

    assert (nov["revision"], nov["trigger"]) == (1, "monthly_report.due")
    assert by_person(nov) == {(HANDLER, "progress"): (30, "6000.00"),
                              (HANDLER, "overdue"): (7, "1400.00"),
                              (LEADER, "overdue"): (7, "700.00")}
    assert (nov["line_count"], nov["totals"]["amount"]) == (44, "8100.00")
    assert [(p["person_id"], p["amount"], p["status"]) for p in nov["review"]["people"]] == [
        (HANDLER, "7400.00", "pending")]
    revisions = ok(api["hr"].get("/api/reports/monthly/2026-10/revisions"))["items"]
    assert [r["revision"] for r in revisions] == [1]

    # Reconciliation: every line of the ledger in exactly one revision of its month.
    with october.db.connection() as conn:
        assert conn.execute(NOT_REPORTED, {"zone": "Asia/Shanghai"}).fetchall() == []
        assert conn.execute(REPORTED_TWICE).fetchall() == []
        months = {r["month"]: r["n"] for r in conn.execute(
            "SELECT month, count(*) AS n FROM penalty.deductions GROUP BY month")}
    assert months == {"2026-10": 27, "2026-11": 44}

    # The GM confirms the handler's November; HR then has it as final.
    confirmed = ok(api["gm"].post(f"/api/reports/monthly/2026-11/people/{HANDLER}/confirm",
                                  {"note": "超期属实"}))
    assert confirmed["review"]["final"] is True
    assert api["hr"].post(f"/api/reports/monthly/2026-11/people/{HANDLER}/refer",
                          {}).status_code == 403
