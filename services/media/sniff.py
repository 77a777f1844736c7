"""What a file really is, from its bytes (SPEC §6).

The file name and the type the client declares are never trusted: a `.jpg`
that starts with `MZ` is a Windows program, not a photo. Each function returns
the canonical content type, or None when the bytes match nothing allowed.
"""
from __future__ import annotations

import io
import zipfile

# The content types are the contract's: callers know them as media names them.
from shared.contracts.media.files import CSV, HEIC, HEIF, JPEG, PDF, PNG, WEBP, XLSX

__all__ = ["CSV", "HEAD_BYTES", "HEIC", "HEIF", "JPEG", "PDF", "PNG", "WEBP", "XLSX",
           "sniff", "sniff_spreadsheet"]

# ISO-BMFF major brands of HEVC-coded HEIF images (and sequences).
HEIC_BRANDS = {b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs"}
# Generic HEIF brands: the codec is told by the compatible brands.
HEIF_BRANDS = {b"mif1", b"msf1"}
# AV1-coded HEIF (AVIF) shares the container but is not on the allow-list.
AVIF_BRANDS = {b"avif", b"avis"}

HEAD_BYTES = 64


def sniff(head: bytes) -> str | None:
    """The allow-listed type of a file from its first bytes (>= 12 needed)."""
    head = bytes(head[:HEAD_BYTES])
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    return _heif(head)


def _heif(head: bytes) -> str | None:
    # ISO-BMFF: box size (4 bytes), b"ftyp", major brand, minor version,
    # then compatible brands up to the end of the box.
    if len(head) < 12 or head[4:8] != b"ftyp":
        return None
    box_size = int.from_bytes(head[:4], "big")
    major = head[8:12]
    compatible = {head[i:i + 4] for i in range(16, min(box_size, len(head)) - 3, 4)}
    if major in HEIC_BRANDS:
        return HEIC
    if major in HEIF_BRANDS:
        if compatible & HEIC_BRANDS:
            return HEIC
        if compatible & AVIF_BRANDS:
            return None
        return HEIF
    return None


def sniff_spreadsheet(content: bytes) -> str | None:
    """CSV or XLSX, for report files only (the penalty service's monthly report).

    XLSX: a zip archive holding `[Content_Types].xml` and a workbook under
    `xl/` (a .docx has the first but not the second). CSV: valid UTF-8 text
    without NUL bytes that is not markup (an HTML or SVG page starts with `<`
    and could run script if a browser ever rendered it).
    """
    content = bytes(content)
    if content.startswith(b"PK\x03\x04"):
        return XLSX if _is_xlsx(content) else None
    if b"\x00" in content:
        return None
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    if text.lstrip().startswith("<"):
        return None
    return CSV


def _is_xlsx(content: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, ValueError, OSError):
        return False
    return "[Content_Types].xml" in names and "xl/workbook.xml" in names
