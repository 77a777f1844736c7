"""A specialist of another project (GZ-P03) can neither read nor act on a
complaint of GZ-P01: every route of a complaint, its files and its signed
records refuse them (403, or 404 where the id is not theirs to know), and
nothing changes. The same reads answer the complaint's own desk."""
import pytest
from security_samples import bodies, fill
from security_support import error, eventually

from services.gateway.api import ROUTES
from services.media.tests import samples

pytestmark = pytest.mark.integration


def complaint_routes():
    return [r for r in ROUTES if "<complaint_id>" in r.path]


def visit_with_signature(suite, cid):
    head = suite.api["head"]
    signature = head.upload("signature", complaint_id=cid)
    photo = head.upload("photo", complaint_id=cid, stage="before")
    assert signature.status_code == photo.status_code == 201, (signature.text, photo.text)
    now = suite.advance("PT30M")["now"]
    visit = head.post(f"/api/complaints/{cid}/visits", {
        "outcome": "done", "visited_at": now, "plan": "更换防水层",
        "agreed_completion_at": "2026-12-05T10:00:00+08:00",
        "customer_signature_media_id": signature.json()["id"],
        "photo_media_ids": [photo.json()["id"]]})
    assert visit.status_code == 201, visit.text
    return visit.json()["id"], photo.json()["id"], signature.json()["id"]


# Reads of a complaint only the centre's GM, deputy GM and admins may make (the
# routing the order would get if signed now: the GM's sign form shows it).
CENTRE_READS = {"/api/complaints/<complaint_id>/routing-preview"}


def test_another_projects_specialist_is_refused_on_every_route_of_a_complaint(suite):
    cid = suite.routed()
    visit_id, photo, signature = visit_with_signature(suite, cid)
    samples_by_handler = bodies(cid=cid, media=photo, signature=signature)
    routes = complaint_routes()
    assert len(routes) >= 19, [r.path for r in routes]
    missing = [r.handler for r in routes
               if r.body is not None and r.handler not in samples_by_handler]
    assert not missing, f"give these complaint routes a sample body: {missing}"

    own, other = suite.api["spec"], suite.api["other_spec"]
    # the reads work for the complaint's own desk: a refusal below is about the project
    for route in routes:
        if route.method == "GET":
            answer = own.get(fill(route.path, complaint_id=cid))
            if route.path in CENTRE_READS:      # refused by role, whatever the project
                assert answer.status_code == 403, (route.path, answer.text[:300])
                continue
            assert answer.status_code == 200, (route.path, answer.text[:300])
    assert own.get(f"/api/media/{photo}").status_code == 200
    assert own.get(f"/api/dispatch/records/{visit_id}/signature/verify").status_code == 200

    refused = []
    with suite.snapshot.unchanged():
        for route in routes:
            path = fill(route.path, complaint_id=cid)
            body = samples_by_handler.get(route.handler) if route.body is not None else None
            answer = other.call(route.method, path, json=body)
            try:
                error(answer, 403, 404)
            except AssertionError as exc:
                refused.append(f"{route.method} {route.path}: {exc}")
        for path in (f"/api/media/{photo}", f"/api/media/{signature}",
                     f"/api/dispatch/records/{visit_id}/signature/verify",
                     "/api/complaints?project_id=GZ-P01"):
            try:
                error(other.get(path), 403, 404)
            except AssertionError as exc:
                refused.append(f"GET {path}: {exc}")
        # a file cannot be filed under the complaint either
        upload = other.upload("photo", complaint_id=cid, stage="after")
        try:
            error(upload, 403, 404)
        except AssertionError as exc:
            refused.append(f"POST /api/media for {cid}: {exc}")
    assert not refused, "\n".join(refused)

    listed = other.get("/api/complaints").json()
    assert cid not in [item["id"] for item in listed["items"]]


def test_a_desk_signature_not_yet_of_a_complaint_is_the_uploaders_and_the_centres(suite):
    uploaded = suite.api["spec"].upload("signature")
    assert uploaded.status_code == 201, uploaded.text
    media_id = uploaded.json()["id"]
    assert suite.api["spec"].get(f"/api/media/{media_id}").status_code == 200
    assert suite.api["staff"].get(f"/api/media/{media_id}").status_code == 200
    for who in ("spec2", "other_spec", "head", "hr"):
        error(suite.api[who].get(f"/api/media/{media_id}"), 403)


def test_the_handler_reads_the_files_of_the_complaint_routed_to_them(suite):
    cid = suite.routed()
    photo = suite.api["head"].upload("photo", complaint_id=cid, stage="before",
                                     content=samples.JPEG, filename="门口.jpg")
    assert photo.status_code == 201, photo.text
    media_id = photo.json()["id"]
    eventually(lambda: suite.api["head"].get(f"/api/media/{media_id}").status_code == 200)
    assert suite.api["spec"].get(f"/api/media/{media_id}").status_code == 200
    error(suite.api["other_spec"].get(f"/api/media/{media_id}"), 403)
