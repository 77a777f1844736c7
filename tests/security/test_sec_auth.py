"""Every route of the gateway, found in its werkzeug url map, refuses a
call without a valid token (401, SPEC §10's body, nothing changed), except
the few that are public by design; and every token expires."""
import time
from datetime import timedelta

import psycopg
import pytest
from security_samples import fill
from security_support import error

from services.gateway.api import ROUTES
from services.gateway.auth import TOKEN_TTL, TokenRepository, new_token
from services.intake.tests.helpers import NOW
from shared.clock import system_now

pytestmark = pytest.mark.integration

# Public by design: the API's health and contract, the web console's pages
# and static files (they hold no data; everything they show comes from the
# API with the person's token), the customer's one-time link, whose token in
# the path is the credential, and a file's signed link (/files/<token>, made
# by media for someone who may see the file; short-lived, tamper-proof).
PUBLIC_BY_DESIGN = {
    ("GET", "/api/health"), ("GET", "/api/openapi.json"),
    ("GET", "/"), ("GET", "/desk"), ("GET", "/board"), ("GET", "/reports"),
    ("GET", "/complaints"), ("GET", "/my/deductions"),
    # what a page must know before it uploads (issue 16): the customer's page too
    ("GET", "/api/uploads/limits"),
    ("GET", "/complaints/<complaint_id>"), ("GET", "/visit/<complaint_id>"),
    ("GET", "/sign/<token>"), ("GET", "/static/<path:path>"),
    ("GET", "/api/sign/<token>"), ("POST", "/api/sign/<token>/media"),
    ("POST", "/api/sign/<token>"), ("POST", "/api/sign/<token>/rating"),
    ("GET", "/files/<token>"),
    # signing in (issue 14): the page, the SMS code and the session it gives; the
    # demo people and their one-click sign-in exist only in simulation mode
    ("GET", "/signin"), ("POST", "/api/auth/code"), ("POST", "/api/auth/session"),
    ("GET", "/api/auth/demo-people"), ("POST", "/api/auth/demo-session"),
    # OpenID Connect sign-in: the button's check, the redirects, the hand-off
    ("GET", "/api/auth/oidc"), ("GET", "/api/auth/oidc/start"),
    ("GET", "/api/auth/oidc/callback"), ("POST", "/api/auth/oidc/session"),
    # SMS providers push delivery receipts: a token in the URL or a signed body, no bearer
    ("POST", "/api/sms/receipts/<provider>"),
}

MALFORMED = ["", "Bearer", "Bearer ", "bearer", "Basic YWRtaW46YWRtaW4=", "Token abc",
             "Bearer " + "x" * 300, "Bearer a b c", "Bearer\tabc", "Bearer 'OR'1'='1",
             "Bearer ../../etc/passwd"]


def openapi_path(rule):
    return rule.replace("<", "{").replace(">", "}")


def token_row(suite, person_id, expires_at, revoked=False):
    token = new_token()
    with suite.database.transaction() as conn:
        TokenRepository(conn).issue_person_token(person_id, NOW, expires_at=expires_at,
                                                 token=token)
        if revoked:
            conn.execute("UPDATE gateway.tokens SET revoked_at = %s WHERE person_id = %s "
                         "AND token_sha256 = encode(sha256(%s::bytea), 'hex')",
                         (NOW, person_id, token))
    return token


def test_the_public_routes_are_exactly_those_public_by_design(suite):
    rules = set(suite.url_rules())
    assert PUBLIC_BY_DESIGN <= rules, PUBLIC_BY_DESIGN - rules
    declared = {(r.method, r.path) for r in ROUTES}
    plain = rules - declared                   # plain @http: the pages and static files
    public = {(r.method, r.path) for r in ROUTES if r.public}
    assert plain | public == PUBLIC_BY_DESIGN, (plain | public) ^ PUBLIC_BY_DESIGN
    assert declared <= rules                    # the url map serves every declared route

    document = suite.public.get("/api/openapi.json").json()
    unsecured = {(method.upper(), path) for path, operations in document["paths"].items()
                 for method, operation in operations.items() if "security" not in operation}
    assert unsecured == {(m, openapi_path(p)) for m, p in public}

    for method, rule in sorted(PUBLIC_BY_DESIGN):
        response = suite.public.call(method, fill(rule))
        assert response.status_code != 401, (method, rule, response.text[:200])


def test_every_other_route_refuses_no_malformed_expired_revoked_or_unknown_token(suite):
    admin_id = "admin-1"          # with a valid token they would pass every role check
    expired = token_row(suite, admin_id, system_now() - timedelta(seconds=1))
    revoked = token_row(suite, admin_id, system_now() + timedelta(days=1), revoked=True)
    credentials = [None] + MALFORMED + [f"Bearer {expired}", f"Bearer {revoked}",
                                        f"Bearer {new_token()}", f"bearer {expired}"]
    protected = [(m, r) for m, r in suite.url_rules() if (m, r) not in PUBLIC_BY_DESIGN]
    assert len(protected) >= 40, protected        # the sweep does sweep

    refusals = []
    with suite.snapshot.unchanged():
        for method, rule in protected:
            for header in credentials:
                headers = {} if header is None else {"Authorization": header}
                response = suite.public.call(method, fill(rule), json={} if method == "POST"
                                             else None, headers=headers)
                try:
                    assert error(response, 401)["code"] == "unauthenticated"
                except AssertionError as exc:
                    refusals.append(f"{method} {rule} with {header!r}: {exc}")
    assert not refusals, "\n".join(refusals[:20])


def test_a_token_stops_working_when_it_expires_in_real_time_not_on_the_demo_clock(suite):
    soon = token_row(suite, "admin-1", system_now() + timedelta(seconds=2))
    api = suite.as_token(soon)
    assert api.get("/api/me").status_code == 200
    # the demo clock jumping ahead a year does not expire it ...
    moved = api.post("/api/admin/clock", {"advance": "P365D"})
    assert moved.status_code == 200, moved.text
    assert api.get("/api/me").status_code == 200
    # ... real time does
    time.sleep(2.2)
    assert "过期" in error(api.get("/api/me"), 401, code="unauthenticated")["message"]
    error(api.post("/api/admin/clock", {"advance": "-P365D"}), 401)


def test_every_token_has_an_expiry(suite):
    with suite.database.connection() as conn:
        issued = conn.execute("SELECT expires_at, issued_at FROM gateway.tokens").fetchall()
    assert issued and all(row["expires_at"] is not None for row in issued)
    now = system_now()
    assert all(now < row["expires_at"] <= now + TOKEN_TTL for row in issued)
    with pytest.raises(psycopg.errors.NotNullViolation):
        with suite.database.transaction() as conn:
            conn.execute("INSERT INTO gateway.tokens (token_sha256, person_id, issued_at) "
                         "VALUES ('x', 'admin-1', now())")
