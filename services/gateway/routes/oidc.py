"""Sign-in through the group's OpenID Connect provider (issue 14), beside
the SMS code (routes/auth.py): off unless `OIDC.enabled` (config.yaml).

1. `GET /api/auth/oidc/start?next=/path`: a new attempt (state, nonce,
   PKCE verifier) kept in gateway.oidc_logins, the state also in an HttpOnly
   cookie of this browser; 302 to the provider's authorization endpoint.
2. `GET /api/auth/oidc/callback?code&state`: the state must be this
   browser's (the cookie) and an unused, unexpired attempt; the code is
   exchanged (with the verifier) for the ID token, which is checked
   (services/gateway/oidc.py); its claim names a person of the directory.
   302 to `/signin?oidc=<one-time hand-off code>&next=...`.
3. The sign-in page trades the hand-off for a session
   (`POST /api/auth/oidc/session`): the same kind of session an SMS code gives,
   kept by the page the same way. No session token is ever in a URL.

Any failure lands on `/signin?oidc_error=<reason>` (oidc.REASONS), which
the page says in words; no session is made. The detail goes to the log.
"""
import logging
import secrets
from datetime import timedelta
from urllib.parse import urlencode

from werkzeug.utils import redirect

from services.gateway import oidc
from services.gateway import oidc_store as store
from services.gateway.api import route
from services.gateway.auth import TokenRepository
from services.gateway.auth_schemas import OidcHandoff, OidcInfo, SessionView
from services.gateway.oidc import OidcFailure, OidcSettings, ProviderMetadata
from services.gateway.routes.auth import _session_view, no_store
from shared.clock import system_now
from shared.contracts.dispatch import DispatchClient
from shared.errors import NotFound, Unauthenticated

log = logging.getLogger(__name__)

TAGS = ["sign-in"]
START_PATH = "/api/auth/oidc/start"
COOKIE = "ccrm_oidc_state"
COOKIE_PATH = "/api/auth/oidc"
ATTEMPT_TTL = timedelta(minutes=10)       # from the start to the callback
HANDOFF_TTL = timedelta(seconds=60)       # from the callback to the page's POST
_metadata = {}                            # OidcSettings -> ProviderMetadata (cached documents)


def safe_next(value):
    """A path on this site to land on after signing in, else None."""
    if (isinstance(value, str) and value.startswith("/") and not value.startswith("//")
            and "\\" not in value and len(value) <= 500 and not value.startswith("/signin")):
        return value
    return None


def to_signin(**params):
    query = urlencode({k: v for k, v in params.items() if v})
    response = no_store(redirect("/signin" + (f"?{query}" if query else ""), 302))
    response.delete_cookie(COOKIE, path=COOKIE_PATH)
    return response


