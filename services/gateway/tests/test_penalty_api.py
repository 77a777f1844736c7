"""The penalty calls of SPEC §10 through the gateway's HTTP API: the ledger,
appeals, the monthly report (JSON and files), rankings and sanction cases,
with the roles of SPEC §8. Gateway, penalty, dispatch (people, tokens) and
media run on the real broker, database and S3 server; sla's events are
published the way sla publishes them."""
import csv
import hashlib
import io
import time
from decimal import Decimal

import openpyxl
import pytest
import requests
from nameko.constants import WEB_SERVER_CONFIG_KEY
from nameko.rpc import RpcProxy

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.routes.penalty import PenaltyRoutes
from services.gateway.service import GatewayService
from services.gateway.tokens import issue_tokens
from services.media.service import MediaService
from services.penalty.service import PenaltyService
from services.penalty.tests.conftest import DEMO_FILE, NOW, Bus
from services.penalty.tests.helpers import at, missed, overdue
from shared.clock import SimulationClock
from shared.outbox import EventPublisher, Outbox

pytestmark = pytest.mark.integration

PEOPLE = {
    "spec": {"id": "p01-spec-1", "name": "李思琪"},
    "spec2": {"id": "p01-spec-2", "name": "王梓涵"},
    "head": {"id": "rcgz-mkt-head", "name": "冯晓东"},
    "deputy": {"id": "centre-deputy-gm", "name": "林静怡"},
    "gm": {"id": "centre-gm", "name": "周明华"},
    "staff": {"id": "centre-staff-1", "name": "陈晓燕"},
    "hr": {"id": "hr-1", "name": "刘丽娟"},
    "finance": {"id": "fin-1", "name": "吴海涛"},
    "admin": {"id": "admin-1", "name": "马骏"},
}
CID = "C-GZ-2026-000007"

if issubclass(GatewayService, PenaltyRoutes) and hasattr(GatewayService, "penalty"):
    Gateway = GatewayService
else:
    class Gateway(PenaltyRoutes, GatewayService):
        """The gateway with the penalty routes (until the core includes them)."""
        penalty = RpcProxy("penalty")


class Api:
    def __init__(self, base, token=None):
        self.base, self.token = base, token

    def call(self, method, path, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return requests.request(method, self.base + path, headers=headers, timeout=30, **kwargs)

    def get(self, path, **params):
        return self.call("GET", path, params=params)

    def post(self, path, json=None):
        return self.call("POST", path, json=json)


def error(response, status, code=None):
    assert response.status_code == status, response.text
    body = response.json()["error"]
    if code:
        assert body["code"] == code
    return body


@pytest.fixture
def world(ccrm_config, s3_config, web_config, clean_database, rabbit_config, runner_factory):
    # runner_factory last: its containers are killed before the vhost is deleted.
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10, DB_POOL_SIZE=3,
                  **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, Gateway, PenaltyService, DispatchService, MediaService)
    runner.start()
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    publisher = EventPublisher(rabbit_config["AMQP_URI"], confirm_timeout=5)
    bus = Bus(clean_database, publisher)
    bus.wait_directory()            # dispatch's own relay delivered directory.loaded
    tokens = {e["person_id"]: e["token"]
              for e in issue_tokens(clean_database, list(PEOPLE.values()), NOW)}
    base = f"http://{address}"
    apis = {key: Api(base, tokens[p["id"]]) for key, p in PEOPLE.items()}
    apis["public"] = Api(base)
    yield bus, apis
    publisher.close()


def seed(bus):
    """November: the specialist 12 min late (¥300), the handler's plan
    missing (¥300) and three overdue days (handler ¥300, leader ¥150)."""
    events = [bus.publish("sla", "deadline.missed",
                          missed("order_submit", at("2026-11-03 10:30"), 720, timer="t-1"),
                          complaint_id=CID),
              bus.publish("sla", "deadline.missed",
                          missed("plan", at("2026-11-03 12:00"), 60, person="rcgz-mkt-head",
                                 timer="plan-1", role="handler"), complaint_id=CID)]
    for day in (1, 2, 3):
        events.append(bus.publish("sla", "overdue.accrued", overdue(day, at("2026-11-20 18:00")),
                                  complaint_id=CID))
    bus.applied(*events)
    bus.fired_through(NOW)          # sla has fired every timer due in November


