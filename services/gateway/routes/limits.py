"""What a page must know before it sends a file (issue 16 item 6): the size
limit media and the gateway enforce and the types media stores, so the console
refuses an oversized or unsupported file before uploading it and says the
limit. Public: the customer's signing page uploads too."""
from marshmallow import Schema, fields

from services.gateway.api import route
from shared.contracts.media import ALLOWED_TYPES, human_size
from shared.contracts.media.files import ALLOWED_NAMES

# Photos larger than this on their longest side are made smaller in the browser.
PHOTO_MAX_EDGE = 2048


class UploadLimits(Schema):
    max_bytes = fields.Integer(required=True, metadata={"description": "largest file, bytes"})
    max_size = fields.String(required=True, metadata={"description": "the same, e.g. 10 MiB"})
    types = fields.List(fields.String(), required=True, metadata={
        "description": "content types media stores (decided from the bytes)"})
    type_names = fields.String(required=True)
    photo_max_edge = fields.Integer(required=True, metadata={
        "description": "the console shrinks photos to this longest side (px) before upload"})


class LimitRoutes:
    """Needs `self.max_file_bytes()` (services.gateway.uploads.Uploads)."""

    @route("GET", "/api/uploads/limits", summary="上传限制 (size limit and file types)",
           public=True, response=UploadLimits, tags=["media"],
           description="The largest file POST /api/media takes and the types it stores; a "
           "larger file is refused with 413.")
    def upload_limits(self, request, principal, payload):
        limit = self.max_file_bytes()
        return {"max_bytes": limit, "max_size": human_size(limit), "types": list(ALLOWED_TYPES),
                "type_names": ALLOWED_NAMES, "photo_max_edge": PHOTO_MAX_EDGE}
