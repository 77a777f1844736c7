"""Media rules without I/O (SPEC §6)."""
import base64
import hashlib
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.media import domain, sniff
from services.media.tests import samples
from shared.errors import Conflict, InvalidInput, NotFound, TooLarge, UnsupportedMediaType

NOW = datetime(2026, 11, 27, 2, 42, tzinfo=UTC)
MAX = 1024
SHA_A = "a" * 64
SHA_B = "b" * 64


def media(**changes):
    values = dict(
        id="M-GZ-" + "0" * 32, key="GZ/2026/11/M-GZ-" + "0" * 32, region="GZ",
        kind="signature", stage=None, content_type=sniff.PNG, size=10, sha256=SHA_A,
        original_filename="sig.png", complaint_id=None, step="recording",
        uploaded_by="P-1", created_at=NOW)
    values.update(changes)
    return domain.Media(**values)


# -- kind and stage ----------------------------------------------------------

@pytest.mark.parametrize("kind, stage", [
    ("photo", "before"), ("photo", "during"), ("photo", "after"),
    ("signature", None), ("material", None), ("minutes", None), ("report", None),
])
def test_valid_kind_and_stage(kind, stage):
    assert domain.kind_stage_errors(kind, stage) == {}


@pytest.mark.parametrize("kind, stage, field", [
    ("photo", None, "stage"),
    ("photo", "later", "stage"),
    ("signature", "before", "stage"),
    ("report", "after", "stage"),
    ("selfie", None, "kind"),
    (None, None, "kind"),
])
def test_invalid_kind_and_stage_name_the_field(kind, stage, field):
    errors = domain.kind_stage_errors(kind, stage)
    assert list(errors) == [field]
    assert errors[field][0]


# -- content ------------------------------------------------------------------

def test_inspect_gives_detected_type_size_and_sha256():
    facts = domain.inspect_content("photo", samples.PNG, MAX)
    assert facts == domain.FileFacts(sniff.PNG, len(samples.PNG),
                                     hashlib.sha256(samples.PNG).hexdigest())


def test_empty_file_is_invalid_input_on_the_file_field():
    with pytest.raises(InvalidInput) as caught:
        domain.inspect_content("photo", b"", MAX)
    assert caught.value.status == 400
    assert caught.value.fields == {"file": ["文件为空 (empty file)"]}


def test_file_at_the_limit_passes_one_byte_more_is_413():
    assert domain.inspect_content("photo", samples.jpeg_headed(MAX), MAX).size == MAX
    with pytest.raises(TooLarge) as caught:
        domain.inspect_content("photo", samples.jpeg_headed(MAX + 1), MAX)
    assert caught.value.status == 413
    assert "1 KiB" in caught.value.message


def test_exe_renamed_jpg_is_415_naming_what_is_allowed():
    with pytest.raises(UnsupportedMediaType) as caught:
        domain.inspect_content("photo", samples.EXE, MAX)
    assert caught.value.status == 415
    for name in ("JPEG", "PNG", "WebP", "HEIC", "PDF"):
        assert name in caught.value.message
    assert "CSV" not in caught.value.message


@pytest.mark.parametrize("content, expected", [
    (samples.CSV, sniff.CSV), (samples.xlsx(), sniff.XLSX), (samples.PDF, sniff.PDF),
])
def test_reports_may_be_spreadsheets(content, expected):
    assert domain.inspect_content("report", content, 1 << 20).content_type == expected


@pytest.mark.parametrize("kind", ["photo", "signature", "material", "minutes"])
@pytest.mark.parametrize("content", [samples.CSV, samples.xlsx()])
def test_spreadsheets_only_for_reports(kind, content):
    stage = "before" if kind == "photo" else None
    assert domain.kind_stage_errors(kind, stage) == {}
    with pytest.raises(UnsupportedMediaType):
        domain.inspect_content(kind, content, 1 << 20)


def test_report_refusal_names_spreadsheets_too():
    with pytest.raises(UnsupportedMediaType) as caught:
        domain.inspect_content("report", samples.EXE, MAX)
    assert "CSV" in caught.value.message and "XLSX" in caught.value.message


def test_decode_content_round_trip():
    encoded = base64.b64encode(samples.PNG).decode()
    assert domain.decode_content(encoded, MAX) == samples.PNG


@pytest.mark.parametrize("value", [None, ""])
def test_decode_nothing_is_an_empty_file(value):
    with pytest.raises(InvalidInput) as caught:
        domain.decode_content(value, MAX)
    assert list(caught.value.fields) == ["file"]


@pytest.mark.parametrize("value", ["not base64!", "abc", 12345])
def test_decode_rejects_what_is_not_base64(value):
    with pytest.raises(InvalidInput) as caught:
        domain.decode_content(value, MAX)
    assert list(caught.value.fields) == ["file"]


def test_decode_refuses_oversized_payload_before_decoding():
    exactly = base64.b64encode(b"x" * MAX).decode()
    assert len(domain.decode_content(exactly, MAX)) == MAX
    # Not even valid base64: refused for its length alone, so it is never decoded.
    with pytest.raises(TooLarge):
        domain.decode_content("!" * (len(exactly) + 1), MAX)


