"""Sign-in through the group's OpenID Connect provider (issue 14): the
gateway and dispatch (the directory) on the real broker and database, and a
small OIDC provider on a real local HTTP server (tests/oidc_provider.py) that
checks PKCE and the client's secret and signs ID tokens with an RSA key. The
browser is played by a requests session that follows no redirect by itself,
so each hop is seen; it keeps the gateway's state cookie as a browser would."""
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from nameko.constants import WEB_SERVER_CONFIG_KEY

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway import oidc
from services.gateway import service as gateway_service
from services.gateway.routes import auth as auth_routes
from services.gateway.routes import oidc as oidc_routes
from services.gateway.service import GatewayService
from services.gateway.tests.oidc_provider import OidcProvider
from shared.clock import SimulationClock
from shared.config import REPO_ROOT
from shared.outbox import Outbox

pytestmark = pytest.mark.integration

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
NOW = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
SPEC = {"id": "p01-spec-1", "name": "李思琪", "mobile": "15902010001"}


def clear_caches():
    auth_routes._mobiles.clear()
    oidc_routes._metadata.clear()
    gateway_service._people.clear()


class Browser:
    """Follows the redirects one hop at a time, keeping cookies."""

    def __init__(self, base):
        self.base = base
        self.session = requests.Session()

    def get(self, url, **kwargs):
        url = url if url.startswith("http") else self.base + url
        return self.session.get(url, allow_redirects=False, timeout=20, **kwargs)

    def sign_in(self, next_path=None):
        """start -> provider -> callback; the callback's answer."""
        start = self.get("/api/auth/oidc/start", params={"next": next_path} if next_path else None)
        assert start.status_code == 302, start.text
        if not start.headers["Location"].startswith("http"):
            return start                              # failed at once, back to /signin
        at_provider = self.get(start.headers["Location"])
        assert at_provider.status_code == 302, at_provider.text
        return self.get(at_provider.headers["Location"])


def landed(response):
    """The /signin query the browser lands on."""
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["Location"])
    assert location.path == "/signin" and not location.netloc, response.headers["Location"]
    assert response.headers["Cache-Control"] == "no-store"
    return {k: v[0] for k, v in parse_qs(location.query).items()}


@pytest.fixture
def provider():
    made = OidcProvider(user={"preferred_username": SPEC["id"], "name": SPEC["name"],
                              "phone_number": "+86 159 0201 0001"})
    yield made
    made.close()


@pytest.fixture
def start_gateway(runner_factory, ccrm_config, web_config, clean_database):
    def start(oidc_section):
        clear_caches()
        SimulationClock(clean_database, cache_seconds=0).set(NOW)
        load_organisation(clean_database, DEMO_FILE, now=NOW,
                          outbox=Outbox("dispatch", "dispatch", "GZ"))
        address = web_config[WEB_SERVER_CONFIG_KEY]
        config = dict(ccrm_config, RPC_TIMEOUT=10, **{WEB_SERVER_CONFIG_KEY: address})
        if oidc_section is not None:
            config["OIDC"] = oidc_section(f"http://{address}/api/auth/oidc/callback")
        runner_factory(config, GatewayService, DispatchService).start()
        return f"http://{address}"
    yield start
    clear_caches()


@pytest.fixture
def gateway(start_gateway, provider):
    return start_gateway(provider.config)


def rows(database, sql):
    with database.connection() as conn:
        return conn.execute(sql).fetchall()


# -- the happy path ----------------------------------------------------------------------

def test_signing_in_at_the_provider_gives_a_session_that_works_once(gateway, provider,
                                                                    clean_database):
    assert requests.get(gateway + "/api/auth/oidc", timeout=10).json() == {
        "enabled": True, "start_url": "/api/auth/oidc/start"}
    browser = Browser(gateway)
    start = browser.get("/api/auth/oidc/start", params={"next": "/complaints?due=today"})
    assert start.status_code == 302
    asked = {k: v[0] for k, v in parse_qs(urlsplit(start.headers["Location"]).query).items()}
    assert start.headers["Location"].startswith(provider.issuer + "/authorize?")
    assert asked["code_challenge_method"] == "S256" and asked["client_id"] == "ccrm-console"
    assert asked["redirect_uri"] == gateway + "/api/auth/oidc/callback"
    assert asked["state"] and asked["nonce"] and asked["state"] != asked["nonce"]
    cookie = start.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/api/auth/oidc" in cookie
    [kept] = rows(clean_database, "SELECT * FROM gateway.oidc_logins")
    assert asked["state"] not in str(dict(kept))              # the state only as its hash

    callback = browser.get(browser.get(start.headers["Location"]).headers["Location"])
    query = landed(callback)
    assert set(query) == {"oidc", "next"} and query["next"] == "/complaints?due=today"
    assert provider.token_requests[0]["code_verifier"]
    session = requests.post(gateway + "/api/auth/oidc/session",
                            json={"handoff": query["oidc"]}, timeout=10)
    assert session.status_code == 201, session.text
    body = session.json()
    assert (body["kind"], body["person_id"], body["name"]) == ("session", SPEC["id"],
                                                               SPEC["name"])
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(hours=11, minutes=59) < expires - NOW < timedelta(hours=12, minutes=1)
    me = requests.get(gateway + "/api/me", timeout=10,
                      headers={"Authorization": f"Bearer {body['token']}"}).json()
    assert (me["person_id"], me["roles"]) == (SPEC["id"], ["specialist"])
    # the hand-off and the callback each work once
    again = requests.post(gateway + "/api/auth/oidc/session", json={"handoff": query["oidc"]},
                          timeout=10)
    assert again.status_code == 401 and "重新登录" in again.json()["error"]["message"]
    assert landed(browser.get(callback.request.url)) == {"oidc_error": "state"}
    # signing out ends it like any session
    requests.delete(gateway + "/api/auth/session", timeout=10,
                    headers={"Authorization": f"Bearer {body['token']}"})
    assert requests.get(gateway + "/api/me", timeout=10, headers={
        "Authorization": f"Bearer {body['token']}"}).status_code == 401


