"""The media service (SPEC §6): signatures, photos and files in the object store
(MinIO, or a local directory: storage.store_from_config).

Entrypoints only: each hands its arguments to the MediaLibrary (library.py),
which loads them with the contract's forms (shared.contracts.media) and
answers the contract's views.
"""
from nameko.dependency_providers import Config
from nameko.timer import timer

import shared  # noqa: F401  (psycopg wait function first)
from services.media.domain import MAX_COMPLAINT_FILES
from services.media.keys import LinkKeyProvider
from services.media.library import MediaLibrary, Settings
from services.media.storage import ObjectStoreProvider
from shared.clock import ClockProvider
from shared.db import DatabaseProvider
from shared.observability import Observability
from shared.outbox import OutboxRelay
from shared.rpc import rpc

SWEEP_INTERVAL_SECONDS = 15 * 60


class MediaService:
    name = "media"

    database = DatabaseProvider("media")
    clock = ClockProvider()
    outbox = OutboxRelay("media")
    store = ObjectStoreProvider()
    link_keys = LinkKeyProvider()
    config = Config()
    observability = Observability("media")

    def _library(self):
        return MediaLibrary(self.database, self.store, self.outbox, self.clock,
                            Settings(self.config))

    @rpc
    def upload(self, content_b64, filename, kind, stage=None, complaint_id=None,
               uploaded_by=None, step=None, signature_kind=None):
        return self._library().upload(content_b64, {
            "filename": filename, "kind": kind, "stage": stage, "complaint_id": complaint_id,
            "uploaded_by": uploaded_by, "step": step, "signature_kind": signature_kind})

    @rpc
    def reserve_uploads(self, count=8):
        """Places the gateway writes new files to itself (no bytes over the broker)."""
        return self._library().reserve_uploads(count)

    @rpc
    def confirm_upload(self, upload_id, sha256, size, filename, kind, stage=None,
                       complaint_id=None, uploaded_by=None, step=None, signature_kind=None,
                       md5=None):
        """Check and record what the gateway stored at a reserved place."""
        return self._library().confirm_upload(upload_id, {
            "sha256": sha256, "size": size, "filename": filename, "kind": kind, "stage": stage,
            "complaint_id": complaint_id, "uploaded_by": uploaded_by, "step": step,
            "signature_kind": signature_kind, "md5": md5})

    @rpc
    def get(self, media_id):
        return self._library().get(media_id)

    @rpc
    def get_many(self, media_ids):
        """`get` of several files at once, None for an id that names nothing."""
        return self._library().get_many(media_ids)

    @rpc
    def files_of_complaint(self, complaint_id, limit=MAX_COMPLAINT_FILES):
        """The complaint's newest files (at most 200), newest first, as `get`
        answers them: a complaint page asks this beside intake and dispatch."""
        return self._library().files_of_complaint(complaint_id, limit)

    @rpc
    def open_link(self, token):
        """The file a signed link names and where to read it (the gateway's
        GET /files/<token>); Forbidden when altered or expired."""
        return self._library().open_link(token)

    @rpc
    def bind_signature(self, media_id, record_type, record_id, record_sha256, bound_by=None,
                       complaint_id=None):
        return self._library().bind_signature(media_id, {
            "record_type": record_type, "record_id": record_id, "record_sha256": record_sha256,
            "bound_by": bound_by, "complaint_id": complaint_id})

    @rpc
    def verify_signature(self, media_id, current_record_sha256):
        return self._library().verify_signature(
            media_id, {"current_record_sha256": current_record_sha256})

    @rpc
    def sweep_orphans(self, older_than_seconds=3600):
        """Remove uploads never confirmed (after MEDIA.unconfirmed_seconds) and
        stored objects that no row names; how many were removed."""
        return self._library().sweep_orphans(older_than_seconds)

    @timer(interval=SWEEP_INTERVAL_SECONDS)
    def sweep_orphans_periodically(self):
        self.sweep_orphans()

    @rpc
    def health(self):
        return self._library().health()
