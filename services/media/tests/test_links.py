"""A file's signed link (links.py): what it names, until when, and that any
change to it, or time, makes it refused with SPEC §10's 403."""
from datetime import UTC, datetime, timedelta

import pytest

from services.media import links
from shared.errors import Forbidden

KEY = bytes(range(32))
MEDIA = "M-GZ-" + "0123456789abcdef" * 2
NOW = datetime(2026, 11, 27, 2, 42, tzinfo=UTC)
LATER = NOW + timedelta(minutes=5)


def test_a_link_names_its_file_until_it_expires():
    token = links.sign(KEY, MEDIA, LATER)
    assert links.link_path(token) == f"/files/{token}"
    assert token.startswith(MEDIA + ".")
    assert links.verify(KEY, token, NOW) == (MEDIA, LATER)
    assert links.verify(KEY, token, LATER - timedelta(seconds=1))[0] == MEDIA


def test_an_expired_link_is_refused():
    token = links.sign(KEY, MEDIA, LATER)
    for when in (LATER, LATER + timedelta(days=1)):
        with pytest.raises(Forbidden) as caught:
            links.verify(KEY, token, when)
        assert "过期" in caught.value.message and caught.value.status == 403


def altered(token):
    media_id, expires, signature = token.split(".")
    other = "M-GZ-" + "f" * 32
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    return [
        f"{other}.{expires}.{signature}",                       # another file
        f"{media_id}.{int(expires) + 86400}.{signature}",        # a longer life
        f"{media_id}.{expires}.{flipped}",                       # a forged signature
        f"{media_id}.{expires}.{signature[:-1]}",                # cut short
        f"{media_id}.{expires}", token + ".x", token + "=", "", ".", "..",
        "../../etc/passwd", token.upper(), token * 3, f"{media_id}.-1.{signature}",
    ]


def test_an_altered_link_is_refused():
    token = links.sign(KEY, MEDIA, LATER)
    for changed in altered(token):
        with pytest.raises(Forbidden) as caught:
            links.verify(KEY, changed, NOW)
        assert caught.value.message == links.ALTERED, changed
    for wrong in (None, 42, b"bytes", ["list"]):
        with pytest.raises(Forbidden):
            links.verify(KEY, wrong, NOW)


def test_a_link_signed_with_another_key_is_refused():
    token = links.sign(bytes(32), MEDIA, LATER)
    with pytest.raises(Forbidden):
        links.verify(KEY, token, NOW)


def test_only_media_ids_are_signed():
    with pytest.raises(ValueError):
        links.sign(KEY, "../x", LATER)
