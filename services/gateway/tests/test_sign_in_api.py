"""Sign-in by SMS code through the gateway's HTTP API (issue 14): gateway,
dispatch (the directory) and sla (the SMS gateway, here posting to a real
HTTP server playing the provider, tests/sms_inbox.py) on the real broker and
database, the simulation clock moved by an admin between the steps."""
import re
from datetime import UTC, datetime, timedelta

import pytest
import requests
from nameko.constants import WEB_SERVER_CONFIG_KEY

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway import service as gateway_service
from services.gateway.routes import auth as auth_routes
from services.gateway.service import GatewayService
from services.gateway.tests.sms_inbox import SmsInbox
from services.gateway.tokens import issue_tokens
from services.sla.service import SlaService
from shared.clock import SimulationClock
from shared.config import REPO_ROOT
from shared.outbox import Outbox
from shared.testing.polling import eventually

pytestmark = pytest.mark.integration

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
NOW = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)        # 10:00 in Shanghai
SPEC = {"id": "p01-spec-1", "name": "李思琪", "mobile": "15902010001"}
GM = {"id": "centre-gm", "name": "周明华", "mobile": "13902000101"}
UNKNOWN = "13700000099"
# Small per-address limits, so a test reaches them; the rest as config.yaml says.
AUTH = {"codes_per_address_per_hour": 6, "sign_ins_per_address_per_hour": 12}


class Api:
    def __init__(self, base, token=None):
        self.base, self.token = base, token

    def call(self, method, path, json=None, headers=None, **kwargs):
        sent = dict(headers or {})
        if self.token:
            sent["Authorization"] = f"Bearer {self.token}"
        return requests.request(method, self.base + path, json=json, headers=sent, timeout=30,
                                **kwargs)

    def get(self, path, **kwargs):
        return self.call("GET", path, **kwargs)

    def post(self, path, json=None, **kwargs):
        return self.call("POST", path, json=json, **kwargs)

    def delete(self, path, **kwargs):
        return self.call("DELETE", path, **kwargs)

    def as_token(self, token):
        return Api(self.base, token)


class World:
    def __init__(self, base, admin_token, inbox, database):
        self.public = Api(base)
        self.admin = Api(base, admin_token)
        self.inbox = inbox
        self.database = database

    def advance(self, duration):
        return ok(self.admin.post("/api/admin/clock", {"advance": duration}))

    def ask_code(self, mobile):
        return self.public.post("/api/auth/code", {"mobile": mobile})

    def sign_in(self, mobile, code):
        return self.public.post("/api/auth/session", {"mobile": mobile, "code": code})

    def signed_in(self, person):
        ok(self.ask_code(person["mobile"]), 202)
        session = ok(self.sign_in(person["mobile"], self.inbox.code(person["mobile"])), 201)
        return self.public.as_token(session["token"]), session

    def rows(self, sql, *args):
        with self.database.connection() as conn:
            return conn.execute(sql, args).fetchall()


def ok(response, status=200):
    assert response.status_code == status, response.text
    return response.json()


def error(response, status, code=None):
    assert response.status_code == status, response.text
    body = response.json()["error"]
    if code:
        assert body["code"] == code, body
    return body


def clear_caches():
    auth_routes._mobiles.clear()
    gateway_service._people.clear()


@pytest.fixture
def inbox():
    made = SmsInbox()
    yield made
    made.close()


def start(runner_factory, config, database, inbox, web_config):
    clear_caches()
    SimulationClock(database, cache_seconds=0).set(NOW)
    load_organisation(database, DEMO_FILE, now=NOW, outbox=Outbox("dispatch", "dispatch", "GZ"))
    address = web_config[WEB_SERVER_CONFIG_KEY]
    runner = runner_factory(dict(config, RPC_TIMEOUT=10, SMS=inbox.config(), AUTH=AUTH,
                                 **{WEB_SERVER_CONFIG_KEY: address}),
                            GatewayService, DispatchService, SlaService)
    runner.start()
    admin = issue_tokens(database, [{"id": "admin-1", "name": "马骏"}], NOW)[0]["token"]
    return World(f"http://{address}", admin, inbox, database)


@pytest.fixture
def world(runner_factory, ccrm_config, web_config, clean_database, inbox):
    made = start(runner_factory, ccrm_config, clean_database, inbox, web_config)
    yield made
    clear_caches()