# -- naming -------------------------------------------------------------------

def test_ids_and_keys_carry_the_region_and_month_in_utc():
    media_id = domain.media_id("GZ", "f" * 32)
    assert media_id == "M-GZ-" + "f" * 32
    shanghai_first = datetime(2026, 12, 1, 1, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    assert domain.object_key("GZ", shanghai_first, media_id) == f"GZ/2026/11/{media_id}"
    assert domain.checked_media_id(media_id) == media_id


@pytest.mark.parametrize("value", [
    None, 7, "", "M-GZ-123", "../../etc/passwd", "M-GZ-" + "F" * 32, "M-gz-" + "f" * 32,
    "GZ/2026/11/M-GZ-" + "f" * 32, "M-GZ-" + "f" * 32 + "/../x", "M-GZ-" + "f" * 32 + "\n",
])
def test_malformed_media_ids_are_not_found(value):
    with pytest.raises(NotFound):
        domain.checked_media_id(value)


@pytest.mark.parametrize("name, expected", [
    ("photo.jpg", "photo.jpg"),
    ("../../etc/passwd", "passwd"),
    ("C:\\Users\\x\\现场照片.heic", "现场照片.heic"),
    ("a\x00b\nc.png", "abc.png"),
    ("", None), (None, None), ("../", None),
    ("x" * 300, "x" * 255),
])
def test_filename_is_kept_as_plain_text(name, expected):
    assert domain.clean_filename(name) == expected


# -- signatures ---------------------------------------------------------------

def test_bind_records_the_record_and_its_hash():
    bound, changed = domain.bind_signature(media(), "complaint", "C-GZ-2026-000123", SHA_B,
                                           "P-2", NOW, complaint_id="C-GZ-2026-000123")
    assert changed
    assert (bound.bound_record_type, bound.bound_record_id, bound.bound_record_sha256,
            bound.bound_at, bound.bound_by) == ("complaint", "C-GZ-2026-000123", SHA_B, NOW, "P-2")
    assert bound.complaint_id == "C-GZ-2026-000123"


def test_binding_again_to_the_same_record_changes_nothing():
    bound, _ = domain.bind_signature(media(), "complaint", "C-1", SHA_B, "P-2", NOW)
    again, changed = domain.bind_signature(bound, "complaint", "C-1", SHA_B, "P-3",
                                           NOW + timedelta(hours=1))
    assert not changed
    assert again == bound


@pytest.mark.parametrize("record_type, record_id, sha", [
    ("complaint", "C-2", SHA_B), ("visit", "C-1", SHA_B), ("complaint", "C-1", SHA_A),
])
def test_binding_to_another_record_or_content_is_a_conflict(record_type, record_id, sha):
    bound, _ = domain.bind_signature(media(), "complaint", "C-1", SHA_B, None, NOW)
    with pytest.raises(Conflict) as caught:
        domain.bind_signature(bound, record_type, record_id, sha, None, NOW)
    assert caught.value.status == 409


def test_only_signatures_are_bound():
    with pytest.raises(InvalidInput) as caught:
        domain.bind_signature(media(kind="photo", stage="before"), "visit", "V-1", SHA_B, None, NOW)
    assert list(caught.value.fields) == ["media_id"]


def test_signature_of_one_complaint_cannot_confirm_another():
    with pytest.raises(Conflict):
        domain.bind_signature(media(complaint_id="C-1"), "complaint", "C-2", SHA_B, None, NOW,
                              complaint_id="C-2")


def test_verify_intact_and_tampered():
    bound, _ = domain.bind_signature(media(), "complaint", "C-1", SHA_B, None, NOW)
    assert domain.verify_signature(bound, SHA_B)["intact"] is True
    tampered = domain.verify_signature(bound, SHA_A)
    assert tampered == {"media_id": bound.id, "record_type": "complaint", "record_id": "C-1",
                        "intact": False, "bound_record_sha256": SHA_B,
                        "current_record_sha256": SHA_A}


def test_verify_unbound_signature_is_a_conflict():
    with pytest.raises(Conflict):
        domain.verify_signature(media(), SHA_B)


# -- orphans ------------------------------------------------------------------

def test_orphans_are_old_objects_no_row_names():
    hour = timedelta(hours=1)
    listing = [("GZ/a", NOW - 2 * hour), ("GZ/b", NOW - 2 * hour),
               ("GZ/c", NOW - timedelta(minutes=5)), ("GZ/d", NOW - hour)]
    assert domain.orphan_keys(listing, {"GZ/b"}, NOW, hour) == ["GZ/a", "GZ/d"]
    assert domain.orphan_keys(listing, set(), NOW, timedelta(0)) == ["GZ/a", "GZ/b", "GZ/c", "GZ/d"]


@pytest.mark.parametrize("value", [-1, None, "3600", True])
def test_sweep_age_must_be_a_non_negative_number(value):
    with pytest.raises(InvalidInput):
        domain.sweep_age(value)
