"""What callers of the media service need to know about files before they
send one (SPEC §6): the kinds and stages, the content types each kind may
store, the size limit, how content travels and how ids look."""

from __future__ import annotations

import base64
import re

KINDS = ("signature", "photo", "material", "minutes", "report")
STAGES = ("before", "during", "after")
# How much one call answers: ids per get_many, newest files per files_of_complaint.
MAX_IDS_AT_ONCE = 100
MAX_COMPLAINT_FILES = 200
# How a signature was made: drawn on the pad, or a name typed and written
# into the image for someone who cannot draw (the console labels it 键入签名).
SIGNATURE_KINDS = ("drawn", "typed")

JPEG = "image/jpeg"
PNG = "image/png"
WEBP = "image/webp"
HEIC = "image/heic"
HEIF = "image/heif"
PDF = "application/pdf"
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# Decided from the bytes, never from the name or the declared type.
ALLOWED_TYPES = (JPEG, PNG, WEBP, HEIC, HEIF, PDF)
# Only the penalty service's monthly report files may be spreadsheets.
REPORT_ONLY_TYPES = (CSV, XLSX)

ALLOWED_NAMES = "JPEG、PNG、WebP、HEIC/HEIF、PDF"
REPORT_NAMES = "CSV、XLSX"

# The size limit unless the `MEDIA.max_bytes` config (read by media and the
# gateway alike) says otherwise.
DEFAULT_MAX_BYTES = 10 * 1024 * 1024

MEDIA_ID = re.compile(r"M-[A-Z0-9]{1,12}-[0-9a-f]{32}")


def allowed_types(kind: str) -> tuple[str, ...]:
    """The content types a file of this kind may have."""
    return ALLOWED_TYPES + (REPORT_ONLY_TYPES if kind == "report" else ())


def is_media_id(value: object) -> bool:
    """`M-<region>-<32 hex>`; anything else names no media (media answers NotFound)."""
    return isinstance(value, str) and MEDIA_ID.fullmatch(value) is not None


def content_b64(content: bytes) -> str:
    """A file's bytes as `upload` takes them (base64 text travels over RPC)."""
    return base64.b64encode(content).decode("ascii")


def human_size(n: int) -> str:
    """A byte count as people read a limit: `10 MiB`, `64 KiB`, `1000 bytes`."""
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MiB"
    if n % 1024 == 0:
        return f"{n // 1024} KiB"
    return f"{n} bytes"


def kind_stage_errors(kind: object, stage: object) -> dict[str, list[str]]:
    """Field errors of the kind/stage pair: photos need a stage, nothing else has one."""
    if kind not in KINDS:
        return {"kind": [f"类型须为 {' / '.join(KINDS)} 之一 "
                         f"(kind must be one of {', '.join(KINDS)})"]}
    if kind == "photo" and stage is None:
        return {"stage": ["照片须注明阶段 before / during / after (a photo needs its stage)"]}
    if kind == "photo" and stage not in STAGES:
        return {"stage": [f"阶段须为 {' / '.join(STAGES)} 之一 "
                          f"(stage must be one of {', '.join(STAGES)})"]}
    if kind != "photo" and stage is not None:
        return {"stage": ["只有照片有阶段 (only photos have a stage)"]}
    return {}


def signature_kind_errors(kind: object, signature_kind: object) -> dict[str, list[str]]:
    """Field errors of signature_kind: drawn or typed, and only on a signature."""
    if signature_kind is None:
        return {}
    if signature_kind not in SIGNATURE_KINDS:
        return {"signature_kind": [f"签名方式须为 {' / '.join(SIGNATURE_KINDS)} 之一 "
                                   f"(signature_kind must be one of {', '.join(SIGNATURE_KINDS)})"]}
    if kind != "signature":
        return {"signature_kind": ["只有签名有签名方式 (only a signature has a signature_kind)"]}
    return {}