# -- the code, the session, sign-out -------------------------------------------------------

def test_a_code_by_sms_signs_in_and_the_session_works_on_me(world):
    sent = ok(world.ask_code(SPEC["mobile"]), 202)
    assert "验证码已发送" in sent["message"] and sent["resend_after"] == 60
    expires = datetime.fromisoformat(sent["expires_at"])
    assert timedelta(minutes=4, seconds=50) < expires - NOW < timedelta(minutes=5, seconds=30)

    # the provider received the code (template sign_in_code, zh-CN text) ...
    [sms] = world.inbox.to(SPEC["mobile"])
    code = world.inbox.code(SPEC["mobile"])
    assert sms["template_id"] == "sign_in_code" and sms["template_params"]["code"] == code
    assert sms["content"] == (f"【恒大售后】您的登录验证码为 {code}，5 分钟内有效。"
                              "请勿告诉他人；如非本人操作，请忽略本短信。")

    session = ok(world.sign_in(SPEC["mobile"], code), 201)
    assert session["kind"] == "session" and session["person_id"] == SPEC["id"]
    expires_at = datetime.fromisoformat(session["expires_at"])
    assert timedelta(hours=11, minutes=59) < expires_at - NOW < timedelta(hours=12, minutes=1)
    me = ok(world.public.as_token(session["token"]).get("/api/me"))
    assert (me["person_id"], me["name"], me["roles"]) == (SPEC["id"], SPEC["name"],
                                                          ["specialist"])
    # a code signs in once
    used = error(world.sign_in(SPEC["mobile"], code), 400, "invalid_input")
    assert "请先获取验证码" in used["fields"]["code"][0]


def test_codes_are_kept_hashed_and_the_sms_log_shows_them_masked(world):
    ok(world.ask_code(SPEC["mobile"]), 202)
    code = world.inbox.code(SPEC["mobile"])
    [number] = world.rows("SELECT * FROM gateway.sign_in_numbers")
    assert number["person_id"] == SPEC["id"] and re.fullmatch(r"[0-9a-f]{64}", number["code_hash"])
    assert not any(code in str(value) for value in number.values())

    # sla's record of the SMS, and what an admin reads of it, show ****** only
    [row] = world.rows("SELECT * FROM sla.notifications WHERE template = 'sign_in_code'")
    assert row["status"] == "sent" and row["recipient_person_id"] == SPEC["id"]
    assert "******" in row["text"] and row["params"] == {"code": "******", "minutes": 5}
    assert not any(code in str(value) for value in row.values())
    listed = ok(world.admin.get("/api/notifications", params={"template": "sign_in_code"}))
    assert listed["total"] == 1 and code not in str(listed)
    eventually(lambda: world.rows("SELECT body FROM sla.outbox WHERE routing_key = "
                                  "'notification.sent'"))
    assert all(code not in r["body"] for r in world.rows("SELECT body FROM sla.outbox"))


def test_a_session_expires_on_the_simulation_clock(world):
    api, session = world.signed_in(SPEC)
    ok(api.get("/api/me"))
    world.advance("PT11H50M")
    ok(api.get("/api/me"))
    world.advance("PT11M")
    assert "过期" in error(api.get("/api/me"), 401, "unauthenticated")["message"]


def test_sign_out_revokes_that_session_and_an_admin_signs_a_person_out_everywhere(world):
    desk, _ = world.signed_in(SPEC)
    world.advance("PT61S")
    phone, _ = world.signed_in(SPEC)
    gm, _ = world.signed_in(GM)

    assert ok(desk.delete("/api/auth/session")) == {"signed_out": True}
    error(desk.get("/api/me"), 401, "unauthenticated")
    ok(phone.get("/api/me"))            # the other session of the same person stays

    error(gm.delete(f"/api/admin/people/{SPEC['id']}/sessions"), 403, "forbidden")
    revoked = ok(world.admin.delete(f"/api/admin/people/{SPEC['id']}/sessions"))
    assert revoked == {"person_id": SPEC["id"], "revoked": 1}
    error(phone.get("/api/me"), 401, "unauthenticated")
    ok(gm.get("/api/me"))               # nobody else is signed out
    ok(world.admin.get("/api/me"))      # nor an API token


# -- wrong codes, the lock, rate limits ----------------------------------------------------

