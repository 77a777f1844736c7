"""Media rules (SPEC §6): what may be stored, how it is named, how a signature
is bound to the record it confirms. Pure: no I/O, `now` is passed in.

What callers must know too (kinds, stages, allowed types, the id format,
`human_size`) is the contract's, shared.contracts.media.files."""
from __future__ import annotations

import base64
import binascii
import hashlib
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from services.media import sniff
from shared.contracts.media.files import (
    ALLOWED_NAMES,
    KINDS,
    MAX_COMPLAINT_FILES,
    MAX_IDS_AT_ONCE,
    REPORT_NAMES,
    STAGES,
    allowed_types,
    human_size,
    is_media_id,
    kind_stage_errors,
)
from shared.errors import Conflict, InvalidInput, NotFound, TooLarge, UnsupportedMediaType
from shared.ids import is_complaint_id

__all__ = ["KINDS", "MAX_COMPLAINT_FILES", "MAX_RESERVED", "STAGES", "FileFacts", "Media",
           "PendingUpload", "allowed_types", "bind_signature", "check_declared_size",
           "check_stored", "checked_complaint_files", "checked_media_id", "clean_filename",
           "confirmed_media", "decode_content",
           "detect_type", "head_facts", "human_size", "inspect_content", "kind_stage_errors",
           "media_id", "object_key", "orphan_keys", "reservation_count", "sweep_age", "too_large",
           "verify_signature"]

MAX_FILENAME = 255


@dataclass(frozen=True)
class FileFacts:
    """What the bytes themselves say about an upload."""
    content_type: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Media:
    id: str
    key: str
    region: str
    kind: str
    stage: str | None
    content_type: str
    size: int
    sha256: str
    original_filename: str | None
    complaint_id: str | None
    step: str | None
    uploaded_by: str | None
    created_at: datetime
    bound_record_type: str | None = None
    bound_record_id: str | None = None
    bound_record_sha256: str | None = None
    bound_at: datetime | None = None
    bound_by: str | None = None
    signature_kind: str | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> Media:
        return cls(**{name: row[name] for name in COLUMNS})

    @property
    def bound(self) -> bool:
        return self.bound_record_sha256 is not None


# The row's columns, in the dataclass's order (repository).
COLUMNS = tuple(field.name for field in fields(Media))


# -- naming: ids and keys are ours, never built from user input --------------

def media_id(region: str, unique_hex: str) -> str:
    """`M-<region>-<32 hex>`: the region makes ids unique across deployments
    (SPEC §7); the random part makes them unguessable."""
    return f"M-{region}-{unique_hex}"


def object_key(region: str, now: datetime, media_id_: str) -> str:
    """`<region>/<yyyy>/<mm>/<media_id>` in UTC: lists by month, no user text."""
    now = now.astimezone(UTC)
    return f"{region}/{now:%Y}/{now:%m}/{media_id_}"


def checked_media_id(value: object) -> str:
    """A malformed id cannot name anything: NotFound, like an unknown one."""
    if not isinstance(value, str) or not is_media_id(value):
        raise NotFound(f"媒体文件不存在 (no media {value!r})")
    return value



def checked_media_ids(value: object) -> list[Any]:
    """A list of ids to look up at once (get_many): a list, at most
    MAX_IDS_AT_ONCE; its items are looked up as they are (a malformed one
    names nothing)."""
    if not isinstance(value, list) or len(value) > MAX_IDS_AT_ONCE:
        raise InvalidInput({"media_ids": [
            f"须为不超过 {MAX_IDS_AT_ONCE} 个文件编号的列表 (a list of at most "
            f"{MAX_IDS_AT_ONCE} media ids)"]})
    return [i if isinstance(i, str) else repr(i) for i in value]


def clean_filename(name: object) -> str | None:
    """The client's file name, kept as plain text for people only: control
    characters dropped, path parts removed, length bounded."""
    if not name:
        return None
    name = "".join(ch for ch in str(name) if unicodedata.category(ch)[0] != "C")
    name = name.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name[:MAX_FILENAME] or None


# -- what may be uploaded ----------------------------------------------------

def too_large(max_bytes: int) -> TooLarge:
    limit = human_size(max_bytes)
    return TooLarge(f"文件过大，上限 {limit} (file too large: at most {limit})",
                    {"file": [f"超过 {limit} (larger than {limit})"]})


