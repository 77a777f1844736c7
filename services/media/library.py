"""The media service's work (SPEC §6), between its entrypoints and the pure
rules: store a file, sign its link and open it, bind and verify a signature,
sweep orphans. Built per call from the worker's dependencies (database,
store, outbox, clock and config), so unit tests hand it fakes."""
from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from services.media import domain, links, repository, sniff, views
from services.media.storage import MediaStore
from shared.clock import system_now
from shared.contracts.media import (
    DEFAULT_MAX_BYTES,
    BindRequest,
    ConfirmRequest,
    UploadRequest,
    VerifyRequest,
)
from shared.errors import CCRMError, InvalidInput, NotFound, Unavailable
from shared.outbox import outbox_backlog
from shared.validation import load_input

log = logging.getLogger(__name__)

# The forms, built once: a marshmallow schema is stateless once built, and
# building one per call cost more than loading with it (issue 17: 8 % of
# media's busy samples; load_input with an instance 16 us, with the class 70 us).
_UPLOAD, _CONFIRM = UploadRequest(), ConfirmRequest()
_BIND, _VERIFY = BindRequest(), VerifyRequest()

DEFAULT_SIGNED_URL_SECONDS = 300
# An upload whose confirm never came is swept with its object after this.
DEFAULT_UNCONFIRMED_SECONDS = 24 * 3600
# How long the gateway's presigned PUT stays valid (real time).
DEFAULT_UPLOAD_URL_SECONDS = 300
SWEEP_BATCH = 500


@dataclass(frozen=True)
class Settings:
    """The `MEDIA` and `REGION_CODE` config as media reads it."""
    config: Mapping[str, Any]

    def _media(self) -> Mapping[str, Any]:
        return self.config.get("MEDIA") or {}

    @property
    def max_bytes(self) -> int:
        return int(self._media().get("max_bytes", DEFAULT_MAX_BYTES))

    @property
    def signed_url_for(self) -> timedelta:
        return timedelta(seconds=int(self._media().get(
            "signed_url_seconds", DEFAULT_SIGNED_URL_SECONDS)))

    @property
    def unconfirmed_for(self) -> timedelta:
        return timedelta(seconds=int(self._media().get(
            "unconfirmed_seconds", DEFAULT_UNCONFIRMED_SECONDS)))

    @property
    def upload_url_for(self) -> timedelta:
        return timedelta(seconds=int(self._media().get(
            "upload_url_seconds", DEFAULT_UPLOAD_URL_SECONDS)))

    @property
    def region(self) -> str:
        region = str(self.config.get("REGION_CODE", "GZ")).upper()
        if not re.fullmatch(r"[A-Z0-9]{1,12}", region):
            raise ValueError(f"REGION_CODE must be 1-12 letters or digits, not {region!r}")
        return region


def _never_stored() -> InvalidInput:
    return InvalidInput({"file": [
        "文件未写入存储，请重新上传 (the file never reached the store; upload it again)"]})


