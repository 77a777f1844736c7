"""The complaint page's files (routes/complaint_page.py) are asked of media in
one call, get_many, whatever their number (issue 17: it asked once per file);
a media deployed before get_many existed still gets one call per file. The
media service is a recording proxy behind the real typed client."""
import pytest
from nameko.exceptions import RemoteError

from services.gateway.routes.complaint_page import ComplaintPageParts
from services.gateway.tests.test_board_fetching import Recording
from shared.errors import Unavailable


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
