"""The media service's contract (SPEC §6): its typed client, the requests it
loads, the answers it dumps, and what a caller must know about files."""

from shared.contracts.media.client import MediaClient
from shared.contracts.media.files import (
    ALLOWED_TYPES,
    DEFAULT_MAX_BYTES,
    KINDS,
    MAX_COMPLAINT_FILES,
    MAX_IDS_AT_ONCE,
    REPORT_ONLY_TYPES,
    STAGES,
    allowed_types,
    content_b64,
    human_size,
    is_media_id,
)
from shared.contracts.media.forms import (
    BindRequest,
    ConfirmRequest,
    UploadRequest,
    VerifyRequest,
)
from shared.contracts.media.views import (
    BindingView,
    FileLinkView,
    FileSourceView,
    HealthView,
    MediaView,
    UploadTargetView,
    VerificationView,
)

__all__ = [
    "ALLOWED_TYPES", "DEFAULT_MAX_BYTES", "KINDS", "MAX_COMPLAINT_FILES", "MAX_IDS_AT_ONCE",
    "REPORT_ONLY_TYPES", "STAGES",
    "BindRequest", "BindingView", "ConfirmRequest", "FileLinkView", "FileSourceView",
    "HealthView", "MediaClient", "MediaView", "UploadRequest", "UploadTargetView",
    "VerificationView", "VerifyRequest", "allowed_types", "content_b64", "human_size",
    "is_media_id",
]
