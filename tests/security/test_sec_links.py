"""The customer's one-time links (SPEC §8): a link is bound to one
complaint, one step and one round of the complaint; replayed for another
complaint, another step or a later round it is refused, it works once, and
not after it expired. Each refusal changes nothing."""
import pytest
from security_support import error, eventually

pytestmark = pytest.mark.integration


@pytest.fixture
def links(suite, subscriber_factory):
    """complaint id -> the signing link's token, from the SMS event."""
    events = subscriber_factory("intake.events", routing_key="complaint.signature_requested")

    def token_of(cid):
        def find():
            events.drain(timeout=0.1)
            return next((e["data"]["link_path"].rsplit("/", 1)[1] for e in events.received
                         if e["complaint_id"] == cid), None)
        return eventually(find)
    return token_of


def upload_via(suite, token):
    answer = suite.public.upload(path=f"/api/sign/{token}/media")
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def test_a_link_replayed_for_another_complaint_or_step_or_twice_is_refused(suite, links):
    first = suite.record(channel="phone")["id"]
    second = suite.record(channel="letter", room="5-1-302")["id"]
    sign_first, sign_second = links(first), links(second)
    mine, theirs = upload_via(suite, sign_first), upload_via(suite, sign_second)
    public = suite.public

    with suite.snapshot.unchanged():
        # another complaint's signature through this complaint's link
        refused = error(public.post(f"/api/sign/{sign_first}", {"signature_media_id": theirs}),
                        400)
        assert "signature_media_id" in refused["fields"]
        # the signing link used for another step
        error(public.post(f"/api/sign/{sign_first}/rating", {"score": 1}), 409)
    # a staff file is no customer's signature for the link
    staff_photo = suite.api["spec"].upload("photo", complaint_id=first, stage="before")
    assert staff_photo.status_code == 201, staff_photo.text
    photo_id = staff_photo.json()["id"]
    with suite.snapshot.unchanged():
        error(public.post(f"/api/sign/{sign_first}", {"signature_media_id": photo_id}), 400)
        # ids that are not links
        for token in ("n" * 43, sign_first[:-1] + ("A" if sign_first[-1] != "A" else "B"),
                      "..%5c..%5cetc", "%27%20OR%20%271%27%3D%271", sign_first + "x" * 80):
            error(public.get(f"/api/sign/{token}"), 404)
            error(public.post(f"/api/sign/{token}", {"signature_media_id": mine}), 404)
        # a path out of the link's place matches no route at all
        for path in ("/api/sign/..%2f..%2fapi%2fme", f"/api/sign/{sign_first}/..%2f..%2fme"):
            assert public.raw("GET", path).status_code == 404

    signed = public.post(f"/api/sign/{sign_first}", {"signature_media_id": mine})
    assert signed.status_code == 200, signed.text
    rating = signed.json()["rating_link_path"].rsplit("/", 1)[1]

    with suite.snapshot.unchanged():
        # used once: not again, for no step
        error(public.post(f"/api/sign/{sign_first}", {"signature_media_id": mine}), 409)
        error(public.upload(path=f"/api/sign/{sign_first}/media"), 409)
        error(public.get(f"/api/sign/{sign_first}"), 409)
        # the rating link is not a signing link, and signs no other complaint
        error(public.post(f"/api/sign/{rating}", {"signature_media_id": theirs}), 409)
        error(public.upload(path=f"/api/sign/{rating}/media"), 409)
        # the other complaint's link cannot take this complaint's signature either
        error(public.post(f"/api/sign/{sign_second}", {"signature_media_id": mine}), 400)

    rated = public.post(f"/api/sign/{rating}/rating", {"score": 4, "comment": "好"})
    assert rated.status_code == 200 and rated.json()["complaint_id"] == first, rated.text
    with suite.snapshot.unchanged():
        error(public.post(f"/api/sign/{rating}/rating", {"score": 1}), 409)
        error(public.get(f"/api/sign/{rating}"), 409)
    shown = suite.api["spec"].get(f"/api/complaints/{first}").json()
    assert shown["rating"]["score"] == 4 and shown["signature_status"] == "signed"
    other = suite.api["spec"].get(f"/api/complaints/{second}").json()
    assert other["rating"] is None and other["signature_status"] == "pending"


def test_a_rating_link_rates_only_its_own_round(suite, links):
    cid = suite.record(channel="phone", resolved_on_spot=True)["id"]
    token = links(cid)
    signed = suite.public.post(f"/api/sign/{token}",
                               {"signature_media_id": upload_via(suite, token)})
    assert signed.status_code == 200, signed.text
    rating = signed.json()["rating_link_path"].rsplit("/", 1)[1]

    reopened = suite.api["spec2"].post(f"/api/complaints/{cid}/reopen", {"reason": "又漏水了"})
    assert reopened.status_code == 200 and reopened.json()["order"]["order_round"] == 2, \
        reopened.text
    with suite.snapshot.unchanged():
        error(suite.public.post(f"/api/sign/{rating}/rating", {"score": 5}), 409)
    assert suite.api["spec"].get(f"/api/complaints/{cid}").json()["rating"] is None


def test_an_expired_link_is_refused(suite, links):
    cid = suite.record(channel="phone")["id"]
    token = links(cid)
    media = upload_via(suite, token)
    suite.advance("PT25H")                 # signing links last 24 h
    with suite.snapshot.unchanged():
        assert "过期" in error(suite.public.get(f"/api/sign/{token}"), 409)["message"]
        error(suite.public.post(f"/api/sign/{token}", {"signature_media_id": media}), 409)
        error(suite.public.upload(path=f"/api/sign/{token}/media"), 409)
