"""The media service (SPEC §6): signatures, photos and files in the object store."""
import shared  # noqa: F401  (psycopg wait function first)

import logging
import re
import uuid
from datetime import timedelta

from nameko.dependency_providers import Config
from shared.rpc import rpc
from nameko.timer import timer

from services.media import domain, repository, schemas
from services.media.storage import ObjectStoreProvider
from shared.clock import ClockProvider, system_now
from shared.db import DatabaseProvider
from shared.errors import NotFound
from shared.observability import Observability
from shared.outbox import OutboxRelay, outbox_backlog

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 10 * 1024 * 1024
DEFAULT_SIGNED_URL_SECONDS = 300
SWEEP_INTERVAL_SECONDS = 15 * 60
SWEEP_BATCH = 500


class MediaService:
    name = "media"

    database = DatabaseProvider("media")
    clock = ClockProvider()
    outbox = OutboxRelay("media")
    store = ObjectStoreProvider()
    config = Config()
    observability = Observability("media")

    @rpc
    def upload(self, content_b64, filename, kind, stage=None, complaint_id=None,
               uploaded_by=None, step=None):
        request = schemas.load(schemas.UploadRequest, {
            "filename": filename, "kind": kind, "stage": stage, "complaint_id": complaint_id,
            "uploaded_by": uploaded_by, "step": step})
        max_bytes = self._max_bytes()
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
                self.outbox.add(conn, "media.stored", {
                    "media_id": media.id, "kind": media.kind, "stage": media.stage,
                    "content_type": media.content_type, "size": media.size,
                    "sha256": media.sha256, "uploaded_by": media.uploaded_by,
                    "complaint_id": media.complaint_id, "step": media.step,
                }, occurred_at=now, complaint_id=media.complaint_id)
        except BaseException:
            self._remove_quietly(media.key)
            raise
        return schemas.dump_media(media, self.clock.zone)

    @rpc
    def get(self, media_id):
        media = self._load(media_id)
        expires = timedelta(seconds=int(self._media_config().get(
            "signed_url_seconds", DEFAULT_SIGNED_URL_SECONDS)))
        # The store checks the signature against its own (real) clock, so the
        # URL is signed with the real time, not the simulation clock.
        signed_at = system_now().replace(microsecond=0)
        url = self.store.presigned_get(media.key, expires, signed_at=signed_at)
        result = schemas.dump_media(media, self.clock.zone)
        result.update(url=url,
                      url_expires_at=(signed_at + expires).astimezone(self.clock.zone).isoformat())
        return result

    @rpc
    def bind_signature(self, media_id, record_type, record_id, record_sha256, bound_by=None,
                       complaint_id=None):
        media_id = domain.checked_media_id(media_id)
        request = schemas.load(schemas.BindRequest, {
            "record_type": record_type, "record_id": record_id, "record_sha256": record_sha256,
            "bound_by": bound_by, "complaint_id": complaint_id})
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
                self.outbox.add(conn, "media.signature_bound", {
                    "media_id": bound.id, "record_type": bound.bound_record_type,
                    "record_id": bound.bound_record_id,
                    "record_sha256": bound.bound_record_sha256, "bound_by": bound.bound_by,
                }, occurred_at=now, complaint_id=bound.complaint_id)
        return schemas.dump_media(bound, self.clock.zone)

    @rpc
    def verify_signature(self, media_id, current_record_sha256):
        request = schemas.load(schemas.VerifyRequest,
                               {"current_record_sha256": current_record_sha256})
        media = self._load(media_id)
        return domain.verify_signature(media, request["current_record_sha256"].lower())

    @rpc
    def sweep_orphans(self, older_than_seconds=3600):
        """Remove stored objects that no row names (an upload that crashed
        between storing and committing); returns how many were removed."""
        older_than = domain.sweep_age(older_than_seconds)
        # Objects' times come from the store's real clock: compare with real time.
        now = system_now()
        listing, orphans = [], []
        for entry in self.store.list(f"{self._region()}/"):
            listing.append(entry)
            if len(listing) >= SWEEP_BATCH:
                orphans += self._orphans(listing, now, older_than)
                listing = []
        orphans += self._orphans(listing, now, older_than)
        for key in orphans:
            self.store.remove(key)
        if orphans:
            log.warning("removed %d orphaned media objects", len(orphans))
        return len(orphans)

    @timer(interval=SWEEP_INTERVAL_SECONDS)
    def sweep_orphans_periodically(self):
        self.sweep_orphans()

    @rpc
    def health(self):
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

    def _media_config(self):
        return self.config.get("MEDIA") or {}

    def _max_bytes(self):
        return int(self._media_config().get("max_bytes", DEFAULT_MAX_BYTES))

    def _region(self):
        region = str(self.config.get("REGION_CODE", "GZ")).upper()
        if not re.fullmatch(r"[A-Z0-9]{1,12}", region):
            raise ValueError(f"REGION_CODE must be 1-12 letters or digits, not {region!r}")
        return region

    def _new_media(self, request, facts, now):
        region = self._region()
        media_id = domain.media_id(region, uuid.uuid4().hex)
        return domain.Media(
            id=media_id, key=domain.object_key(region, now, media_id), region=region,
            kind=request["kind"], stage=request["stage"], content_type=facts.content_type,
            size=facts.size, sha256=facts.sha256,
            original_filename=domain.clean_filename(request["filename"]),
            complaint_id=request["complaint_id"], step=request["step"],
            uploaded_by=request["uploaded_by"], created_at=now)

    def _load(self, media_id):
        media_id = domain.checked_media_id(media_id)
        with self.database.connection() as conn:
            media = repository.get(conn, media_id)
        if media is None:
            raise NotFound(f"媒体文件不存在 (no media {media_id})")
        return media

    def _orphans(self, listing, now, older_than):
        if not listing:
            return []
        with self.database.connection() as conn:
            known = repository.known_keys(conn, [key for key, _ in listing])
        return domain.orphan_keys(listing, known, now, older_than)

    def _remove_quietly(self, key):
        try:
            self.store.remove(key)
        except Exception:  # noqa: BLE001 - the sweeper removes it later
            log.exception("could not remove object %s after a failed upload", key)