class OidcRoutes:
    """Needs AuthRoutes (person_by_mobile), `self.db`, `self.clock`, `self.config`."""

    def oidc_settings(self):
        """The settings, or None when OIDC is off; a misconfiguration is
        logged and treated as off, with its reason."""
        try:
            return OidcSettings.from_config(self.config)
        except ValueError as exc:
            log.error("OIDC sign-in is misconfigured: %s", exc)
            raise OidcFailure(oidc.NOT_CONFIGURED, str(exc)) from None

    def oidc_metadata(self, settings):
        if settings not in _metadata:
            _metadata[settings] = ProviderMetadata(settings)
        return _metadata[settings]

    @route("GET", "/api/auth/oidc", summary="集团账号登录是否可用 (is OIDC sign-in on)",
           public=True, response=OidcInfo, tags=TAGS,
           description="The sign-in page shows 使用集团账号登录 only when `enabled`.")
    def oidc_info(self, request, principal, payload):
        try:
            on = self.oidc_settings() is not None
        except OidcFailure:
            on = False
        return {"enabled": on, "start_url": START_PATH if on else None}

    @route("GET", START_PATH, summary="跳转集团账号登录 (start signing in at the OIDC provider)",
           public=True, tags=TAGS,
           description="302 to the provider (authorization code, PKCE S256, state, nonce); "
           "`next`: a path to land on once signed in. A failure redirects to "
           "`/signin?oidc_error=<reason>`.")
    def oidc_start(self, request, principal, payload):
        try:
            settings = self.oidc_settings()
            if settings is None:
                raise OidcFailure(oidc.NOT_CONFIGURED, "OIDC.enabled is false")
            attempt = oidc.new_attempt()
            url = oidc.authorization_url(settings, self.oidc_metadata(settings), attempt)
        except OidcFailure as failure:
            log.warning("OIDC sign-in could not start (%s): %s", failure.reason, failure)
            return to_signin(oidc_error=failure.reason)
        now = system_now()
        with self.db.transaction() as conn:
            store.prune(conn, now)
            store.save_attempt(conn, attempt, safe_next(request.args.get("next")), now,
                               ATTEMPT_TTL)
        response = no_store(redirect(url, 302))
        response.set_cookie(COOKIE, attempt.state, max_age=int(ATTEMPT_TTL.total_seconds()),
                            path=COOKIE_PATH, httponly=True, samesite="Lax",
                            secure=settings.redirect_url.startswith("https://"))
        return response

    @route("GET", "/api/auth/oidc/callback",
           summary="集团账号登录回调 (the OIDC provider's redirect back)", public=True,
           tags=TAGS, description="The provider sends the browser here with `code` and "
           "`state` (or `error`). 302 to `/signin?oidc=<one-time code>` when the ID token "
           "checks out and names a person of the directory, else to "
           "`/signin?oidc_error=<reason>`: not_configured, provider, state, denied, token, "
           "unknown_person.")
    def oidc_callback(self, request, principal, payload):
        next_path = None
        try:
            person, state, next_path = self._finish_oidc(request)
        except OidcFailure as failure:
            log.warning("OIDC sign-in failed (%s): %s", failure.reason, failure)
            return to_signin(oidc_error=failure.reason, next=next_path)
        handoff = secrets.token_urlsafe(32)
        with self.db.transaction() as conn:
            store.set_handoff(conn, state, person["id"], handoff, system_now(), HANDOFF_TTL)
        log.info("signed in through OIDC: %s", person["id"])
        return to_signin(oidc=handoff, next=next_path)

    def _finish_oidc(self, request):
        """(person, state, next path) of a good callback; OidcFailure otherwise."""
        settings = self.oidc_settings()
        if settings is None:
            raise OidcFailure(oidc.NOT_CONFIGURED, "OIDC.enabled is false")
        state = request.args.get("state") or ""
        cookie = request.cookies.get(COOKIE) or ""
        if not state or not secrets.compare_digest(state.encode(), cookie.encode()):
            raise OidcFailure(oidc.STATE, "the state is not the one this browser started with")
        with self.db.transaction() as conn:
            taken = store.take_attempt(conn, state, system_now())
        if taken is None:
            raise OidcFailure(oidc.STATE, "unknown, used or expired state")
        attempt, next_path = taken
        if request.args.get("error"):
            raise OidcFailure(oidc.DENIED, f"the provider said {request.args.get('error')}: "
                                           f"{request.args.get('error_description', '')[:200]}")
        code = request.args.get("code")
        if not code:
            raise OidcFailure(oidc.PROVIDER, "the callback has no code")
        metadata = self.oidc_metadata(settings)
        id_token = oidc.exchange_code(settings, metadata, code, attempt)
        claims = oidc.verify_id_token(settings, metadata, id_token, attempt.nonce,
                                      system_now().timestamp())
        return self._oidc_person(settings, claims), state, next_path

    def _oidc_person(self, settings, claims):
        key = oidc.person_key(settings, claims)
        if settings.person_match == "mobile":
            person = self.person_by_mobile(key)
        else:
            try:
                person = self.client(DispatchClient).get_person(key)
            except NotFound:
                person = None
        if person is None or not person.get("active", True):
            raise OidcFailure(oidc.UNKNOWN_PERSON,
                              f"{settings.person_claim}={key!r} is no active person of the "
                              f"directory (sub {claims.get('sub')!r})")
        return person

    @route("POST", "/api/auth/oidc/session",
           summary="集团账号登录：换取会话 (trade the OIDC hand-off for a session)",
           public=True, body=OidcHandoff, response=SessionView, status=201, tags=TAGS,
           description="The one-time code of the callback's redirect, within 60 s, gives "
           "the same session an SMS code does (`AUTH.session_hours`). 401 when it is "
           "unknown, used or expired.")
    def create_oidc_session(self, request, principal, payload):
        with self.db.transaction() as conn:
            person_id = store.take_handoff(conn, payload["handoff"], system_now())
        if person_id is None:
            raise Unauthenticated("集团账号登录已失效，请重新登录 (the sign-in expired or was "
                                  "used: sign in again)")
        person = self.person(person_id)
        if not person.get("active", True):
            raise Unauthenticated("该人员已不在组织架构中 (person no longer in the directory)")
        now = self.clock.now()
        with self.db.transaction() as conn:
            issued = TokenRepository(conn).issue(
                person["id"], now, expires_at=now + self.sign_in_settings().session_ttl,
                kind="session", label="集团账号登录 (OIDC)")
        return _session_view(issued, person)