def test_a_mobile_claim_maps_to_the_person_with_that_number(start_gateway, provider):
    gateway = start_gateway(lambda url: provider.config(url, person_claim="phone_number",
                                                        person_match="mobile"))
    query = landed(Browser(gateway).sign_in())
    session = requests.post(gateway + "/api/auth/oidc/session", json={"handoff": query["oidc"]},
                            timeout=10).json()
    assert session["person_id"] == SPEC["id"]


# -- what must fail, with no session -------------------------------------------------------

@pytest.mark.parametrize("override, why", [
    ({"nonce": "not-the-nonce"}, "wrong nonce"),
    ({"aud": "another-client"}, "wrong audience"),
    ({"exp": int(datetime.now(UTC).timestamp()) - 600}, "expired"),
    ({"iss": "http://127.0.0.1:1"}, "another issuer"),
])
def test_an_id_token_that_fails_a_check_signs_nobody_in(gateway, provider, clean_database,
                                                         override, why):
    provider.claims_override = override
    assert landed(Browser(gateway).sign_in()) == {"oidc_error": "token"}, why
    assert rows(clean_database, "SELECT * FROM gateway.tokens") == []
    assert rows(clean_database, "SELECT * FROM gateway.oidc_logins "
                                "WHERE handoff_sha256 IS NOT NULL") == []


def test_a_token_signed_with_a_key_not_in_the_jwks_is_refused(gateway, provider):
    from joserfc.jwk import RSAKey
    provider.sign_with = RSAKey.generate_key(2048, parameters={"kid": "k1"})
    assert landed(Browser(gateway).sign_in()) == {"oidc_error": "token"}


def test_a_wrong_or_foreign_state_is_refused(gateway, provider):
    browser = Browser(gateway)
    start = browser.get("/api/auth/oidc/start")
    back = browser.get(start.headers["Location"]).headers["Location"]
    code = parse_qs(urlsplit(back).query)["code"][0]
    wrong = browser.get("/api/auth/oidc/callback", params={"code": code, "state": "forged"})
    assert landed(wrong) == {"oidc_error": "state"}
    # another browser (no cookie) brings a real state: a login CSRF, refused
    stranger = Browser(gateway)
    assert landed(stranger.get(back)) == {"oidc_error": "state"}
    assert provider.token_requests == []                  # the code was never exchanged


def test_an_unknown_subject_or_a_refusal_says_why(gateway, provider, clean_database):
    provider.user["preferred_username"] = "nobody-here"
    assert landed(Browser(gateway).sign_in()) == {"oidc_error": "unknown_person"}
    provider.deny = "access_denied"
    assert landed(Browser(gateway).sign_in()) == {"oidc_error": "denied"}
    assert rows(clean_database, "SELECT * FROM gateway.tokens") == []


def test_a_provider_that_is_down_says_so(gateway, provider):
    provider.close()
    assert landed(Browser(gateway).sign_in()) == {"oidc_error": "provider"}


def test_off_by_default(start_gateway):
    gateway = start_gateway(None)
    assert requests.get(gateway + "/api/auth/oidc", timeout=10).json() == {
        "enabled": False, "start_url": None}
    assert landed(Browser(gateway).sign_in()) == {"oidc_error": "not_configured"}
    refused = requests.post(gateway + "/api/auth/oidc/session", json={"handoff": "x" * 20},
                            timeout=10)
    assert refused.status_code == 401


# -- the settings ---------------------------------------------------------------------------

def test_settings_are_off_unless_enabled_and_name_what_is_missing():
    assert oidc.OidcSettings.from_config({}) is None
    assert oidc.OidcSettings.from_config({"OIDC": {"enabled": "false"}}) is None
    with pytest.raises(ValueError, match="OIDC.client_id, OIDC.redirect_url"):
        oidc.OidcSettings.from_config({"OIDC": {"enabled": True, "issuer": "https://sso/"}})
    with pytest.raises(ValueError, match="person_match"):
        oidc.OidcSettings.from_config({"OIDC": {
            "enabled": True, "issuer": "https://sso", "client_id": "c",
            "redirect_url": "https://ccrm/cb", "person_match": "email"}})
    made = oidc.OidcSettings.from_config({"OIDC": {
        "enabled": "true", "issuer": "https://sso.example.com/realms/group/", "client_id": "c",
        "redirect_url": "https://ccrm/api/auth/oidc/callback", "discovery_url": None}})
    assert made.discovery_url == \
        "https://sso.example.com/realms/group/.well-known/openid-configuration"
    assert made.issuer == "https://sso.example.com/realms/group"
    assert oidc.person_key(made, {"preferred_username": " p01-spec-1 "}) == "p01-spec-1"
    phone = oidc.OidcSettings(**dict(made.__dict__, person_claim="phone_number",
                                     person_match="mobile"))
    assert oidc.person_key(phone, {"phone_number": "+86 159 0201 0001"}) == "15902010001"
    with pytest.raises(oidc.OidcFailure):
        oidc.person_key(phone, {"phone_number": "not a number"})


@pytest.mark.parametrize("value, safe", [
    ("/complaints?due=today", "/complaints?due=today"), ("//evil.example", None),
    ("https://evil.example/", None), ("/signin", None), ("/\\evil", None), (None, None),
])
def test_next_is_a_path_on_this_site(value, safe):
    assert oidc_routes.safe_next(value) == safe
