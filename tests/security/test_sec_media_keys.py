"""Path traversal against the media store (SPEC §6): media ids in the read
route and the upload's file name and fields. A media id names a row, never
a key; keys are `<region>/<yyyy>/<mm>/<media id>`, made by media alone.
Every attempt is refused (400 / 404) or stores the name as a label only,
and the bucket holds nothing but keys of media rows, under the prefix."""
import re

import pytest
from security_support import error

pytestmark = pytest.mark.integration

KEY = re.compile(r"^GZ/\d{4}/\d{2}/(M-GZ-[0-9a-f]{32})$")


def media_ids(suite):
    with suite.database.connection() as conn:
        return {r["id"]: r["key"] for r in conn.execute("SELECT id, key FROM media.objects")}


def traversals(real_id, real_key):
    encoded_key = real_key.replace("/", "%2f")
    return [
        "..", "...", "%2e%2e", "..%2f..%2fetc%2fpasswd", "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "%252e%252e%252fetc%252fpasswd", "..%5c..%5cwindows%5cwin.ini", "%5cetc%5cpasswd",
        "%2fetc%2fpasswd", "%2f" + encoded_key, encoded_key, "GZ", f"{real_id}%00",
        f"{real_id}%00.png", f"..%2f{real_id}", f"{real_id}%2f..%2f..%2fx", f"{real_id}%5c..",
        real_id.lower().replace("m-gz", "m-GZ"), real_id + "0", "M-GZ-" + "z" * 32,
        f"{real_id}%20", "%c0%ae%c0%ae%c0%af", "file:%2f%2f%2fetc%2fpasswd",
    ]


def test_media_ids_that_are_paths_read_nothing(suite):
    uploaded = suite.api["spec"].upload("signature")
    assert uploaded.status_code == 201, uploaded.text
    real_id = uploaded.json()["id"]
    real_key = media_ids(suite)[real_id]
    assert KEY.match(real_key) and real_key.endswith(real_id)
    admin = suite.api["admin"]            # sees every file: a refusal is about the id
    shown = admin.get(f"/api/media/{real_id}").json()
    # the link is the gateway's, signed for the id: neither the key nor the store shows
    assert shown["url"].split("/files/", 1)[1].startswith(real_id + ".")
    assert real_key not in shown["url"] and suite.s3_config["endpoint"] not in shown["url"]

    failures = []
    with suite.snapshot.unchanged():
        for attempt in traversals(real_id, real_key):
            for path in (f"/api/media/{attempt}", f"/api/media/{attempt}/",
                         f"/api/media/{real_id}/{attempt}"):
                answer = admin.raw("GET", path)
                leaked = "url" in answer.text or "sha256" in answer.text
                if answer.status_code not in (400, 404) or leaked:
                    failures.append(f"{path}: {answer.status_code} {answer.text[:200]}")
                elif answer.headers.get("Content-Type", "").startswith("application/json"):
                    error(answer, 400, 404)
        # through the signed-record check, which reads media by id too
        for attempt in ("..%2f..%2fetc", "C-GZ-2026-000001-V1%00", "%2e%2e"):
            answer = admin.raw("GET", f"/api/dispatch/records/{attempt}/signature/verify")
            if answer.status_code not in (400, 404):
                failures.append(f"verify {attempt}: {answer.status_code} {answer.text[:200]}")
    assert not failures, "\n".join(failures)


UPLOAD_NAMES = ["../../../../etc/passwd", "..\\..\\..\\boot.ini", "/etc/passwd", "C:\\x\\y.png",
                "%2e%2e%2fx.png", "a\0b.png", "GZ/2026/11/M-GZ-" + "0" * 32, "....//x.png",
                "\u202egnp.exe", "<script>.png", "x" * 1000 + ".png"]


def test_upload_names_and_fields_never_become_keys(suite):
    spec = suite.api["spec"]
    names = {}
    for name in UPLOAD_NAMES:
        answer = spec.upload("signature", filename=name)
        assert answer.status_code == 201, (name, answer.text)
        body = answer.json()
        stored = body["filename"]
        assert stored is None or not ({"/", "\\", "\0"} & set(stored)), (name, stored)
        assert stored is None or len(stored) <= 255
        names[body["id"]] = name
    with suite.snapshot.unchanged():
        for field, value in (("complaint_id", "../../GZ"), ("complaint_id", "C-GZ-2026/../x"),
                             ("complaint_id", "%2e%2e%2f"), ("step", "../../x"),
                             ("step", "record_signature/.."), ("kind", "../signature"),
                             ("kind", "signature/../../x"), ("stage", "../before")):
            fields = {field: value} if field != "kind" else {}
            kind = value if field == "kind" else ("photo" if field == "stage" else "signature")
            refused = error(spec.upload(kind, **fields), 400, 403, 404)
            assert field in refused.get("fields", {}) or refused["code"] != "invalid_input", \
                (field, value, refused)
        for token in ("..%2f..%2fx", "t" * 20 + "%2f..", "%00" * 30):
            answer = suite.public.raw("POST", f"/api/sign/{token}/media")
            assert answer.status_code in (400, 404), (token, answer.status_code)

    rows = media_ids(suite)
    keys = suite.snapshot.keys()
    assert sorted(rows.values()) == keys                    # nothing but the rows' objects
    for key in keys:
        match = KEY.match(key)
        assert match and rows[match[1]] == key, key
    assert set(names) <= set(rows)
