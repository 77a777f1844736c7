"""A file's link (SPEC §6: objects are read through short-lived signed URLs).

Every photo, signature or file is read at the gateway's `GET /files/<token>`,
never at the object store's own address (which a phone on the network may
not reach). The token is `<media id>.<expiry>.<signature>`: the expiry in
Unix seconds (real time: a browser's link, not the simulation clock) and an
HMAC-SHA256 over both with media's link key (random, kept in media's schema,
never sent anywhere). A changed id or expiry breaks the signature; a link past
its expiry is refused. Pure: no I/O, `now` is passed in.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
from datetime import UTC, datetime

from shared.contracts.media.files import is_media_id
from shared.errors import Forbidden

LINK_PATH = "/files/"
MAX_TOKEN = 200
_TOKEN = re.compile(r"(M-[A-Z0-9]{1,12}-[0-9a-f]{32})\.([0-9]{1,12})\.([A-Za-z0-9_-]{43})")

EXPIRED = "链接已过期，请刷新页面取得新链接 (link expired: reload the page for a new one)"
ALTERED = "链接无效 (invalid link)"


def _signature(secret: bytes, media_id: str, expires: int) -> str:
    digest = hmac.new(secret, f"{media_id}.{expires}".encode("ascii"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def sign(secret: bytes, media_id: str, expires_at: datetime) -> str:
    """The token of a link to `media_id` valid until `expires_at`."""
    if not is_media_id(media_id):
        raise ValueError(f"not a media id: {media_id!r}")
    expires = int(expires_at.timestamp())
    return f"{media_id}.{expires}.{_signature(secret, media_id, expires)}"


def link_path(token: str) -> str:
    """The gateway's path that serves the file of `token`."""
    return LINK_PATH + token


def verify(secret: bytes, token: object, now: datetime) -> tuple[str, datetime]:
    """(media id, expiry) of a token this key signed and that has not
    expired; Forbidden with SPEC §10's body otherwise."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        raise Forbidden(ALTERED)
    match = _TOKEN.fullmatch(token)
    if match is None:
        raise Forbidden(ALTERED)
    media_id, expires_text, signature = match.groups()
    expires = int(expires_text)
    if not hmac.compare_digest(signature, _signature(secret, media_id, expires)):
        raise Forbidden(ALTERED)
    expires_at = datetime.fromtimestamp(expires, UTC)
    if now >= expires_at:
        raise Forbidden(EXPIRED)
    return media_id, expires_at