def test_the_ledger_by_role_and_the_appeal_round_trip(world):
    bus, api = world
    seed(bus)
    everything = api["hr"].get("/api/deductions", month="2026-11")
    assert everything.status_code == 200, everything.text
    assert everything.json()["total"] == 8
    for key in ("finance", "staff", "gm"):
        assert api[key].get("/api/deductions").json()["total"] == 8
    mine = api["spec"].get("/api/deductions").json()
    assert [(i["rule"], i["amount"]) for i in mine["items"]] == [("order_submit", "300.00")]
    line = mine["items"][0]
    assert line["evidence"]["late_seconds"] == 720 and line["rule_version"] == "2026.1"
    assert api["spec2"].get("/api/deductions").json()["total"] == 0
    # person_id=me (the 我的扣罚 page): a ledger reader's own lines, not everyone's
    assert api["hr"].get("/api/deductions", person_id="me").json()["total"] == 0
    head = api["head"].get("/api/deductions", person_id="me").json()["items"]
    assert {i["person_id"] for i in head} == {"rcgz-mkt-head"} and len(head) == 4   # plan, 3 days
    error(api["spec2"].get("/api/deductions", person_id="p01-spec-1"), 403, "forbidden")
    assert "month" in error(api["hr"].get("/api/deductions", month="2026-13"), 400)["fields"]
    error(api["public"].get("/api/deductions"), 401)
    error(api["spec2"].get(f"/api/deductions/{line['id']}"), 403)

    error(api["spec2"].post(f"/api/deductions/{line['id']}/appeal", {"reason": "替她申诉"}), 403)
    filed = api["spec"].post(f"/api/deductions/{line['id']}/appeal", {"reason": "系统故障"})
    assert filed.status_code == 201, filed.text
    appeal = filed.json()
    error(api["spec"].post(f"/api/deductions/{line['id']}/appeal", {"reason": "再来"}), 409)
    assert "reason" in error(api["head"].post(
        f"/api/deductions/{line['id']}/appeal", {}), 400)["fields"]
    assert [a["id"] for a in api["spec"].get("/api/appeals").json()["items"]] == [appeal["id"]]
    assert api["spec2"].get("/api/appeals").json()["items"] == []
    assert api["gm"].get("/api/appeals").json()["total"] == 1
    assert api["gm"].get("/api/appeals", person_id="me").json()["total"] == 0
    assert api["spec"].get("/api/appeals", person_id="me").json()["total"] == 1
    paged = api["spec"].get("/api/appeals", limit="1", offset="1").json()   # SPEC §10 paging
    assert (paged["items"], paged["total"], paged["limit"], paged["offset"]) == ([], 1, 1, 1)
    assert "limit" in error(api["spec"].get("/api/appeals", limit="0"), 400)["fields"]

    decision = f"/api/appeals/{appeal['id']}/decision"
    error(api["deputy"].post(decision, {"decision": "upheld"}), 403)
    error(api["gm"].post(decision, {"decision": "maybe"}), 400)
    upheld = api["gm"].post(decision, {"decision": "upheld", "reason": "系统日志证实故障"})
    assert upheld.status_code == 200, upheld.text
    assert upheld.json()["status"] == "upheld"
    error(api["gm"].post(decision, {"decision": "rejected"}), 409, "wrong_state")
    reversal = api["spec"].get(f"/api/deductions/{upheld.json()['reversal_id']}").json()
    assert (reversal["amount"], reversal["reverses"]) == ("-300.00", line["id"])
    error(api["gm"].post("/api/appeals/not-an-id/decision", {"decision": "upheld"}), 404)


