"""shared.json_text writes what json.dumps(ensure_ascii=False, default=str)
wrote (up to whitespace), for the values an HTTP answer carries."""
import dataclasses
import json
import uuid
from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

from shared import json_text

CST = timezone(timedelta(hours=8))


@dataclasses.dataclass
class Point:
    x: int


REPRESENTATIVE = {
    "id": "C20261206-0001",
    "customer_name": "压测客户",
    "demand": "卫生间渗水，需维修\n第二行 \"引号\" \\ 反斜杠 😀",
    "recorded_at": datetime(2026, 12, 6, 20, 5, 1, 123456, tzinfo=CST),
    "naive": datetime(2026, 12, 6, 20, 5),
    "due_on": date(2026, 12, 13),
    "opens": time(8, 30),
    "amount": Decimal("1234.50"),
    "media_id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "timeline": [{"at": datetime(2026, 1, 1, tzinfo=UTC), "note": "派单",
                  "rating": 4, "ratio": 0.1, "ok": True, "none": None}] * 3,
    "nested": {"deep": [[1, 2, {"三": Decimal("0.01")}], ()]},
    "counts": {1: "one", 2.5: "x", False: "f", None: "n"},
    "tags": {"a"},
    "point": Point(3),
    "big": 2 ** 70,
}


def old(value):
    return json.dumps(value, ensure_ascii=False, default=str)


def test_the_same_json_as_the_standard_encoder_wrote():
    for value in [REPRESENTATIVE, *REPRESENTATIVE.values(), [], {}, "", 0, -1.5, 1e16]:
        text = json_text.dumps(value)
        assert isinstance(text, bytes)
        assert json.loads(text) == json.loads(old(value)), value


def test_datetimes_read_as_their_str_not_orjsons_iso_form():
    assert json.loads(json_text.dumps({"t": REPRESENTATIVE["recorded_at"]})) == {
        "t": "2026-12-06 20:05:01.123456+08:00"}


def test_chinese_text_is_utf8_not_escaped():
    assert "压测客户".encode() in json_text.dumps({"n": "压测客户"})


def test_what_orjson_refuses_falls_back_to_the_standard_encoder():
    assert json_text.dumps({"n": float("nan"), "big": 2 ** 70}) == old(
        {"n": float("nan"), "big": 2 ** 70}).encode()


def test_nan_is_null_where_the_standard_encoder_wrote_invalid_json():
    assert json.loads(json_text.dumps({"n": float("nan")})) == {"n": None}
