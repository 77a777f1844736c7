"""What dispatch asks media (shared.contracts.media): the description of the
files a step names, looked up before the step takes its lock."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.contracts.media import MediaClient
from shared.errors import NotFound


def describe(media: MediaClient, media_ids: Iterable[str | None]) -> dict[str, Any]:
    """{id: media's description, or None if there is no such file} of the
    distinct ids given (an empty id is skipped)."""
    described: dict[str, Any] = {}
    for media_id in dict.fromkeys(media_ids):
        if not media_id:
            continue
        try:
            described[media_id] = media.get(media_id)
        except NotFound:
            described[media_id] = None
    return described
