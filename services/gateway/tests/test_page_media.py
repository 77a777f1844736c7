"""The complaint page's files (routes/complaint_page.py) are asked of media in
one call, get_many, whatever their number (issue 17: it asked once per file);
a media deployed before get_many existed still gets one call per file. Since
then media is asked for the complaint's files (files_of_complaint) beside
intake, dispatch and sla, so the page needs no second round unless it names a
file that does not carry the complaint's id. The services are recording
proxies behind the real typed clients."""
import eventlet
import pytest
from nameko.exceptions import RemoteError
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from services.gateway.routes.complaint_page import ComplaintPageParts, _names
from services.gateway.routes.complaints import ComplaintRoutes
from services.gateway.tests.test_board_fetching import GM, Recording
from shared.contracts.media import MediaClient
from shared.errors import InvalidInput, NotFound, Unavailable


def media_id(n):
    return f"M-GZ-{n:032x}"


def view(i):
    return {"id": i, "kind": "photo", "url": f"/files/{i}.token"}


class Page(ComplaintPageParts):
    def __init__(self, answers):
        self.media = Recording("media", answers)


def known(*unknown):
    return lambda ids: [None if i in unknown else view(i) for i in ids]


@pytest.mark.parametrize("count", [1, 5, 40])
def test_the_files_are_asked_in_one_call_whatever_their_number(count):
    ids = [media_id(n) for n in range(count)]
    page = Page({"get_many": known(ids[0]),
                 "get": lambda *a: pytest.fail("asked one file at a time")})
    shown = page._page_media(ids, timeout=2)
    assert [c[0] for c in page.media.calls] == ["get_many"]
    assert page.media.calls[0][1] == (ids,)
    assert [item["id"] for item in shown["items"]] == ids[1:]
    assert shown["missing"] == [ids[0]]


def test_a_media_without_get_many_is_asked_once_per_file():
    ids = [media_id(n) for n in range(3)]

    def old_media(ids):
        raise RemoteError("MethodNotFound", "get_many")

    def get(i):
        return view(i)

    page = Page({"get_many": old_media, "get": get})
    shown = page._page_media(ids, timeout=2)
    assert sorted(c[0] for c in page.media.calls) == ["get", "get", "get", "get_many"]
    assert [item["id"] for item in shown["items"]] == ids


def test_media_down_makes_the_files_part_unavailable_and_the_page_still_shows():
    def down(ids):
        raise Unavailable("文件服务暂无响应，请稍后再试 (media did not answer in 2s)")

    shown = Page({"get_many": down})._page_media([media_id(1)], timeout=2)
    assert shown == {"unavailable": True,
                     "reason": "文件服务暂无响应，请稍后再试 (media did not answer in 2s)"}


def test_no_files_asks_nothing():
    page = Page({})
    assert page._page_media([], timeout=2) == {"items": [], "missing": []}
    assert page.media.calls == []


# -- one round: the complaint's files asked beside intake, dispatch and sla ---------------------

CID = "C-GZ-2026-000001"


def test_the_files_the_complaint_carries_need_no_second_call():
    ids = [media_id(n) for n in range(4)]
    page = Page({})
    shown = page._page_media(ids, timeout=2, files=[view(i) for i in reversed(ids)])
    assert page.media.calls == []
    assert [item["id"] for item in shown["items"]] == ids and shown["missing"] == []


def test_only_the_files_it_does_not_carry_are_asked_with_get_many_in_the_page_order():
    ids = [media_id(n) for n in range(5)]
    page = Page({"get_many": known(ids[3])})
    shown = page._page_media(ids, timeout=2, files=[view(ids[0]), view(ids[2]), view(media_id(9))])
    assert [c[:2] for c in page.media.calls] == [("get_many", ([ids[1], ids[3], ids[4]],))]
    assert [item["id"] for item in shown["items"]] == [ids[0], ids[1], ids[2], ids[4]]
    assert shown["missing"] == [ids[3]]


def test_the_complaint_files_unavailable_make_the_part_unavailable_without_another_call():
    page = Page({})
    down = {"unavailable": True, "reason": "media did not answer in 2s"}
    assert page._page_media([media_id(1)], timeout=2, files=down) == down
    assert page.media.calls == []


@pytest.mark.parametrize("error, expected", [
    (RemoteError("MethodNotFound", "files_of_complaint"), None),     # a media older than it
    (InvalidInput({"complaint_id": ["must be a complaint id"]}), None),
    (RemoteError("KeyError", "a bug of media's"), None),
    (Unavailable("media did not answer in 2s"),
     {"unavailable": True, "reason": "media did not answer in 2s"}),
])
def test_a_media_that_cannot_list_the_complaint_files_leaves_the_page_to_ask_as_before(
        error, expected):
    def refuse(complaint_id, limit):
        raise error

    page = Page({"files_of_complaint": refuse})
    client = MediaClient(page.media, 2)
    assert page._part(page._complaint_files, client, CID) == expected
    assert page.media.calls == [("files_of_complaint", (CID, 200), {})]


