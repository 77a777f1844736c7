"""One month of complaints driven through the gateway's HTTP API with the
simulation clock: gateway, intake, dispatch, sla, penalty and media on the
real broker, database and S3 server. sla fires the deadlines as the admin
moves the clock; at 00:00 on 1 December it announces the November report,
which penalty issues by itself. The report is checked line by line against
amounts computed by hand here.

November 2026 on project GZ-P01 (a capital project; category sales_contract:
the handler is the regional marketing head, bonus ¥10,000):
- A (2 Nov): every step in time, closed the same day: nothing charged.
- B (3 Nov): submitted 12 min late (specialist ¥300); the order reaches the
  deputy GM at 09:42, so it is due signed at 10:42; he reviews at 10:49
  (7 min: ¥200), the GM signs at 11:01 (12 min: ¥300). Closed in time.
- C (10 Nov): signed 09:30, visit due 10:30 but made on 12 Nov (20% of the
  bonus: ¥2,000; the plan with it: ¥300); no progress ever recorded (11 to
  23 Nov: 13 days, ¥2,600); due 14 Nov 18:00, closure applied 24 Nov 10:00:
  10 days overdue (handler ¥1,300, the marketing VP, the department's
  supervising leader, ¥650; the capital project's other leaders owe nothing,
  docs/sla.md "Art. 36: who owes it").
- D (30 Nov 23:00): never submitted in November: at the month's cut 30 min
  late (6 started blocks, ¥600 in November); submitted at 00:12 on 1 December
  (42 min: 9 blocks, the other ¥300 in December).
"""
import csv
import io
import time
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import requests
from nameko.constants import WEB_SERVER_CONFIG_KEY
from nameko.rpc import RpcProxy

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.routes.complaints import ComplaintRoutes
from services.gateway.routes.dispatch import DispatchRoutes
from services.gateway.routes.penalty import PenaltyRoutes
from services.gateway.service import GatewayService
from services.gateway.tokens import issue_tokens
from services.intake.remote import clear_caches
from services.intake.service import IntakeService
from services.media.service import MediaService
from services.media.tests import samples
from services.penalty.service import PenaltyService
from services.sla.service import SlaService
from shared.clock import SimulationClock
from shared.config import REPO_ROOT
from shared.outbox import Outbox

pytestmark = pytest.mark.integration

ZONE = ZoneInfo("Asia/Shanghai")
DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
PEOPLE = {"spec": "p01-spec-1", "spec2": "p01-spec-2", "deputy": "centre-deputy-gm",
          "gm": "centre-gm", "staff": "centre-staff-1", "admin": "admin-1", "hr": "hr-1",
          "finance": "fin-1", "head": "rcgz-mkt-head"}
HANDLER = "rcgz-mkt-head"

_mixins = tuple(m for m in (PenaltyRoutes, DispatchRoutes, ComplaintRoutes)
                if not issubclass(GatewayService, m))
_proxies = {name: RpcProxy(name) for name in ("intake", "penalty")
            if not hasattr(GatewayService, name)}
Gateway = type("Gateway", _mixins + (GatewayService,), _proxies) \
    if _mixins or _proxies else GatewayService


def at(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)


class Api:
    def __init__(self, base, token=None):
        self.base, self.token = base, token

    def call(self, method, path, json=None, **kwargs):
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return requests.request(method, self.base + path, json=json, headers=headers,
                                timeout=30, **kwargs)

    def get(self, path, **params):
        return self.call("GET", path, params=params)

    def post(self, path, json=None):
        return self.call("POST", path, json=json)

    def upload(self, kind, complaint_id=None):
        content, name = (samples.PDF, "f.pdf") if kind == "material" else (samples.PNG, "f.png")
        data = {"kind": kind}
        if complaint_id:
            data["complaint_id"] = complaint_id
        response = self.call("POST", "/api/media", data=data,
                             files={"file": (name, content, "application/octet-stream")})
        assert response.status_code == 201, response.text
        return response.json()["id"]


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def until(probe, what, timeout=30.0):
    """Wait for the services to catch up (events are asynchronous); never
    waits on a deadline: the clock is moved by the admin."""
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        value = probe()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"not reached in {timeout}s: {what}")