def decode_content(content_b64: object, max_bytes: int) -> bytes:
    """The upload's bytes from base64 (how they travel over RPC).

    A payload whose encoding is already longer than the limit allows is
    refused before it is decoded: 4 base64 characters carry 3 bytes."""
    if content_b64 is None or content_b64 == "":
        raise InvalidInput({"file": ["文件为空 (empty file)"]})
    if not isinstance(content_b64, (str, bytes)):
        raise InvalidInput({"file": [
            "文件内容须为 base64 文本 (file content must be base64 text)"]})
    if len(content_b64) > 4 * -(-max_bytes // 3):
        raise too_large(max_bytes)
    try:
        return base64.b64decode(content_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput({"file": [
            "文件内容不是有效的 base64 (file content is not valid base64)"]}) from None


def detect_type(kind: str, content: bytes) -> str | None:
    """The content type the bytes prove, if this kind may store it."""
    found = sniff.sniff(content[:sniff.HEAD_BYTES])
    if found is None and kind == "report":
        found = sniff.sniff_spreadsheet(content)
    return found if found in allowed_types(kind) else None


def inspect_content(kind: str, content: bytes, max_bytes: int) -> FileFacts:
    """Check an upload's bytes: not empty, within the limit, an allowed type
    by content. Returns its FileFacts (type, size, SHA-256)."""
    size = len(content)
    if size == 0:
        raise InvalidInput({"file": ["文件为空 (empty file)"]})
    if size > max_bytes:
        raise too_large(max_bytes)
    content_type = detect_type(kind, content)
    if content_type is None:
        names = ALLOWED_NAMES + (f"、{REPORT_NAMES}" if kind == "report" else "")
        raise UnsupportedMediaType(
            f"不支持的文件类型，只接受 {names} (unsupported file type; allowed: "
            f"{names.replace('、', ', ')}; the file's content decides, not its name)",
            {"file": [f"只接受 {names} (only {names.replace('、', ', ')})"]})
    return FileFacts(content_type, size, hashlib.sha256(content).hexdigest())


# -- direct uploads: the gateway writes the bytes, media checks them ----------

@dataclass(frozen=True)
class PendingUpload:
    """An upload target handed out (`reserve_uploads`), not yet confirmed."""
    id: str
    key: str
    created_at: datetime
    expires_at: datetime

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> PendingUpload:
        return cls(**{name: row[name] for name in PENDING_COLUMNS})


PENDING_COLUMNS = tuple(field.name for field in fields(PendingUpload))
MAX_RESERVED = 32



def checked_complaint_files(complaint_id: object, limit: object) -> tuple[str, int]:
    """files_of_complaint's question: a complaint's id and how many of its
    newest files (1 to MAX_COMPLAINT_FILES)."""
    if not is_complaint_id(complaint_id):
        raise InvalidInput({"complaint_id": [
            "须为投诉编号，如 C-GZ-2026-000001 (must be a complaint id like C-GZ-2026-000001)"]})
    if isinstance(limit, bool) or not isinstance(limit, int) or \
            not 1 <= limit <= MAX_COMPLAINT_FILES:
        raise InvalidInput({"limit": [
            f"须为 1 到 {MAX_COMPLAINT_FILES} 的整数 (must be an integer from 1 to "
            f"{MAX_COMPLAINT_FILES})"]})
    return str(complaint_id), limit


def reservation_count(count: object) -> int:
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_RESERVED:
        raise InvalidInput({"count": [
            f"须为 1 到 {MAX_RESERVED} 的整数 (must be an integer from 1 to {MAX_RESERVED})"]})
    return count


def check_declared_size(size: int, max_bytes: int) -> None:
    """Refuse an empty upload or one over the limit."""
    if size <= 0:
        raise InvalidInput({"file": ["文件为空 (empty file)"]})
    if size > max_bytes:
        raise too_large(max_bytes)


def check_stored(declared_size: int, facts: FileFacts, written_sha256: str) -> None:
    """The stored object is what the gateway wrote: the size it declared and
    the SHA-256 it computed while writing."""
    if facts.size != declared_size or facts.sha256 != written_sha256.lower():
        raise InvalidInput({"file": [
            "存储的文件与上传的不一致，请重新上传 (the stored file differs from the upload "
            f"({facts.size} of {declared_size} bytes, or another SHA-256); upload it again)"]})


def head_facts(kind: str, size: int, head: bytes, store_md5: str | None,
               declared_size: int, written_sha256: str, written_md5: str | None
               ) -> FileFacts | None:
    """The facts of a stored object checked from its first bytes only, or
    None when that cannot be done (then it is read back whole and checked by
    inspect_content and check_stored, which also give the refusals).

    As safe as the read-back: the store's MD5 (the ETag of a single-part PUT,
    computed by the store from the bytes it holds) is the MD5 the gateway
    computed over the very bytes it hashed with SHA-256, so the object is
    those bytes (S3 and MinIO also refuse a PUT whose body does not match its
    Content-MD5, BadDigest: the gateway answers 503); the size is the store's;
    the type is decided by the first bytes only (sniff.HEAD_BYTES), as for a
    file read whole. A report that is no PDF is a CSV or an XLSX, told by the
    whole file: read back."""
    if store_md5 is None or written_md5 is None or store_md5 != written_md5.lower():
        return None
    if size != declared_size:
        return None
    content_type = sniff.sniff(head[:sniff.HEAD_BYTES])
    if content_type is None or content_type not in allowed_types(kind):
        return None
    return FileFacts(content_type, size, written_sha256.lower())


def confirmed_media(pending: PendingUpload, request: Mapping[str, Any], facts: FileFacts,
                    region: str, now: datetime) -> Media:
    return Media(
        id=pending.id, key=pending.key, region=region, kind=request["kind"],
        stage=request["stage"], content_type=facts.content_type, size=facts.size,
        sha256=facts.sha256, original_filename=clean_filename(request["filename"]),
        complaint_id=request["complaint_id"], step=request["step"],
        uploaded_by=request["uploaded_by"], created_at=now,
        signature_kind=request.get("signature_kind"))


# -- signatures bound to records (SPEC §6) -----------------------------------

def bind_signature(media: Media, record_type: str, record_id: str, record_sha256: str,
                   by: str | None, now: datetime,
                   complaint_id: str | None = None) -> tuple[Media, bool]:
    """Bind a signature to the record it confirms. Returns (media, changed):
    binding again to the same record and content changes nothing.

    A signature taken at the desk is uploaded before its complaint exists;
    the complaint is named when the record is stored, here."""
    if media.kind != "signature":
        raise InvalidInput({"media_id": [
            f"只有签名可以绑定到记录，该文件类型为 {media.kind} "
            f"(only a signature can be bound; this is a {media.kind})"]})
    if media.bound:
        same = (media.bound_record_type, media.bound_record_id, media.bound_record_sha256) == (
            record_type, record_id, record_sha256)
        if same:
            return media, False
        raise Conflict(
            f"签名已绑定到 {media.bound_record_type} {media.bound_record_id}，不能再绑定到其他记录 "
            f"(signature already bound to {media.bound_record_type} {media.bound_record_id})")
    if complaint_id and media.complaint_id and complaint_id != media.complaint_id:
        raise Conflict(
            f"签名属于投诉 {media.complaint_id}，不能用于 {complaint_id} "
            f"(signature belongs to complaint {media.complaint_id}, not {complaint_id})")
    return replace(media, bound_record_type=record_type, bound_record_id=record_id,
                   bound_record_sha256=record_sha256, bound_at=now, bound_by=by,
                   complaint_id=media.complaint_id or complaint_id), True


def verify_signature(media: Media, current_record_sha256: str) -> dict[str, Any]:
    """Whether the signed record is unchanged since it was signed."""
    if not media.bound:
        raise Conflict("签名尚未绑定到任何记录 (signature not bound to a record)")
    return {
        "media_id": media.id,
        "record_type": media.bound_record_type,
        "record_id": media.bound_record_id,
        "intact": media.bound_record_sha256 == current_record_sha256,
        "bound_record_sha256": media.bound_record_sha256,
        "current_record_sha256": current_record_sha256,
    }


# -- orphans: objects stored by an upload that never committed ---------------

def orphan_keys(listing: Iterable[tuple[str, datetime]], known_keys: set[str] | frozenset[str],
                now: datetime, older_than: timedelta) -> list[str]:
    """Keys of listed (key, last_modified) objects that no row names and that
    are older than `older_than` (younger ones may belong to an upload that is
    still committing)."""
    cutoff = now - older_than
    return [key for key, modified in listing
            if key not in known_keys and modified <= cutoff]


def sweep_age(seconds: object) -> timedelta:
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
        raise InvalidInput({"older_than_seconds": ["须为非负整数 (must be >= 0)"]})
    return timedelta(seconds=seconds)