def test_the_monthly_report_as_json_csv_and_xlsx(world):
    bus, api = world
    seed(bus)
    error(api["hr"].get("/api/reports/monthly/2026-11"), 404)
    error(api["hr"].get("/api/reports/monthly/2026-12"), 409, "wrong_state")
    error(api["gm"].post("/api/reports/monthly/2026-12/issue"), 409)
    error(api["hr"].post("/api/reports/monthly/2026-11/issue"), 403)
    issued = api["gm"].post("/api/reports/monthly/2026-11/issue")
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["revision"] == 1 and body["totals"]["amount"] == "1050.00"
    # The expected report, person by person, computed by hand:
    assert {p["person_id"]: p["amount"] for p in body["people"]} == {
        "p01-spec-1": "300.00", "rcgz-mkt-head": "600.00", "rcgz-vp-mkt": "150.00"}
    again = api["admin"].post("/api/reports/monthly/2026-11/issue").json()
    assert (again["revision"], again["changed"], again["sha256s"]) == (1, False, body["sha256s"])

    shown = api["finance"].get("/api/reports/monthly/2026-11")
    assert shown.status_code == 200 and shown.json()["line_count"] == 8
    error(api["spec"].get("/api/reports/monthly/2026-11"), 403)
    error(api["hr"].get("/api/reports/monthly/2026-11", format="pdf"), 400)

    as_csv = api["hr"].get("/api/reports/monthly/2026-11", format="csv")
    assert as_csv.status_code == 200 and as_csv.headers["Content-Type"].startswith("text/csv")
    assert "attachment" in as_csv.headers["Content-Disposition"]
    assert hashlib.sha256(as_csv.content).hexdigest() == body["sha256s"]["csv"]
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
    assert rows[-1][4] == "总计 total" and Decimal(rows[-1][8]) == Decimal("1050.00")

    as_xlsx = api["hr"].get("/api/reports/monthly/2026-11", format="xlsx")
    assert hashlib.sha256(as_xlsx.content).hexdigest() == body["sha256s"]["xlsx"]
    sheet = openpyxl.load_workbook(io.BytesIO(as_xlsx.content))["扣罚明细"]
    assert sheet.cell(row=sheet.max_row, column=9).value == 1050
    media = api["hr"].call("GET", f"/api/media/{body['xlsx_media_id']}").json()
    assert media["kind"] == "report" and media["sha256"] == body["sha256s"]["xlsx"]


def test_rankings_and_sanction_cases_by_role(world):
    bus, api = world
    bus.applied(bus.publish("sla", "overdue.sanction_due", overdue(16, at("2026-11-01 18:00")),
                            complaint_id=CID))
    ranked = api["staff"].get("/api/rankings/2026-11")
    assert ranked.status_code == 200, ranked.text
    assert set(ranked.json()) == {"month", "complete", "companies", "specialists", "desks",
                                  "frozen", "published_at"}
    error(api["spec"].get("/api/rankings/2026-11"), 403)
    error(api["gm"].get("/api/rankings/2027-05"), 409)

    cases = api["hr"].get("/api/sanction-cases", status="open")
    assert cases.status_code == 200, cases.text
    handler_case = next(c for c in cases.json()["items"] if c["role"] == "handler")
    assert cases.json()["total"] == len(cases.json()["items"]) and cases.json()["limit"] == 20
    error(api["spec"].get("/api/sanction-cases"), 403)
    path = f"/api/sanction-cases/{handler_case['id']}/decision"
    error(api["deputy"].post(path, {"measure": "pay_cut"}), 403)
    assert "bonus_percent" in error(api["gm"].post(path, {"measure": "bonus",
                                                          "bonus_percent": 120}), 400)["fields"]
    decided = api["gm"].post(path, {"measure": "demotion", "note": "降职一级"})
    assert decided.status_code == 200 and decided.json()["decided_role"] == "centre_gm"
    error(api["hr"].post(path, {"measure": "pay_cut"}), 409)

    opened = api["gm"].post("/api/sanction-cases", {"kind": "reception_attitude",
                                                     "person_id": "p01-spec-2",
                                                     "note": "视频显示接待时态度生硬"})
    assert opened.status_code == 201, opened.text
    assert opened.json()["article"] == "11"
    error(api["hr"].post("/api/sanction-cases", {"kind": "concealed", "person_id": "p01-spec-2",
                                                 "note": "漏报"}), 403)
    error(api["gm"].post("/api/sanction-cases", {"kind": "concealed", "person_id": "nobody",
                                                 "note": "漏报"}), 404)


def test_the_openapi_document_lists_the_penalty_calls(world):
    _, api = world
    started = time.monotonic()
    paths = api["public"].get("/api/openapi.json").json()["paths"]
    assert time.monotonic() - started < 10
    for path in ("/api/deductions", "/api/deductions/{deduction_id}/appeal",
                 "/api/appeals/{appeal_id}/decision", "/api/reports/monthly/{month}",
                 "/api/reports/monthly/{month}/issue", "/api/rankings/{month}",
                 "/api/reports/monthly/{month}/revisions",
                 "/api/reports/monthly/{month}/people/{person_id}/confirm",
                 "/api/reports/monthly/{month}/people/{person_id}/refer",
                 "/api/sanction-cases", "/api/sanction-cases/{case_id}/decision"):
        assert path in paths, path