def test_five_wrong_codes_lock_the_number_and_the_answer_says_until_when(world):
    ok(world.ask_code(SPEC["mobile"]), 202)
    code = world.inbox.code(SPEC["mobile"])
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1):
        refused = error(world.sign_in(SPEC["mobile"], wrong), 400, "invalid_input")
        assert refused["fields"]["code"] == [f"验证码错误，还可尝试 {left} 次 "
                                             f"(wrong code: {left} tries left)"]
    answer = world.sign_in(SPEC["mobile"], wrong)
    locked = error(answer, 429, "locked")
    until = datetime.fromisoformat(locked["locked_until"])
    assert timedelta(minutes=14, seconds=50) < until - NOW < timedelta(minutes=15, seconds=30)
    assert "锁定至 11月10日 10:15" in locked["message"]
    assert locked["fields"]["mobile"] == [locked["message"]]
    assert int(answer.headers["Retry-After"]) == locked["retry_after"]
    assert 850 < locked["retry_after"] <= 900

    # locked: the right code, and a new code, are refused until then
    assert error(world.sign_in(SPEC["mobile"], code), 429, "locked")["locked_until"] == \
        locked["locked_until"]
    error(world.ask_code(SPEC["mobile"]), 429, "locked")
    assert len(world.inbox.to(SPEC["mobile"])) == 1

    world.advance("PT15M")
    ok(world.ask_code(SPEC["mobile"]), 202)
    ok(world.sign_in(SPEC["mobile"], world.inbox.code(SPEC["mobile"])), 201)


def test_codes_are_rate_limited_per_number_and_per_address(world):
    ok(world.ask_code(SPEC["mobile"]), 202)
    again = world.ask_code(SPEC["mobile"])
    refused = error(again, 429, "too_many_requests")
    assert 1 <= int(again.headers["Retry-After"]) <= 60 and "mobile" in refused["fields"]
    assert "请" in refused["message"] and "秒后再试" in refused["message"]
    assert len(world.inbox.to(SPEC["mobile"])) == 1
    world.advance("PT61S")
    ok(world.ask_code(SPEC["mobile"]), 202)       # a minute later: a new code ...
    first, second = [m["template_params"]["code"] for m in world.inbox.to(SPEC["mobile"])]
    if first != second:                           # ... which replaced the old one
        error(world.sign_in(SPEC["mobile"], first), 400, "invalid_input")

    # per address (AUTH: 6 an hour from one address, whatever the numbers)
    for n in range(4):
        ok(world.ask_code(f"1370000{n:04d}"), 202)
    answer = world.ask_code("13700009999")
    refused = error(answer, 429, "too_many_requests")
    assert "fields" not in refused and int(answer.headers["Retry-After"]) > 3000

    # sign-in attempts per address (12 an hour)
    for _ in range(12 - 1):
        world.sign_in(UNKNOWN, "123456")
    error(world.sign_in(GM["mobile"], "123456"), 429, "too_many_requests")


def test_an_unknown_number_gets_the_same_answer_and_no_sms(world):
    known = ok(world.ask_code(SPEC["mobile"]), 202)
    unknown = ok(world.ask_code(UNKNOWN), 202)
    assert unknown.keys() == known.keys()
    assert (unknown["message"], unknown["resend_after"]) == (known["message"],
                                                            known["resend_after"])
    assert world.inbox.to(UNKNOWN) == []
    assert world.rows("SELECT 1 FROM sla.notifications WHERE mobile = %s", UNKNOWN) == []
    # and trying codes on it goes exactly as on a known number
    refused = error(world.sign_in(UNKNOWN, "123456"), 400, "invalid_input")
    assert refused["fields"]["code"][0].startswith("验证码错误，还可尝试 4 次")
    assert error(world.ask_code(UNKNOWN), 429, "too_many_requests")["fields"]["mobile"]


def test_a_failed_sms_is_a_503_and_sla_keeps_it_masked(world):
    world.inbox.status = 500
    refused = error(world.ask_code(SPEC["mobile"]), 503, "unavailable")
    assert "短信发送失败" in refused["message"]
    [row] = world.rows("SELECT * FROM sla.notifications WHERE template = 'sign_in_code'")
    assert row["status"] == "failed" and row["next_attempt_at"] is None   # never retried
    assert "******" in row["text"]


