"""Signing in and out (SPEC §8, §10; issue 14): a one-time SMS code, the
session it gives, the simulation mode's picker of demo people, and the API
tokens an admin issues to machine clients.

A mixin of GatewayService: needs `self.db`, `self.clock`, `self.config`,
`self.client()` (dispatch for the directory, sla for the SMS) and
`self.person()`. The rules are services/gateway/sign_in.py's; the code's
SMS goes through sla's SMS gateway (`SlaClient.send_sign_in_code`).
"""
import functools
import logging
import time
from datetime import timedelta

from services.gateway import sign_in_store as store
from services.gateway.api import json_response, route
from services.gateway.auth import TOKEN_TTL, TokenRepository, bearer_token
from services.gateway.auth_schemas import (
    CodeRequest,
    CodeSent,
    DemoPeople,
    DemoSessionRequest,
    SessionRequest,
    SessionsRevoked,
    SessionView,
    SignedOut,
    TokenIssued,
    TokenPage,
    TokenQuery,
    TokenRequest,
    TokenView,
)
from services.gateway.routes.web import PAGES, serve
from services.gateway.sign_in import (
    CODE_SENT,
    EXPIRED,
    NO_CODE,
    WRONG,
    SignInSettings,
    Throttled,
    issue_code,
    locked,
    new_code,
    new_salt,
    try_code,
    wait_for_attempt,
    wait_for_code,
)
from services.gateway.web_server import http
from shared import roles
from shared.clock import system_now
from shared.contracts.dispatch import DispatchClient
from shared.contracts.sla import SlaClient
from shared.errors import InvalidInput, NotFound, Unauthenticated, Unavailable

log = logging.getLogger(__name__)

TAGS = ["sign-in"]
ADMIN = {roles.ADMIN}
MOBILES_CACHE_SECONDS = 30
_mobiles = {}     # "map" -> (read_at, {mobile: person}): the directory's active people


def no_store(response):
    """Credentials are never cached (nor kept for an Idempotency-Key replay)."""
    response.headers["Cache-Control"] = "no-store"
    return response


def answers_429(fn):
    """A Throttled refusal as SPEC §10's body with its Retry-After header."""

    @functools.wraps(fn)
    def handler(self, request, principal, payload, **path_args):
        try:
            return fn(self, request, principal=principal, payload=payload, **path_args)
        except Throttled as exc:
            response = json_response(exc.status, exc.to_body())
            response.headers["Retry-After"] = str(exc.retry_after)
            return response

    return handler


def client_address(request, settings):
    """The caller's address: the socket's, or (behind the group's own proxy,
    `AUTH.trust_forwarded_for`) the last X-Forwarded-For hop, the one that
    proxy added."""
    if settings.trust_forwarded_for:
        hops = [h.strip() for h in (request.headers.get("X-Forwarded-For") or "").split(",")]
        if hops and hops[-1]:
            return hops[-1][:100]
    return request.remote_addr or "unknown"


def _session_view(issued, person):
    return no_store(json_response(201, SessionView().dump({
        "token": issued["token"], "expires_at": issued["expires_at"], "kind": issued["kind"],
        "person_id": person["id"], "name": person["name"]})))


