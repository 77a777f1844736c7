"""The content decides the type, never the name (SPEC §6)."""
import pytest

from services.media import sniff
from services.media.tests import samples


@pytest.mark.parametrize("content, expected", [
    (samples.JPEG, sniff.JPEG),
    (samples.PNG, sniff.PNG),
    (samples.WEBP, sniff.WEBP),
    (samples.HEIC, sniff.HEIC),
    (samples.HEIF_MIF1, sniff.HEIF),
    (samples.PDF, sniff.PDF),
])
def test_allowed_files_are_recognised_by_their_bytes(content, expected):
    assert sniff.sniff(content) == expected


@pytest.mark.parametrize("content", [
    samples.EXE, samples.ELF, samples.AVIF, samples.AVIF_AS_MIF1, samples.MP4,
    samples.CSV, samples.HTML, samples.SVG, b"", b"\xff\xd8", b"RIFF\x00\x00\x00\x00WAVE",
    b"GIF89a\x01\x00\x01\x00", b"x%PDF-1.4",
])
def test_anything_else_is_none(content):
    assert sniff.sniff(content) is None


def test_only_the_first_bytes_are_read():
    assert sniff.sniff(samples.PNG[:sniff.HEAD_BYTES]) == sniff.PNG
    assert sniff.sniff(samples.JPEG + samples.EXE) == sniff.JPEG


def test_heic_with_generic_major_brand_and_heic_compatible_brand():
    mif1_heic = b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1heic" + b"\x00" * 8
    assert sniff.sniff(mif1_heic) == sniff.HEIC


@pytest.mark.parametrize("content, expected", [
    (samples.xlsx(), sniff.XLSX),
    (samples.CSV, sniff.CSV),
    (samples.CSV_BOM, sniff.CSV),
    (samples.docx_like(), None),
    (samples.plain_zip(), None),
    (b"PK\x03\x04not really a zip", None),
    (samples.LATIN1_TEXT, None),
    (b"a,b\x00,c\n", None),
    (samples.HTML, None),
    (samples.SVG, None),
    (samples.EXE, None),
])
def test_spreadsheets_for_reports(content, expected):
    assert sniff.sniff_spreadsheet(content) == expected
