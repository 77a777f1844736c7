"""Bodies the gateway refuses before anything runs (SPEC §10), on every
POST route: over the size limit (413), not JSON or not sent as JSON
(400 / 415), JSON that is not an object, nested too deeply, or with NaN
(400); uploads over MEDIA max_bytes (413) or not multipart (415). Each
answer is the error body, never a stack trace, and nothing changes."""
import json

import pytest
from security_samples import bodies, caller, fill, json_routes, multipart_routes
from security_support import UPLOAD_LIMIT, error

from services.gateway.bodies import MAX_JSON_BYTES, MAX_JSON_DEPTH
from services.media.tests import samples

pytestmark = pytest.mark.integration

JSON = {"Content-Type": "application/json"}


def nested(depth):
    return ('{"a":' * depth + "1" + "}" * depth).encode()


BAD_JSON = [
    (b'{"room": ', "not JSON"),
    (b"\xff\xfe{}", "not UTF-8"),
    (b'{"a": 1} trailing', "trailing text"),
    (b"[]", "an array"),
    (b'[{"decision": "approve"}]', "an array of objects"),
    (b"42", "a number"),
    (b'"text"', "a string"),
    (b"null", "null"),
    (b"true", "a boolean"),
    (b'{"score": NaN}', "NaN"),
    (b'{"score": Infinity}', "Infinity"),
    (nested(MAX_JSON_DEPTH + 1), "nested one level too deep"),
    (b"[" * 100_000 + b"]" * 100_000, "nested 100 000 levels"),
    (b'{"a": ' + b"[" * 5000 + b"]" * 5000 + b"}", "an array nested 5000 levels"),
]


def sweep(suite, routes):
    """(route, api, path) for each route, as a person allowed to call it."""
    for route in routes:
        who = caller(route)
        yield route, (suite.api[who] if who else suite.public), fill(route.path)


def test_every_post_route_refuses_bad_json_bodies(suite):
    routes = json_routes()
    assert len(routes) >= 29, len(routes)
    failures = []

    def check(route, answer, statuses, label, field="_body"):
        try:
            refused = error(answer, *statuses)
            if field and answer.status_code == 400:
                assert field in refused["fields"], refused
        except AssertionError as exc:
            failures.append(f"{route.method} {route.path}, {label}: {exc}")

    with suite.snapshot.unchanged():
        for route, api, path in sweep(suite, routes):
            for raw, label in BAD_JSON:
                check(route, api.call("POST", path, data=raw, headers=JSON), (400,), label)
            too_big = json.dumps({"note": "长" * MAX_JSON_BYTES}).encode()
            check(route, api.call("POST", path, data=too_big, headers=JSON), (413,), "oversized",
                  field=None)
            for content_type in ("text/plain", "application/x-www-form-urlencoded",
                                 "multipart/form-data; boundary=x", "application/xml"):
                check(route, api.call("POST", path, data=b'{"a": 1}',
                                      headers={"Content-Type": content_type}),
                      (415,), content_type, field=None)
            check(route, api.call("POST", path, data=b'{"a": 1}', headers={}), (415,),
                  "no content type", field=None)
    assert not failures, f"{len(failures)} failures:\n" + "\n".join(failures[:30])


def test_nesting_within_the_limit_reaches_the_schema(suite):
    deep = json.loads(nested(MAX_JSON_DEPTH - 1))
    answer = suite.api["spec"].post("/api/complaints/C-GZ-2026-000999/reopen",
                                    {"reason": "再次投诉", "extra": deep})
    assert error(answer, 400)["fields"] == {"extra": ["不允许的字段 (unknown field)"]}


def test_a_json_body_just_under_the_limit_is_read(suite):
    text = "x" * (MAX_JSON_BYTES - 100)
    answer = suite.api["spec"].post("/api/complaints/C-GZ-2026-000999/reopen", {"reason": text})
    assert "reason" in error(answer, 400)["fields"]          # too long a reason, not too big


def test_uploads_over_the_limit_or_not_multipart_are_refused(suite):
    routes = multipart_routes()
    assert {r.path for r in routes} == {"/api/media", "/api/sign/<token>/media"}
    spec = suite.api["spec"]
    png_over = samples.PNG + b"\0" * (UPLOAD_LIMIT + 1 - len(samples.PNG))
    with suite.snapshot.unchanged():
        # just over MEDIA max_bytes: the gateway's own check
        refused = error(spec.upload("signature", content=png_over), 413, code="too_large")
        assert "256 KiB" in refused["message"] and "file" in refused["fields"]
        # far over it: refused while the form is read
        error(spec.upload("signature", content=b"\0" * (UPLOAD_LIMIT + 512 * 1024)), 413)
        error(suite.public.upload(path=f"/api/sign/{'t' * 43}/media",
                                  content=b"\0" * (UPLOAD_LIMIT + 512 * 1024)), 413)
        for _route, api, path in sweep(suite, routes):
            error(api.call("POST", path, json={"kind": "signature"}), 415)
            error(api.call("POST", path, data=samples.PNG,
                           headers={"Content-Type": "image/png"}), 415)
        # a form without its file, or with more fields than it takes
        assert "file" in error(spec.call("POST", "/api/media", data={"kind": "signature"},
                                         files={"other": ("a.png", samples.PNG)}), 400)["fields"]
        assert "bogus" in error(spec.upload("signature", bogus="1"), 400)["fields"]
        # forms that are not well-formed multipart read as empty: the fields are missing
        for content_type, raw in (
                ("multipart/form-data", b"garbage"),
                ("multipart/form-data; boundary=abc", b"--abc\r\nno headers, no end"),
                ("multipart/form-data; boundary=abc", b'--abc\r\nContent-Disposition: '
                 b'form-data; name="file"; filename="a.png"\r\n\r\n\x89PNG'),
                ("multipart/form-data; boundary=" + "a" * 5000, b"x")):
            answer = spec.raw("POST", "/api/media", raw, {"Content-Type": content_type})
            assert "kind" in error(answer, 400)["fields"], content_type
        # a form field with a NUL
        assert "kind" in error(spec.call("POST", "/api/media", data={"kind": "signa\0ture"},
                                         files={"file": ("a.png", samples.PNG)}), 400)["fields"]
        # a file whose bytes are not an allowed type, whatever its name says
        error(spec.upload("signature", content=samples.EXE, filename="签名.png"), 415)


def test_a_valid_body_still_works_after_the_refusals(suite):
    answer = suite.api["spec"].post("/api/complaints", bodies()["record_complaint"])
    assert answer.status_code == 201, answer.text
