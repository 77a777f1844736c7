"""What dispatch asks media (shared.contracts.media): the description of the
files a step names, looked up before the step takes its lock, in one call."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nameko.exceptions import RemoteError

from shared.contracts.media import MAX_IDS_AT_ONCE, MediaClient
from shared.errors import NotFound


def describe(media: MediaClient, media_ids: Iterable[str | None]) -> dict[str, Any]:
    """{id: media's description, or None if there is no such file} of the
    distinct ids given (an empty id is skipped). One `get_many` call per 100
    ids (a visit's signature and photos, a closure's materials: one call, not
    one per file); one `get` per file from a media that has no get_many yet
    (a rolling deployment)."""
    ids = [media_id for media_id in dict.fromkeys(media_ids) if media_id]
    described: dict[str, Any] = {}
    for start in range(0, len(ids), MAX_IDS_AT_ONCE):
        chunk = ids[start:start + MAX_IDS_AT_ONCE]
        try:
            described.update(zip(chunk, media.get_many(chunk), strict=True))
        except RemoteError as exc:
            if exc.exc_type != "MethodNotFound":
                raise
            described.update((media_id, _get(media, media_id)) for media_id in chunk)
    return described


def _get(media: MediaClient, media_id: str) -> Any:
    try:
        return media.get(media_id)
    except NotFound:
        return None
