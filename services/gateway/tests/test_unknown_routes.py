"""SPEC §10: every error is the JSON error body, including an unknown URL (404)
and a method a route does not take (405), not werkzeug's HTML page."""
import pytest
import requests

from services.gateway.tests.complaints_suite import running_suite  # noqa: F401 - `api`

pytestmark = pytest.mark.integration


def error_of(response):
    assert response.headers["Content-Type"].startswith("application/json"), response.text
    body = response.json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    return body["error"]


@pytest.mark.parametrize("path", ["/api/no-such-thing", "/api/complaints/C-GZ-2026-000001/nope",
                                  "/no-such-page"])
def test_an_unknown_url_is_a_json_404(api, path):
    response = api["spec"].get(path)
    assert response.status_code == 404
    error = error_of(response)
    assert error["code"] == "not_found" and path in error["message"]


def test_an_unknown_url_is_404_without_a_token_too(api):
    response = requests.get(api["public"].base + "/api/nowhere", timeout=10)
    assert response.status_code == 404 and error_of(response)["code"] == "not_found"


def test_a_wrong_method_is_a_json_405_naming_the_allowed_ones(api):
    response = api["spec"].call("DELETE", "/api/complaints")
    assert response.status_code == 405
    error = error_of(response)
    assert error["code"] == "method_not_allowed" and "DELETE" in error["message"]
    allowed = {m.strip() for m in response.headers["Allow"].split(",")}
    assert {"GET", "POST"} <= allowed
    assert "POST" in error["message"]


def test_known_routes_still_answer(api):
    assert api["public"].get("/api/health").status_code in (200, 503)
    assert api["spec"].get("/api/me").status_code == 200
