"""Hostile text (SQL, markup, templates, RTL and emoji, NUL, very long) in
every text field: refused with a field-by-field 400, or stored verbatim and
given back unchanged as JSON data, never a 500. NUL is always a 400 naming
the field (PostgreSQL cannot store it in text). The web console shows
stored text as text."""
import re
from pathlib import Path

import pytest
from security_samples import (
    HOSTILE,
    INJECTIONS,
    LONG,
    NUL_TEXT,
    SCRIPT,
    SQL_DROP,
    bodies,
    caller,
    fill,
    json_routes,
    text_fields,
)
from security_support import error

from services.gateway.api import ROUTES
from services.gateway.routes.web import CSP
from services.intake.tests.helpers import form

pytestmark = pytest.mark.integration

WEB = Path(__file__).resolve().parents[2] / "services" / "gateway" / "web"
LONG_TEXT = LONG[:30_000]        # over every field's limit, within the body limit


def recording_fields():
    route = next(r for r in ROUTES if r.handler == "record_complaint")
    return text_fields(route, form()) + ["customer_signature_media_id"]


def recording(field, value):
    if field == "customer_signature_media_id":
        return form(channel="visit", customer_signature_media_id=value)
    return form(**{field: value})


def test_hostile_text_in_every_field_of_the_recording_form(suite):
    spec, staff = suite.api["spec"], suite.api["staff"]
    fields = recording_fields()
    assert {"project_id", "room", "customer_name", "customer_phone", "demand"} <= set(fields)

    with suite.snapshot.unchanged():
        for field in fields:
            for value in (NUL_TEXT, LONG_TEXT):
                refused = error(spec.post("/api/complaints", recording(field, value)), 400)
                assert field in refused["fields"], (field, refused)

    stored, kept = 0, {}
    for field in fields:
        for value in INJECTIONS:
            answer = spec.post("/api/complaints", recording(field, value))
            if answer.status_code == 201:
                stored += 1
                kept.setdefault(field, []).append(value)
                shown = staff.get(f"/api/complaints/{answer.json()['id']}")
                assert shown.headers["Content-Type"].startswith("application/json")
                assert shown.json()[field] == value, (field, value, shown.json()[field])
            else:
                refused = error(answer, 400, 403)
                assert refused["fields"] == {} or field in refused["fields"], (field, refused)
    # free text takes all of it; room and name take what fits as plain text too
    assert kept["demand"] == list(INJECTIONS)
    assert SCRIPT in kept["room"] and SCRIPT in kept["customer_name"], kept
    assert suite.scalar("SELECT count(*) FROM intake.complaints") == stored
    listed = staff.get("/api/complaints", params={"page_size": 100}).json()
    assert listed["total"] == stored


def test_hostile_text_in_the_list_filters_finds_nothing_and_breaks_nothing(suite):
    suite.record()
    staff = suite.api["staff"]
    with suite.snapshot.unchanged():
        for value in INJECTIONS:
            answer = staff.get("/api/complaints", params={"project_id": value})
            if answer.status_code == 200:
                assert answer.json()["total"] == 0, (value, answer.text)
            else:
                assert "project_id" in error(answer, 400)["fields"]
            for name in ("state", "category"):
                assert name in error(staff.get("/api/complaints", params={name: value}),
                                     400)["fields"]
        error(suite.api["spec"].get("/api/complaints", params={"project_id": SQL_DROP}),
              400, 403)
    assert staff.get("/api/complaints").json()["total"] == 1


def test_a_progress_note_keeps_hostile_text_verbatim(suite):
    cid = suite.routed()
    head = suite.api["head"]
    for value in INJECTIONS:
        answer = head.post(f"/api/complaints/{cid}/progress", {"note": value})
        assert answer.status_code == 201, answer.text
        assert answer.json()["note"] == value
    notes = [p["note"] for p in suite.api["spec"].get(f"/api/complaints/{cid}/dispatch")
             .json()["progress"]]
    assert notes == list(INJECTIONS)