def test_bad_input_is_refused_field_by_field(world):
    assert "mobile" in error(world.public.post("/api/auth/code", {"mobile": "020-12345678"}),
                             400)["fields"]
    assert "mobile" in error(world.public.post("/api/auth/code", {}), 400)["fields"]
    refused = error(world.sign_in(SPEC["mobile"], "12a456"), 400)
    assert refused["fields"]["code"] == ["验证码为 6 位数字 (the code is 6 digits)"]
    error(world.public.delete("/api/auth/session"), 401, "unauthenticated")


# -- API tokens for machine clients --------------------------------------------------------

def test_an_admin_issues_lists_and_revokes_api_tokens(world):
    answer = world.admin.post("/api/admin/tokens", {"person_id": "hr-1", "label": "报表同步"},
                              headers={"Idempotency-Key": "issue-1"})
    issued = ok(answer, 201)
    assert answer.headers["Cache-Control"] == "no-store"
    assert issued["kind"] == "api" and issued["label"] == "报表同步"
    assert issued["issued_by"] == "admin-1" and len(issued["token"]) >= 40
    machine = world.public.as_token(issued["token"])
    assert ok(machine.get("/api/me"))["person_id"] == "hr-1"
    # the secret is nowhere: not in the list, not kept for a replay
    listed = ok(world.admin.get("/api/admin/tokens", params={"kind": "api"}))
    assert listed["total"] == 2 and listed["limit"] == 50 and listed["offset"] == 0
    assert issued["token"] not in str(listed) and "token" not in listed["items"][0]
    assert not any(issued["token"] in str(r) for r in world.rows("SELECT * FROM "
                                                                 "gateway.idempotency"))
    assert not any(issued["token"] in str(r) for r in world.rows("SELECT * FROM gateway.tokens"))

    error(world.admin.post("/api/admin/tokens", {"person_id": "nobody", "label": "x"}), 404)
    spec, _ = world.signed_in(SPEC)
    error(spec.post("/api/admin/tokens", {"person_id": "hr-1", "label": "x"}), 403)
    error(spec.get("/api/admin/tokens"), 403)

    revoked = ok(world.admin.delete(f"/api/admin/tokens/{issued['id']}"))
    assert revoked["id"] == issued["id"] and revoked["revoked_at"]
    error(machine.get("/api/me"), 401, "unauthenticated")
    error(world.admin.delete("/api/admin/tokens/999999"), 404, "not_found")
    error(world.admin.delete("/api/admin/tokens/abc"), 404, "not_found")
    sessions = ok(world.admin.get("/api/admin/tokens", params={"kind": "session"}))
    assert [s["person_id"] for s in sessions["items"]] == [SPEC["id"]]
    assert ok(world.admin.get("/api/admin/tokens", params={"state": "all", "kind": "api"})
              )["total"] == 2


# -- simulation mode's picker --------------------------------------------------------------

def test_the_simulation_picker_lists_the_demo_people_and_signs_in_with_one_click(world):
    people = ok(world.public.get("/api/auth/demo-people"))["items"]
    by_id = {p["person_id"]: p for p in people}
    assert by_id[SPEC["id"]]["name"] == SPEC["name"]
    assert by_id[SPEC["id"]]["role_labels"] == ["客服专员"]
    assert "mobile" not in by_id[SPEC["id"]]
    session = ok(world.public.post("/api/auth/demo-session", {"person_id": "centre-gm"}), 201)
    assert session["kind"] == "demo"
    api = world.public.as_token(session["token"])
    assert ok(api.get("/api/me"))["name"] == GM["name"]
    world.advance("P2D")                      # the demo clock does not sign the picker out
    ok(api.get("/api/me"))
    error(world.public.post("/api/auth/demo-session", {"person_id": "nobody"}), 404)


def test_without_simulation_mode_the_picker_does_not_exist(runner_factory, ccrm_config,
                                                            web_config, clean_database, inbox):
    world = start(runner_factory, dict(ccrm_config, SIMULATION=False), clean_database, inbox,
                  web_config)
    error(world.public.get("/api/auth/demo-people"), 404, "not_found")
    error(world.public.post("/api/auth/demo-session", {"person_id": "centre-gm"}), 404)
    # sign-in by code works the same
    api, _ = world.signed_in(SPEC)
    assert ok(api.get("/api/me"))["person_id"] == SPEC["id"]
    clear_caches()
