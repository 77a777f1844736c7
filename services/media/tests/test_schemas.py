"""RPC arguments are checked field by field (with the contract's forms)
before anything is stored; answers are dumped with the contract's views."""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.media import domain, views
from shared.contracts.media import BindRequest, UploadRequest
from shared.errors import InvalidInput
from shared.validation import load_input


def upload(**changes):
    values = {"filename": "a.png", "kind": "photo", "stage": "before", "complaint_id": None,
              "uploaded_by": None, "step": None}
    values.update(changes)
    return load_input(UploadRequest, values)


def test_valid_upload_request():
    assert upload(complaint_id="C-GZ-2026-000001")["complaint_id"] == "C-GZ-2026-000001"


def test_every_bad_field_is_reported_at_once():
    with pytest.raises(InvalidInput) as caught:
        upload(kind="video", complaint_id="", uploaded_by="x" * 65)
    assert sorted(caught.value.fields) == ["complaint_id", "kind", "uploaded_by"]


def test_ids_may_not_hold_control_characters():
    with pytest.raises(InvalidInput) as caught:
        upload(step="visit\x07")
    assert list(caught.value.fields) == ["step"]


@pytest.mark.parametrize("sha", ["a" * 64 + "\n", "a" * 65, "z" * 64, ""])
def test_record_hash_must_be_exactly_64_hex(sha):
    with pytest.raises(InvalidInput) as caught:
        load_input(BindRequest, {"record_type": "complaint", "record_id": "C-1",
                                 "record_sha256": sha})
    assert list(caught.value.fields) == ["record_sha256"]


def test_dump_gives_times_in_the_group_zone_and_the_binding():
    at = datetime(2026, 11, 27, 2, 42, tzinfo=UTC)
    media = domain.Media(
        id="M-GZ-" + "0" * 32, key="k", region="GZ", kind="signature", stage=None,
        content_type="image/png", size=1, sha256="0" * 64, original_filename="s.png",
        complaint_id=None, step=None, uploaded_by=None, created_at=at)
    dumped = views.media_view(media, ZoneInfo("Asia/Shanghai"))
    assert dumped["created_at"] == "2026-11-27T10:42:00+08:00"
    assert dumped["binding"] is None
    assert "url" not in dumped
    bound, _ = domain.bind_signature(media, "complaint", "C-1", "b" * 64, "P-1", at)
    assert views.media_view(bound, ZoneInfo("Asia/Shanghai"))["binding"] == {
        "record_type": "complaint", "record_id": "C-1", "record_sha256": "b" * 64,
        "bound_at": "2026-11-27T10:42:00+08:00", "bound_by": "P-1"}