class Month:
    def __init__(self, api, database):
        self.api, self.db = api, database

    def clock(self, text):
        ok(self.api["admin"].post("/api/admin/clock", {"now": at(text).isoformat()}))

    def record(self, who, text, requested):
        self.clock(text)
        signature = self.api[who].upload("signature")
        return ok(self.api[who].post("/api/complaints", {
            "project_id": "GZ-P01", "room": "3-2-1801", "customer_name": "王小明",
            "customer_phone": "13812345678", "channel": "visit",
            "demand": "购房合同网签信息有误，要求更正。", "category": "sales_contract",
            "requested_completion_at": at(requested).isoformat(),
            "contact_ended_at": at(text).isoformat(), "resolved_on_spot": False,
            "customer_signature_media_id": signature}), 201)["id"]

    def order(self, cid, submit, review, sign):
        self.clock(submit)
        ok(self.api["spec"].post(f"/api/complaints/{cid}/order/submit"))
        self.clock(review)
        ok(self.api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"}))
        self.clock(sign)
        ok(self.api["gm"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve"}))
        routed = until(lambda: self._routed(cid), f"{cid} routed")
        until(lambda: self.api["head"].get(f"/api/complaints/{cid}").status_code == 200,
              f"intake knows {cid}'s handler")
        return routed

    def _routed(self, cid):
        response = self.api["staff"].get(f"/api/complaints/{cid}/dispatch")
        return response.json() if response.status_code == 200 and \
            response.json()["state"] == "routed" else None

    def visit(self, cid, text, agreed):
        self.clock(text)
        ok(self.api["head"].post(f"/api/complaints/{cid}/visits", {
            "outcome": "done", "visited_at": (at(text) - timedelta(minutes=5)).isoformat(),
            "plan": "核对合同原件后更正网签信息", "agreed_completion_at": at(agreed).isoformat(),
            "customer_signature_media_id": self.api["head"].upload("signature", cid),
            "photo_media_ids": []}), 201)

    def close(self, cid, applied, satisfaction):
        self.clock(applied)
        ok(self.api["head"].post(f"/api/complaints/{cid}/closure/apply", {
            "material_media_ids": [self.api["head"].upload("material", cid)],
            "customer_signature_media_id": self.api["head"].upload("signature", cid)}), 201)
        until(lambda: self.api["staff"].get(f"/api/complaints/{cid}").json()["state"]
              == "closure_applied", f"{cid} closure applied at intake")
        self.clock((at(applied) + timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M"))
        ok(self.api["spec"].post(f"/api/complaints/{cid}/closure/verify",
                                 {"decision": "approve", "satisfaction": satisfaction}))
        ok(self.api["deputy"].post(f"/api/complaints/{cid}/closure/review",
                                   {"decision": "approve"}))
        ok(self.api["gm"].post(f"/api/complaints/{cid}/closure/approve", {"decision": "approve"}))

    def lines(self, **where):
        clauses = " AND ".join(f"{k} = %({k})s" for k in where) or "true"
        with self.db.connection() as conn:
            return conn.execute(f"SELECT person_id, rule, amount, month FROM penalty.deductions "
                                f"WHERE {clauses}", where).fetchall()

    def charged(self, rule, count, **where):
        until(lambda: len(self.lines(rule=rule, **where)) >= count,
              f"{count} {rule} lines {where}")


@pytest.fixture
def month(ccrm_config, s3_config, web_config, clean_database, runner_factory):
    # runner_factory last: its containers are killed before the vhost is deleted.
    clear_caches()
    SimulationClock(clean_database, cache_seconds=0).set(at("2026-11-02 08:50"))
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10, SMS={"provider": "record"},
                  DB_POOL_SIZE=3,
                  **{WEB_SERVER_CONFIG_KEY: address})
    runner = runner_factory(config, Gateway, IntakeService, DispatchService, SlaService,
                            PenaltyService, MediaService)
    runner.start()
    # After the start: every consumer's queue is bound when directory.loaded leaves.
    load_organisation(clean_database, DEMO_FILE, now=at("2026-11-02 08:50"),
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    issued = issue_tokens(clean_database, [{"id": i, "name": i} for i in PEOPLE.values()],
                          at("2026-11-02 08:50"))
    tokens = {entry["person_id"]: entry["token"] for entry in issued}
    base = f"http://{address}"
    api = {key: Api(base, tokens[person]) for key, person in PEOPLE.items()}
    with clean_database.connection() as conn:
        until(lambda: conn.execute("SELECT 1 FROM penalty.directory_state").fetchone(),
              "penalty has the directory")
    yield Month(api, clean_database)
    clear_caches()


def test_one_month_of_complaints_and_its_report_line_by_line(month):
    api = month.api
    # A: every step in time.
    a = month.record("spec", "2026-11-02 08:55", "2026-11-09 18:00")
    routed = month.order(a, "2026-11-02 09:10", "2026-11-02 09:15", "2026-11-02 09:20")
    leaders = sorted({leader["person_id"] for leader in routed["routing"]["leaders"]} - {HANDLER})
    assert routed["routing"]["handler"]["person_id"] == HANDLER and leaders
    month.visit(a, "2026-11-02 09:40", "2026-11-05 18:00")
    ok(api["spec"].post(f"/api/complaints/{a}/rating", {"score": 5}))
    month.close(a, "2026-11-02 15:00", 5)

    # B: submitted 12 min late; the order held past its deadline by both.
    b = month.record("spec", "2026-11-03 09:00", "2026-11-10 18:00")
    month.order(b, "2026-11-03 09:42", "2026-11-03 10:49", "2026-11-03 11:01")
    month.visit(b, "2026-11-03 11:30", "2026-11-03 20:00")
    month.close(b, "2026-11-03 16:00", 4)

    # C: the visit two days late, no progress, ten days overdue.
    c = month.record("spec", "2026-11-10 09:00", "2026-11-14 18:00")
    month.order(c, "2026-11-10 09:10", "2026-11-10 09:20", "2026-11-10 09:30")
    month.clock("2026-11-12 10:00")
    month.charged("visit", 1)
    month.charged("plan", 1)
    month.visit(c, "2026-11-12 10:00", "2026-11-20 18:00")
    month.clock("2026-11-24 10:00")
    month.charged("progress", 13)
    month.charged("overdue", 10 * 2)          # the handler and the supervising leader
    month.close(c, "2026-11-24 10:00", 3)

    # D: recorded late on the 30th, not submitted before the month ends.
    d = month.record("spec2", "2026-11-30 23:00", "2026-12-07 18:00")
    month.clock("2026-11-30 23:45")
    with month.db.connection() as conn:
        until(lambda: conn.execute("SELECT 1 FROM penalty.open_misses WHERE complaint_id = %s "
                                   "AND ended_at IS NULL", (d,)).fetchone(),
              "D's order_submit announced as missed")
    month.charged("order_sign", 2)
    month.charged("order_submit", 1)

    # 00:00 on 1 December: sla announces the report, penalty cuts and issues it.
    month.clock("2026-12-01 00:05")
    report = until(lambda: (lambda r: r.json() if r.status_code == 200 else None)(
        api["hr"].get("/api/reports/monthly/2026-11")), "the November report issued", 45)
    assert report["trigger"] == "monthly_report.due" and report["revision"] == 1

    expected = {
        ("centre-deputy-gm", "order_sign"): (1, "200.00"),
        ("centre-gm", "order_sign"): (1, "300.00"),
        ("p01-spec-1", "order_submit"): (1, "300.00"),
        ("p01-spec-2", "order_submit"): (1, "600.00"),       # the cut: 30 min, 6 blocks
        (HANDLER, "overdue"): (10, "1300.00"),                # 7 x 100 + 3 x 200
        (HANDLER, "plan"): (1, "300.00"),
        (HANDLER, "progress"): (13, "2600.00"),
        (HANDLER, "visit"): (1, "2000.00"),                   # 20% of ¥10,000
    }
    assert "rcgz-vp-mkt" in leaders and len(leaders) == 4
    expected[("rcgz-vp-mkt", "overdue")] = (10, "650.00")    # 7 x 50 + 3 x 100
    got = {(p["person_id"], r["rule"]): (r["lines"], r["amount"])
           for p in report["people"] for r in p["rules"]}
    assert got == expected
    total = sum(Decimal(amount) for _, amount in expected.values())
    assert Decimal(report["totals"]["amount"]) == total
    assert report["line_count"] == sum(n for n, _ in expected.values())

    as_csv = api["finance"].get("/api/reports/monthly/2026-11", format="csv")
    rows = list(csv.reader(io.StringIO(as_csv.content.decode("utf-8-sig"))))[1:]
    by_rule = {(r[1], r[4]): (int(r[7]), r[8]) for r in rows if r[1] and "subtotal" not in r[4]}
    assert by_rule == expected
    assert rows[-1][4] == "总计 total" and Decimal(rows[-1][8]) == total

    # D is submitted at 00:12: 42 min late, 9 blocks, 6 already charged in November.
    month.clock("2026-12-01 00:12")
    ok(api["spec2"].post(f"/api/complaints/{d}/order/submit"))
    until(lambda: any(line["month"] == "2026-12" for line in month.lines(rule="order_submit")),
          "D's rest charged in December")
    december = ok(api["hr"].get("/api/deductions", month="2026-12"))["items"]
    assert [(i["person_id"], i["rule"], i["amount"]) for i in december] == [
        ("p01-spec-2", "order_submit", "300.00")]

    def ranked():
        body = ok(api["staff"].get("/api/rankings/2026-11"))
        companies = {e["id"]: e for e in body["companies"]["region_company"]}
        gz = companies.get("rc-gz")
        return body if gz and gz["surveys"] == 3 else None

    rankings = until(ranked, "the rankings have the month's three surveys")
    gz = {e["id"]: e for e in rankings["companies"]["region_company"]}["rc-gz"]
    assert (gz["due"], gz["on_time"], gz["on_time_rate"]) == (3, 2, "0.6667")
    assert gz["satisfaction_mean"] == "4.00"
    assert gz["efficiency_median_hours"] == "5.67"           # A: 09:20 -> 15:00
    desk = {d["project_id"]: d for d in rankings["desks"]}["GZ-P01"]
    assert (desk["received"], desk["resolved_on_spot"]) == (4, 0)
    assert rankings["specialists"]["entries"][0]["person_id"] == "p01-spec-1"
