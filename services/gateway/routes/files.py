"""Files by their signed links: `GET /files/<token>` (SPEC §6: objects are read
through short-lived signed URLs).

A mixin of GatewayService. Media signs every file's link for this path
(`MediaView.url`); the gateway answers it on whatever host the console was
reached at, so a phone on the network loads photos and signatures from the
same address as the page, never from the object store's internal one.

How it is read (why this way): the token is checked by media, which alone
holds the link key (`MediaClient.open_link`, a small answer: type, size,
hash, and where the bytes are); the bytes never travel over RPC. The gateway
then streams them with shared.contracts.media.reading: from the local
directory (`make run`'s default; the same `MEDIA.local_dir`, opened with the
same safe-key rule media writes with) or from a URL media presigned for the
store's internal endpoint, valid a minute, so the gateway holds no store
credentials. With `MINIO.public_endpoint` set, media signs for that endpoint
instead and the gateway redirects the browser there (302). An altered or
expired link is refused with SPEC §10's body (403), an unknown file 404.
"""
from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any
from urllib.parse import quote

from werkzeug.wrappers import Response

from services.gateway.api import route
from services.gateway.clients import Clients
from shared.clock import system_now
from shared.contracts.media import MediaClient
from shared.contracts.media.reading import open_source

log = logging.getLogger(__name__)

# Shown in the browser (an <img>, the PDF viewer); the spreadsheets are saved.
INLINE_TYPES = ("image/", "application/pdf")
_HOST = re.compile(r"[A-Za-z0-9.-]+(:[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?")
_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp",
               "image/heic": "heic", "image/heif": "heif", "application/pdf": "pdf",
               "text/csv": "csv",
               "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx"}


def base_url(request: Any) -> str | None:
    """`scheme://host` as the client reached the gateway (a proxy's
    X-Forwarded-Proto / X-Forwarded-Host first), or None when the host is not
    a plain host name (the link then stays a path, which a browser resolves
    against the page)."""
    forwarded_proto = request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip()
    scheme = forwarded_proto if forwarded_proto in ("http", "https") else request.scheme
    host = request.headers.get("X-Forwarded-Host", "").split(",")[0].strip() or request.host
    if scheme not in ("http", "https") or not _HOST.fullmatch(host or ""):
        return None
    return f"{scheme}://{host}"


def absolute_link(request: Any, media: Any) -> Any:
    """A MediaView (or a list of them) with its `url` on the host of this request."""
    if isinstance(media, list):
        return [absolute_link(request, item) for item in media]
    if isinstance(media, dict) and str(media.get("url") or "").startswith("/"):
        base = base_url(request)
        if base is not None:
            return dict(media, url=base + media["url"])
    return media


def disposition(link: dict[str, Any]) -> str:
    """Content-Disposition: inline or attachment, with the uploader's name
    (RFC 6266/5987) and an ASCII fallback of the media id."""
    inline = link["content_type"].startswith(INLINE_TYPES)
    fallback = f"{link['media_id']}.{_EXTENSIONS.get(link['content_type'], 'bin')}"
    value = f'{"inline" if inline else "attachment"}; filename="{fallback}"'
    if link.get("filename"):
        value += f"; filename*=UTF-8''{quote(link['filename'], safe='')}"
    return value


def _seconds_left(link: dict[str, Any]) -> int:
    # A browser's link expires in real time (media signs it so), not on the simulation clock.
    expires = datetime.fromisoformat(link["expires_at"])
    return max(0, int((expires - system_now()).total_seconds()))


class FileRoutes(Clients):

    @route("GET", "/files/<token>", summary="文件内容 (a file by its signed link)", public=True,
           tags=["media"], description="The link of `GET /api/media/{id}` (`url`): no bearer "
           "token, the link is the permission; it expires after `MEDIA.signed_url_seconds`. "
           "403 when altered or expired, 404 when the file is gone.")
    def read_file(self, request, principal, payload, token):
        link = self.client(MediaClient).open_link(token)
        source = link["source"]
        private = f"private, max-age={_seconds_left(link)}"
        if source["kind"] == "redirect":
            return Response(status=302, headers={
                "Location": source["url"], "Cache-Control": "no-store",
                "Referrer-Policy": "no-referrer"})
        headers = {"Cache-Control": private, "ETag": f'"{link["sha256"]}"',
                   "Content-Disposition": disposition(link),
                   "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
        if link["sha256"] in request.if_none_match:
            return Response(status=304, headers=headers)
        stream = open_source(source, self.config)
        if stream.length is not None and stream.length != link["size"]:
            log.error("stored object of %s has %s bytes, its record says %s",
                      link["media_id"], stream.length, link["size"])
        response = Response(stream.chunks, status=200, headers=headers,
                            content_type=link["content_type"], direct_passthrough=True)
        response.content_length = stream.length if stream.length is not None else link["size"]
        response.call_on_close(stream.close)
        return response