class AuthRoutes:

    @http("GET", "/signin")
    def web_signin(self, request):
        return serve(request, PAGES.get("signin.html"))

    def sign_in_settings(self):
        return SignInSettings.from_config(self.config)

    def person_by_mobile(self, mobile):
        """The directory's active person with this mobile number, or None."""
        cached = _mobiles.get("map")
        if cached is None or time.monotonic() - cached[0] > MOBILES_CACHE_SECONDS:
            people = self.client(DispatchClient).list_people()
            by_mobile = {}
            for person in sorted(people, key=lambda p: p["id"]):
                if person.get("active", True) and person.get("mobile"):
                    by_mobile.setdefault(person["mobile"], person)
            cached = (time.monotonic(), by_mobile)
            _mobiles["map"] = cached
        return cached[1].get(mobile)

    # -- the SMS code ------------------------------------------------------------------

    @route("POST", "/api/auth/code", summary="获取登录验证码 (send a sign-in code by SMS)",
           public=True, body=CodeRequest, response=CodeSent, status=202, tags=TAGS,
           description="A 6-digit code by SMS (template `sign_in_code`), valid 5 minutes; a new "
           "request replaces the previous code. Every number gets the same answer, but only "
           "a person of the directory gets an SMS. 429 with Retry-After when asked too often "
           "(per number and per client address) or while the number is locked "
           "(`error.locked_until`).")
    @answers_429
    def request_sign_in_code(self, request, principal, payload):
        settings = self.sign_in_settings()
        mobile = payload["mobile"]
        address = client_address(request, settings)
        person = self.person_by_mobile(mobile)            # an RPC: before the transaction
        code = new_code()
        now = self.clock.now()
        with self.db.transaction() as conn:
            store.lock_number(conn, mobile)
            state = store.number(conn, mobile)
            if state is not None and state.current(now).locked_at(now):
                raise locked(state.locked_until, now, self.clock.zone)
            refusal = wait_for_code(
                store.hits(conn, store.CODE_BY_NUMBER, mobile, now, settings.window),
                store.hits(conn, store.CODE_BY_ADDRESS, address, now, settings.window),
                settings, now)
            if refusal is not None:
                raise refusal
            store.add_hit(conn, store.CODE_BY_NUMBER, mobile, now)
            store.add_hit(conn, store.CODE_BY_ADDRESS, address, now)
            store.prune_hits(conn, now)
            issued = issue_code(state, mobile, person["id"] if person else None, code,
                                new_salt(), now, settings)
            store.save_number(conn, issued)
        minutes = max(1, round(settings.code_ttl.total_seconds() / 60))
        if person is not None:
            sent = self.client(SlaClient).send_sign_in_code(
                mobile, code, person_id=person["id"], name=person["name"],
                valid_minutes=minutes)
            if sent.get("status") != "sent":
                raise Unavailable("短信发送失败，请稍后重试 (the SMS could not be sent: "
                                  "try again later)")
        return 202, CodeSent().dump({
            "message": CODE_SENT.format(minutes=minutes),
            "expires_at": issued.code_expires_at.astimezone(self.clock.zone),
            "resend_after": int(settings.resend_interval.total_seconds()),
            "valid_minutes": minutes})

    @route("POST", "/api/auth/session", summary="验证码登录 (sign in with the SMS code)",
           public=True, body=SessionRequest, response=SessionView, status=201, tags=TAGS,
           description="The number and its code give a session token that expires "
           "(`AUTH.session_hours`, 12 h). A wrong code says how many tries are left; the "
           "fifth locks the number (`AUTH.lock_minutes`, 15) and the 429 says until when.")
    @answers_429
    def create_session(self, request, principal, payload):
        settings = self.sign_in_settings()
        mobile, code = payload["mobile"], payload["code"]
        address = client_address(request, settings)
        now = self.clock.now()
        with self.db.transaction() as conn:
            refusal = wait_for_attempt(
                store.hits(conn, store.SIGN_IN_BY_ADDRESS, address, now, settings.window),
                settings, now)
            if refusal is not None:
                raise refusal
            store.add_hit(conn, store.SIGN_IN_BY_ADDRESS, address, now)
            store.lock_number(conn, mobile)
            state = store.number(conn, mobile)
            verdict = try_code(state, mobile, code, now, settings)
            if state is not None:
                store.save_number(conn, verdict.state)       # the count and lock are kept
        if verdict.outcome == "locked":
            raise locked(verdict.state.locked_until, now, self.clock.zone)
        if verdict.outcome != "ok":
            message = {"wrong": WRONG.format(left=verdict.left), "expired": EXPIRED,
                       "none": NO_CODE}[verdict.outcome]
            raise InvalidInput({"code": [message]}, message)
        person = self.person(verdict.person_id)
        if not person.get("active", True):
            raise Unauthenticated("该人员已不在组织架构中 (person no longer in the directory)")
        with self.db.transaction() as conn:
            issued = TokenRepository(conn).issue(
                person["id"], now, expires_at=now + settings.session_ttl, kind="session",
                label=(request.headers.get("User-Agent") or "")[:100] or None)
        log.info("signed in by SMS code: %s", person["id"])
        return _session_view(issued, person)

    @route("DELETE", "/api/auth/session", summary="退出登录 (sign out: revoke this session)",
           response=SignedOut, tags=TAGS)
    def delete_session(self, request, principal, payload):
        token = bearer_token(request.headers.get("Authorization"))
        with self.db.transaction() as conn:
            TokenRepository(conn).revoke_token(token, self.clock.now())
        self.tokens.forget_all()        # this process at once; the others by NOTIFY
        return {"signed_out": True}

    @route("DELETE", "/api/admin/people/<person_id>/sessions",
           summary="强制退出登录 (sign a person out everywhere)", roles=ADMIN,
           response=SessionsRevoked, tags=TAGS,
           description="Revokes every session the person holds (SMS and demo sign-ins); their "
           "API tokens stay (DELETE /api/admin/tokens/{id}).")
    def revoke_person_sessions(self, request, principal, payload, person_id):
        with self.db.transaction() as conn:
            count = TokenRepository(conn).revoke_sessions(person_id, self.clock.now())
        self.tokens.forget_all()
        log.info("%s signed %s out everywhere (%s sessions)", principal.person_id, person_id,
                 count)
        return {"person_id": person_id, "revoked": count}

    # -- simulation mode: pick a demo person -------------------------------------------

    def _require_simulation(self):
        if not self.clock.simulated:
            raise NotFound("没有这个地址 (no such URL: only in simulation mode)")

    @route("GET", "/api/auth/demo-people",
           summary="演示人员（仅模拟模式）(the demo people to sign in as; simulation only)",
           public=True, response=DemoPeople, tags=TAGS,
           description="Only in simulation mode (`CCRM_SIMULATION`); 404 otherwise.")
    def list_demo_people(self, request, principal, payload):
        self._require_simulation()
        people = self.client(DispatchClient).list_people()
        order = {role: n for n, role in enumerate(roles.LABELS_ZH)}
        people = sorted((p for p in people if p.get("active", True)), key=lambda p: (
            min((order.get(r, 99) for r in p.get("roles") or ()), default=99), p["id"]))
        return {"items": [{
            "person_id": p["id"], "name": p["name"], "roles": p.get("roles") or [],
            "role_labels": [roles.LABELS_ZH.get(r, r) for r in p.get("roles") or ()],
            "unit_name": p.get("unit_name")} for p in people]}

    @route("POST", "/api/auth/demo-session",
           summary="以演示人员登录（仅模拟模式）(sign in as a demo person; simulation only)",
           public=True, body=DemoSessionRequest, response=SessionView, status=201, tags=TAGS,
           description="Only in simulation mode; 404 otherwise. The session expires like a "
           "sign-in by code, in real time (moving the demo clock does not sign anyone out).")
    def create_demo_session(self, request, principal, payload):
        self._require_simulation()
        person = self.client(DispatchClient).get_person(payload["person_id"])
        if not person.get("active", True):
            raise NotFound("该人员已不在组织架构中 (person no longer in the directory)")
        settings = self.sign_in_settings()
        with self.db.transaction() as conn:
            issued = TokenRepository(conn).issue(
                person["id"], self.clock.now(), expires_at=system_now() + settings.session_ttl,
                kind="demo", label="模拟模式演示登录 (simulation picker)")
        return _session_view(issued, person)

    # -- API tokens for machine clients ------------------------------------------------

    @route("POST", "/api/admin/tokens", summary="签发接口令牌 (issue an API token)",
           roles=ADMIN, body=TokenRequest, response=TokenIssued, status=201, tags=TAGS,
           description="A bearer token acting as the person, for a machine client. The token "
           "is in this answer only (never stored, nor replayed for an Idempotency-Key: a "
           "retry issues another one). Expires in real time (default 30 days).")
    def issue_api_token(self, request, principal, payload):
        person = self.client(DispatchClient).get_person(payload["person_id"])
        lifetime = timedelta(days=payload["valid_days"]) if payload["valid_days"] else TOKEN_TTL
        with self.db.transaction() as conn:
            issued = TokenRepository(conn).issue(
                person["id"], self.clock.now(), expires_at=system_now() + lifetime,
                kind="api", label=payload["label"], issued_by=principal.person_id)
        log.info("%s issued API token %s for %s", principal.person_id, issued["id"],
                 person["id"])
        return no_store(json_response(201, TokenIssued().dump(issued)))

    @route("GET", "/api/admin/tokens", summary="令牌与会话列表 (API tokens and sessions)",
           roles=ADMIN, query=TokenQuery, response=TokenPage, tags=TAGS,
           description="Newest first, never with a secret. `kind`: api, session or demo; "
           "`state=active` (default: neither revoked nor expired) or `all`.")
    def list_api_tokens(self, request, principal, payload):
        with self.db.connection() as conn:
            rows, total = TokenRepository(conn).listed(
                person_id=payload["person_id"], kind=payload["kind"],
                active_only=payload["state"] == "active", real_now=system_now(),
                now=self.clock.now(), limit=payload["limit"], offset=payload["offset"])
        return {"items": TokenView(many=True).dump(rows), "total": total,
                "limit": payload["limit"], "offset": payload["offset"]}

    @route("DELETE", "/api/admin/tokens/<token_id>",
           summary="吊销令牌或会话 (revoke an API token or a session)", roles=ADMIN,
           response=TokenView, tags=TAGS)
    def revoke_api_token(self, request, principal, payload, token_id):
        row = None
        if token_id.isdigit() and len(token_id) < 19:
            with self.db.transaction() as conn:
                row = TokenRepository(conn).revoke_id(int(token_id), self.clock.now())
            self.tokens.forget_all()
        if row is None:
            raise NotFound(f"没有这个令牌 (no token {token_id})")
        return TokenView().dump(row)