class MediaLibrary:
    def __init__(self, database: Any, store: MediaStore, outbox: Any, clock: Any,
                 settings: Settings) -> None:
        self.database = database
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.settings = settings

    def upload(self, content_b64: object, form: Mapping[str, Any]) -> dict[str, Any]:
        """Store a file described by an UploadRequest form."""
        request = load_input(_UPLOAD, form)
        max_bytes = self.settings.max_bytes
        content = domain.decode_content(content_b64, max_bytes)
        facts = domain.inspect_content(request["kind"], content, max_bytes)
        now = self.clock.now()
        media = self._new_media(request, facts, now)

        # Object first, then row + event in one transaction; a failed commit
        # removes the object again (and a crash in between leaves an orphan
        # that sweep_orphans removes later).
        self.store.put(media.key, content, media.content_type)
        try:
            with self.database.transaction() as conn:
                repository.insert(conn, media)
                self.outbox.add(conn, "media.stored", views.stored_event(media),
                                occurred_at=now, complaint_id=media.complaint_id)
        except Unavailable:
            # The database went away (a restart, a cut network): the commit may
            # have happened with its answer lost, and removing the object would
            # leave a row naming nothing. An object no row names is an orphan
            # that sweep_orphans removes later (found by the fault test).
            raise
        except BaseException:
            self._remove_quietly(media.key)
            raise
        return views.media_view(media, self.clock.zone)

    def reserve_uploads(self, count: object) -> list[dict[str, Any]]:
        """`count` places the gateway may write new files to itself (a key,
        and for S3 a presigned PUT valid MEDIA.upload_url_seconds). The
        gateway keeps a few at hand, so an upload costs it one RPC (the
        confirm), not two; those never used are swept like any unconfirmed one."""
        count = domain.reservation_count(count)
        now = self.clock.now()
        region = self.settings.region
        expires = self.settings.upload_url_for
        expires_at = system_now().replace(microsecond=0) + expires
        pending = []
        for _ in range(count):
            upload_id = domain.media_id(region, uuid.uuid4().hex)
            pending.append(domain.PendingUpload(
                id=upload_id, key=domain.object_key(region, now, upload_id), created_at=now,
                expires_at=expires_at))
        targets = [self.store.upload_target(p.key, expires) for p in pending]
        with self.database.transaction() as conn:
            repository.insert_pending(conn, pending)
        return [views.upload_target_view(p.id, target, expires_at, self.clock.zone)
                for p, target in zip(pending, targets, strict=True)]

    def confirm_upload(self, upload_id: object, form: Mapping[str, Any]) -> dict[str, Any]:
        """Check what the gateway stored at a reserved target (a ConfirmRequest:
        the file's description, its size, the SHA-256 and for S3 the MD5 it
        wrote; the type is the bytes': _checked_facts) and record it with its
        `media.stored` event; a refused upload is deleted, object and all."""
        upload_id = domain.checked_media_id(upload_id)
        with self.database.connection() as conn:
            pending = repository.get_pending(conn, upload_id)
            done = None if pending is not None else repository.get(conn, upload_id)
        if pending is None:
            return self._confirmed_before(upload_id, done, form)
        try:
            request = load_input(_CONFIRM, form)
            domain.check_declared_size(request["size"], self.settings.max_bytes)
            facts = self._checked_facts(pending, request)
        except CCRMError:
            self._refuse(pending)
            raise
        now = self.clock.now()
        media = domain.confirmed_media(pending, request, facts, self.settings.region, now)
        # The row is the lock (a second confirm or the sweep may have taken it):
        # nothing is kept unless the INSERT takes it. One round trip, one
        # implicit transaction (repository.in_one_round_trip).
        def record(conn: Any) -> None:
            repository.insert_taking_pending(conn, media)
            self.outbox.add(conn, "media.stored", views.stored_event(media),
                            occurred_at=now, complaint_id=media.complaint_id)

        with self.database.connection() as conn:
            if not repository.in_one_round_trip(conn, record):
                done = repository.get(conn, upload_id)
                return self._confirmed_before(upload_id, done, form)
        return views.media_view(media, self.clock.zone)

    def get(self, media_id: object) -> dict[str, Any]:
        """The media with its link (`/files/<token>` on the gateway), valid
        for the configured time."""
        media_id = domain.checked_media_id(media_id)
        with self.database.connection() as conn:
            media = repository.get(conn, media_id)
            if media is None:
                raise NotFound(f"媒体文件不存在 (no media {media_id})")
            secret = repository.link_key(conn)
        return self._linked([media], secret)[media.id]

    def get_many(self, media_ids: object) -> list[dict[str, Any] | None]:
        """`get` of each id, in their order, in one call: None where the id
        names nothing (unknown or malformed). What a complaint page shows,
        asked once instead of once per file."""
        ids = domain.checked_media_ids(media_ids)
        wellformed = [i for i in ids if domain.is_media_id(i)]
        with self.database.connection() as conn:
            found = repository.get_many(conn, wellformed) if wellformed else {}
            secret = repository.link_key(conn) if found else b""
        linked = self._linked(found.values(), secret)
        return [linked.get(i) for i in ids]

    def files_of_complaint(self, complaint_id: object, limit: object) -> list[dict[str, Any]]:
        """The complaint's newest `limit` files (at most MAX_COMPLAINT_FILES),
        newest first, each as `get` answers it: a complaint page asks this
        beside its other parts, before it knows which files it names. Only
        the files that carry the complaint's id (uploaded for it, or a
        signature bound with it); an unknown complaint has none."""
        complaint_id, limit = domain.checked_complaint_files(complaint_id, limit)
        with self.database.connection() as conn:
            found = repository.files_of_complaint(conn, complaint_id, limit)
            secret = repository.link_key(conn) if found else b""
        return list(self._linked(found, secret).values())

    def open_link(self, token: object) -> dict[str, Any]:
        """What the gateway needs to answer `GET /files/<token>`: the file's
        type, size and hash and where to read it (its `source`). Forbidden
        when the token was altered or has expired."""
        now = system_now()
        with self.database.connection() as conn:
            media_id, expires_at = links.verify(repository.link_key(conn), token, now)
            media = repository.get(conn, media_id)
        if media is None:
            raise NotFound(f"媒体文件不存在 (no media {media_id})")
        source = self.store.source(media.key, now.replace(microsecond=0), media.content_type)
        return views.link_view(media, expires_at, source, self.clock.zone)

    def bind_signature(self, media_id: object, form: Mapping[str, Any]) -> dict[str, Any]:
        """Bind a signature to the record of a BindRequest form (once)."""
        media_id = domain.checked_media_id(media_id)
        request = load_input(_BIND, form)
        now = self.clock.now()
        with self.database.transaction() as conn:
            media = repository.get(conn, media_id, for_update=True)
            if media is None:
                raise NotFound(f"媒体文件不存在 (no media {media_id})")
            bound, changed = domain.bind_signature(
                media, request["record_type"], request["record_id"],
                request["record_sha256"].lower(), request["bound_by"], now,
                complaint_id=request["complaint_id"])
            if changed:
                repository.save_binding(conn, bound)
                self.outbox.add(conn, "media.signature_bound", views.signature_bound_event(bound),
                                occurred_at=now, complaint_id=bound.complaint_id)
        return views.media_view(bound, self.clock.zone)

    def verify_signature(self, media_id: object, form: Mapping[str, Any]) -> dict[str, Any]:
        """Whether the record bound to a signature still has the hash of a
        VerifyRequest form."""
        request = load_input(_VERIFY, form)
        return domain.verify_signature(self._load(media_id),
                                       request["current_record_sha256"].lower())

    def sweep_orphans(self, older_than_seconds: object) -> int:
        """Remove uploads begun longer than MEDIA.unconfirmed_seconds ago (on
        the shared clock) and never confirmed, with their objects; then stored
        objects that no row names (an upload that crashed between storing and
        committing). Returns how many uploads and objects were removed."""
        older_than = domain.sweep_age(older_than_seconds)
        removed = self._sweep_unconfirmed()
        # Objects' times come from the store's real clock: compare with real time.
        now = system_now()
        listing: list[tuple[str, datetime]] = []
        orphans: list[str] = []
        for entry in self.store.list(f"{self.settings.region}/"):
            listing.append(entry)
            if len(listing) >= SWEEP_BATCH:
                orphans += self._orphans(listing, now, older_than)
                listing = []
        orphans += self._orphans(listing, now, older_than)
        for key in orphans:
            self.store.remove(key)
        if orphans:
            log.warning("removed %d orphaned media objects", len(orphans))
        return removed + len(orphans)

    def health(self) -> dict[str, Any]:
        try:
            with self.database.connection() as conn:
                repository.ping(conn)
            database = "ok"
            backlog = outbox_backlog(self.database, "media")
        except Exception as exc:  # noqa: BLE001 - health reports, never raises
            database, backlog = f"unavailable: {exc}", None
        storage = "ok" if self.store.ping() else "unavailable"
        status = "ok" if database == storage == "ok" else "degraded"
        return {"status": status, "database": database, "storage": storage,
                "outbox_backlog": backlog}

    # -- helpers --------------------------------------------------------------

    def _linked(self, found: Iterable[domain.Media], secret: bytes) -> dict[str, dict[str, Any]]:
        """Each file's view with a signed link (`get`'s), by id, in order. A
        browser's link: it expires in real time, not on the simulation clock."""
        expires_at = system_now().replace(microsecond=0) + self.settings.signed_url_for
        return {media.id: views.media_view(
                    media, self.clock.zone, url_expires_at=expires_at,
                    url=links.link_path(links.sign(secret, media.id, expires_at)))
                for media in found}

    def _new_media(self, request: Mapping[str, Any], facts: domain.FileFacts,
                   now: datetime) -> domain.Media:
        region = self.settings.region
        media_id = domain.media_id(region, uuid.uuid4().hex)
        return domain.Media(
            id=media_id, key=domain.object_key(region, now, media_id), region=region,
            kind=request["kind"], stage=request["stage"], content_type=facts.content_type,
            size=facts.size, sha256=facts.sha256,
            original_filename=domain.clean_filename(request["filename"]),
            complaint_id=request["complaint_id"], step=request["step"],
            uploaded_by=request["uploaded_by"], created_at=now,
            signature_kind=request.get("signature_kind"))

    def _load(self, media_id: object) -> domain.Media:
        media_id = domain.checked_media_id(media_id)
        with self.database.connection() as conn:
            media = repository.get(conn, media_id)
        if media is None:
            raise NotFound(f"媒体文件不存在 (no media {media_id})")
        return media

    def _orphans(self, listing: list[tuple[str, datetime]], now: datetime,
                 older_than: timedelta) -> list[str]:
        if not listing:
            return []
        with self.database.connection() as conn:
            known = repository.known_keys(conn, [key for key, _ in listing])
        return domain.orphan_keys(listing, known, now, older_than)

    def _checked_facts(self, pending: domain.PendingUpload,
                       request: Mapping[str, Any]) -> domain.FileFacts:
        """The stored object is the file the gateway wrote, of an allowed
        type: from its first bytes when the store's MD5 of it is the one the
        gateway sent (domain.head_facts says why that is enough), else read
        back whole (the local directory, an old gateway, an ETag that is no
        MD5) and checked byte for byte."""
        if request.get("md5"):
            try:
                peeked = self.store.peek(pending.key, sniff.HEAD_BYTES)
            except NotFound:
                raise _never_stored() from None
            facts = domain.head_facts(request["kind"], peeked.size, peeked.head, peeked.md5,
                                      request["size"], request["sha256"], request["md5"])
            if facts is not None:
                return facts
        content = self._stored(pending)
        facts = domain.inspect_content(request["kind"], content, self.settings.max_bytes)
        domain.check_stored(request["size"], facts, request["sha256"])
        return facts

    def _stored(self, pending: domain.PendingUpload) -> bytes:
        try:
            return self.store.read(pending.key)
        except NotFound:
            raise _never_stored() from None

    def _confirmed_before(self, upload_id: str, media: domain.Media | None,
                          form: Mapping[str, Any]) -> dict[str, Any]:
        """A confirm repeated (a retry) answers what the first one recorded."""
        if media is None:
            raise NotFound(f"上传不存在或已过期 (no upload {upload_id}, or it was swept)")
        if media.sha256 != str(form.get("sha256") or "").lower():
            raise InvalidInput({"sha256": [
                "与已确认的文件不一致 (differs from the file confirmed under this id)"]})
        return views.media_view(media, self.clock.zone)

    def _refuse(self, pending: domain.PendingUpload) -> None:
        """A refused upload leaves nothing behind: its object, then its row."""
        self._remove_quietly(pending.key)
        with self.database.transaction() as conn:
            repository.take_pending(conn, pending.id)

    def _sweep_unconfirmed(self) -> int:
        """Uploads never confirmed: older than the setting on the shared clock,
        their target expired in real time (the gateway no longer holds it).
        Object first, then the row, each row locked while its object goes."""
        begun_before = self.clock.now() - self.settings.unconfirmed_for
        expired_before = system_now()
        removed = 0
        while True:
            with self.database.transaction() as conn:
                stale = repository.stale_uploads(conn, begun_before, expired_before,
                                                 SWEEP_BATCH)
                for pending in stale:
                    self.store.remove(pending.key)
                    repository.take_pending(conn, pending.id)
            removed += len(stale)
            if len(stale) < SWEEP_BATCH:
                break
        if removed:
            log.warning("removed %d uploads never confirmed", removed)
        return removed

    def _remove_quietly(self, key: str) -> None:
        try:
            self.store.remove(key)
        except Exception:  # noqa: BLE001 - the sweeper removes it later
            log.exception("could not remove object %s after a failed upload", key)