class WholePage(ComplaintRoutes):
    """The page's route over recording intake, dispatch, sla and media."""

    def __init__(self, media, intake_delay=0.05, signature=None, photos=()):
        self.config = {}
        self.media = Recording("media", media)
        complaint = {"id": CID, "signature": {"media_id": signature} if signature else None,
                     "closures": []}

        def record(actor, complaint_id):
            eventlet.sleep(intake_delay)       # media is asked meanwhile, not after
            self.media_asked_before_intake_answered = list(self.media.calls)
            return dict(complaint)

        self.intake = Recording("intake", {"get_complaint": record})
        self.dispatch = Recording("dispatch", {
            "get_complaint_view": {"complaint_id": CID, "visits": [
                {"photo_media_ids": list(photos), "signature_media_id": None}]},
            "list_people": []})
        self.sla = Recording("sla", {"list_timers": {"complaint_id": CID, "timers": []}})

    def rpc_timeout(self):
        return 2.0

    def show(self):
        _names[:] = [0.0, {}]
        request = Request(EnvironBuilder(path=f"/api/complaints/{CID}").get_environ())
        return ComplaintRoutes.get_complaint.__wrapped__(
            self, request, principal=GM, payload=None, complaint_id=CID)


def media_of(ids):
    return {"files_of_complaint": lambda complaint_id, limit: [view(i) for i in ids],
            "get_many": known(), "get": view}


def test_the_page_asks_media_once_beside_intake_in_the_common_case():
    ids = [media_id(n) for n in range(3)]
    page = WholePage(media_of(ids), signature=ids[0], photos=ids[1:])
    shown = page.show()
    assert page.media_asked_before_intake_answered == [("files_of_complaint", (CID, 200), {})]
    assert [c[0] for c in page.media.calls] == ["files_of_complaint"]
    assert [m["id"] for m in shown["media"]["items"]] == ids
    assert shown["media"]["missing"] == []
    assert all(m["url"].startswith("http://localhost/files/") for m in shown["media"]["items"])


def test_the_page_shows_the_same_files_whichever_way_media_answers():
    ids = [media_id(n) for n in range(4)]
    carried = WholePage(dict(media_of(ids[1:3]), get_many=known(media_id(8))),
                        signature=ids[0], photos=ids[1:] + [media_id(8)])
    new = carried.show()
    # the signature (its bind still pending) and the others it does not carry: one get_many
    assert [c[:2] for c in carried.media.calls] == [
        ("files_of_complaint", (CID, 200)), ("get_many", ([ids[0], ids[3], media_id(8)],))]

    def old_media(*args):
        raise RemoteError("MethodNotFound", "files_of_complaint")

    everything = dict(media_of(()), get_many=known(media_id(8)), files_of_complaint=old_media)
    older = WholePage(everything, signature=ids[0], photos=ids[1:] + [media_id(8)])
    before = older.show()
    assert [c[:2] for c in older.media.calls] == [
        ("files_of_complaint", (CID, 200)), ("get_many", (ids + [media_id(8)],))]
    assert new["media"] == before["media"]
    assert new["media"]["missing"] == [media_id(8)]
    assert [m["id"] for m in new["media"]["items"]] == ids


def test_media_slow_makes_the_part_unavailable_after_one_bounded_wait():
    def slow(complaint_id, limit):
        raise Unavailable("文件服务暂无响应，请稍后再试 (media did not answer in 2s)")

    page = WholePage(dict(media_of(()), files_of_complaint=slow), signature=media_id(1))
    assert page.show()["media"] == {
        "unavailable": True, "reason": "文件服务暂无响应，请稍后再试 (media did not answer in 2s)"}
    assert [c[0] for c in page.media.calls] == ["files_of_complaint"]


def test_a_page_that_names_no_file_does_not_wait_for_media():
    answered = []

    def slow(complaint_id, limit):
        eventlet.sleep(0.5)
        answered.append(True)
        return []

    page = WholePage(dict(media_of(()), files_of_complaint=slow), intake_delay=0)
    assert page.show()["media"] == {"items": [], "missing": []}
    eventlet.sleep(0.6)
    assert answered == []                        # its thread was killed


def test_intake_failing_kills_the_media_thread_like_the_others():
    answered = []

    def slow(complaint_id, limit):
        eventlet.sleep(0.3)
        answered.append(True)
        return []

    page = WholePage(dict(media_of(()), files_of_complaint=slow))

    def gone(actor, complaint_id):
        eventlet.sleep(0.01)
        raise NotFound("no complaint")

    page.intake.answers["get_complaint"] = gone
    with pytest.raises(NotFound):
        page.show()
    eventlet.sleep(0.4)
    assert answered == [] and page.media.calls[0][0] == "files_of_complaint"