def test_every_text_field_of_every_body_refuses_nul_and_never_fails(suite):
    cid = suite.routed()
    samples = bodies(cid=cid)
    routes = [r for r in json_routes() if r.body is not None]
    missing = [r.handler for r in routes if r.handler not in samples]
    assert not missing, f"give these routes a sample body: {missing}"

    with suite.snapshot.unchanged():
        checked = 0
        for route in routes:
            api = suite.api[caller(route)] if caller(route) else suite.public
            path = fill(route.path, complaint_id=cid)
            for field in text_fields(route, samples[route.handler]):
                refused = error(api.post(path, dict(samples[route.handler], **{field: NUL_TEXT})),
                                400, code="invalid_input")
                assert field in refused["fields"], (route.path, field, refused)
                checked += 1
        assert checked >= 30, checked

    failures = []
    for route in routes:
        api = suite.api[caller(route)] if caller(route) else suite.public
        path = fill(route.path, complaint_id=cid)
        for field in text_fields(route, samples[route.handler]):
            for value in HOSTILE:
                answer = api.post(path, dict(samples[route.handler], **{field: value}))
                if answer.status_code >= 500 or (answer.status_code >= 400 and not (
                        answer.headers["Content-Type"].startswith("application/json")
                        and "error" in answer.json())):
                    failures.append(f"{route.path} {field}={value[:20]!r}: "
                                    f"{answer.status_code} {answer.text[:200]}")
    assert not failures, "\n".join(failures)
    assert suite.scalar("SELECT count(*) FROM intake.complaints") >= 1   # still there


def test_nul_in_a_query_or_a_path_is_a_field_error(suite):
    failures = []
    with suite.snapshot.unchanged():
        for route in ROUTES:
            if route.method != "GET" or route.public:
                continue
            api = suite.api[caller(route)]
            names = list(route.query().fields) if route.query is not None else []
            for name in names:
                answer = api.get(fill(route.path), params={name: NUL_TEXT})
                try:
                    assert name in error(answer, 400)["fields"]
                except AssertionError as exc:
                    failures.append(f"{route.path}?{name}: {exc}")
            for name in re.findall(r"<(?:\w+:)?(\w+)>", route.path):
                answer = api.get(fill(route.path, **{name: "a%00b"}))
                try:
                    assert name in error(answer, 400)["fields"]
                except AssertionError as exc:
                    failures.append(f"{route.path} <{name}>: {exc}")
    assert not failures, "\n".join(failures)


# -- the web console shows stored text as text --------------------------------------------

def own_scripts():
    return [p for p in (WEB / "static" / "js").rglob("*.js")]


def test_the_console_never_parses_data_as_markup():
    scripts = own_scripts()
    assert len(scripts) >= 10
    sinks = re.compile(r"\.(innerHTML|outerHTML)\s*[+]?=|insertAdjacentHTML|document\.write"
                       r"|\beval\s*\(|new\s+Function\s*\(|createContextualFragment"
                       r"|setAttribute\(\s*['\"]on|\.srcdoc\s*=")
    found = [f"{p.relative_to(WEB)}:{n}: {line.strip()}" for p in scripts
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
             if sinks.search(line)]
    assert not found, "\n".join(found)
    # the one element builder sets text as a text node (textContent), never as markup
    ui = (WEB / "static" / "js" / "ui.js").read_text(encoding="utf-8")
    assert 'if (key === "text") el.textContent = value;' in ui
    assert "document.createTextNode(String(child))" in ui


def test_the_pages_allow_no_inline_script():
    for page in (WEB / "pages").glob("*.html"):
        html = page.read_text(encoding="utf-8")
        inline = [m for m in re.findall(r"<script\b[^>]*>", html) if "src=" not in m]
        assert not inline, (page.name, inline)
        assert not re.search(r"\son[a-z]+\s*=", html), page.name
    assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP and "unsafe-eval" not in CSP


def test_the_served_pages_carry_the_policy(suite):
    for path in ("/", "/desk", "/complaints/C-GZ-2026-000001", "/sign/" + "t" * 43):
        page = suite.public.get(path)
        assert page.status_code == 200
        assert page.headers["Content-Security-Policy"] == CSP
        assert page.headers["X-Content-Type-Options"] == "nosniff"
