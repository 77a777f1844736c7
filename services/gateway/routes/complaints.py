"""Complaint routes of the gateway (SPEC §10): recording, the order's
approval chain, rating, reopen, escalate, and the customer's one-time links.

A mixin of GatewayService: the gateway adds it to its bases with an
`intake = RpcProxy("intake")` attribute. Every route only checks the caller
and the request's shape, then asks intake, which checks everything again
(roles, states, the directory): the gateway is not trusted with the rules.
"""
import base64
import json

from marshmallow import Schema, fields

from services.gateway import rpc
from services.gateway.api import route
from services.gateway.schemas import MediaObject
from services.intake import schemas as intake_schemas
from shared import roles
from shared.errors import InvalidInput, TooLarge

TAGS = ["complaints"]
LINK_TAGS = ["customer link"]


# -- request bodies (they document the OpenAPI; intake validates again) ---------------------

class RecordComplaintBody(intake_schemas.RecordForm):
    """登记投诉 (SPEC §2): an order is drafted unless resolved on the spot."""


class ReviewBody(intake_schemas.DecisionForm):
    """副总经理审核: approve, or reject back to the specialist with a reason."""


class SignBody(intake_schemas.SignForm):
    """总经理签发: approve (optionally overriding the department, with a reason)
    or reject back to the deputy GM with a reason."""


class RatingBody(intake_schemas.RatingForm):
    """接待评价 1-5 (Art. 16)."""


class ReopenBody(intake_schemas.ReopenForm):
    """再次投诉: the customer raised a closed complaint again."""


class EscalateBody(intake_schemas.EscalateForm):
    """标记重大 / 群体性 / 共性问题 (Art. 5, 21, 33)."""


class ComplaintQuery(intake_schemas.ListFilters):
    """Filters of the complaint list; page_size at most 100."""


class LinkSignBody(intake_schemas.LinkSignForm):
    """The customer's signature, uploaded first through POST /api/sign/{token}/media."""


class SignatureUploadForm(intake_schemas.Input):
    """Multipart form: only the `file` part (a JPEG, PNG, WebP or HEIC image)."""


class LinkRatingAccepted(Schema):
    complaint_id = fields.String()
    score = fields.Integer()


def _raw_json(request):
    """The body as sent (already checked by the route): intake loads it itself,
    so times travel as the customer's ISO text, not as re-serialised objects."""
    return json.loads(request.get_data(cache=True) or b"{}")


class ComplaintRoutes:
    """Routes over the intake service; needs `self.intake` (an RpcProxy)."""

    def _intake(self, method, *args, **kwargs):
        return rpc.call(self.intake, method, *args, timeout=self.rpc_timeout(), **kwargs)

    # -- staff ---------------------------------------------------------------------------

    @route("POST", "/api/complaints", summary="登记投诉 (record a complaint)",
           roles={roles.SPECIALIST}, body=RecordComplaintBody,
           response=intake_schemas.ComplaintView, status=201, tags=TAGS,
           description="Only a specialist of the project's desk. For visit and mobile, upload "
           "the customer's signature first (POST /api/media, kind=signature) and give its id; "
           "for phone and letter the customer signs through a one-time link sent by SMS.")
    def record_complaint(self, request, principal, payload):
        return 201, self._intake("record_complaint", principal.as_dict(), _raw_json(request))

    @route("GET", "/api/complaints", summary="投诉列表 (filtered, paginated list)",
           query=ComplaintQuery, response=intake_schemas.ComplaintPage, tags=TAGS,
           description="Specialists see their desks' projects; centre roles see all.")
    def list_complaints(self, request, principal, payload):
        filters = {key: value for key, value in payload.items() if value is not None}
        return self._intake("list_complaints", principal.as_dict(), filters)

    @route("GET", "/api/complaints/<complaint_id>",
           summary="投诉详情 (the complaint with its order and timeline)",
           response=intake_schemas.ComplaintView, tags=TAGS)
    def get_complaint(self, request, principal, payload, complaint_id):
        return self._intake("get_complaint", principal.as_dict(), complaint_id)

    @route("POST", "/api/complaints/<complaint_id>/rating",
           summary="接待评价（专员终端）(reception rating from the desk terminal)",
           roles={roles.SPECIALIST}, body=RatingBody, response=intake_schemas.ComplaintView,
           tags=TAGS, description="Once per complaint; a second rating is refused (409).")
    def rate_complaint_reception(self, request, principal, payload, complaint_id):
        return self._intake("rate_reception", principal.as_dict(), complaint_id,
                            payload["score"], payload["comment"])

    @route("POST", "/api/complaints/<complaint_id>/order/submit",
           summary="提交督办单 (submit the supervision order)", roles={roles.SPECIALIST},
           response=intake_schemas.ComplaintView, tags=TAGS)
    def submit_complaint_order(self, request, principal, payload, complaint_id):
        return self._intake("submit_order", principal.as_dict(), complaint_id)

    @route("POST", "/api/complaints/<complaint_id>/order/review",
           summary="审核督办单 (deputy GM: approve or reject)", roles={roles.CENTRE_DEPUTY_GM},
           body=ReviewBody, response=intake_schemas.ComplaintView, tags=TAGS)
    def review_complaint_order(self, request, principal, payload, complaint_id):
        return self._intake("review_order", principal.as_dict(), complaint_id,
                            payload["decision"], payload["reason"])

    @route("POST", "/api/complaints/<complaint_id>/order/sign",
           summary="签发督办单 (GM: sign or reject; may override the department)",
           roles={roles.CENTRE_GM}, body=SignBody, response=intake_schemas.ComplaintView,
           tags=TAGS)
    def sign_complaint_order(self, request, principal, payload, complaint_id):
        return self._intake("sign_order", principal.as_dict(), complaint_id, payload["decision"],
                            payload["reason"], department=payload["department"],
                            department_reason=payload["department_reason"])

    @route("POST", "/api/complaints/<complaint_id>/reopen",
           summary="再次投诉，重新打开 (reopen a closed complaint)", roles={roles.SPECIALIST},
           body=ReopenBody, response=intake_schemas.ComplaintView, tags=TAGS)
    def reopen_complaint(self, request, principal, payload, complaint_id):
        return self._intake("reopen", principal.as_dict(), complaint_id, payload["reason"])

    @route("POST", "/api/complaints/<complaint_id>/escalate",
           summary="升级为重大 / 群体性 / 共性问题 (escalate)", roles={roles.CENTRE_GM},
           body=EscalateBody, response=intake_schemas.ComplaintView, tags=TAGS)
    def escalate_complaint(self, request, principal, payload, complaint_id):
        return self._intake("escalate", principal.as_dict(), complaint_id, payload["level"],
                            payload["reason"])

    @route("GET", "/api/complaints/<complaint_id>/signature/verify",
           summary="核验签名记录是否被改动 (is the signed record intact?)",
           response=intake_schemas.Verification, tags=TAGS)
    def verify_complaint_signature(self, request, principal, payload, complaint_id):
        return self._intake("verify_record_signature", principal.as_dict(), complaint_id)

    # -- the customer's one-time links (no bearer token) ------------------------------------

    @route("GET", "/api/sign/<token>", summary="客户打开链接 (what the customer's link shows)",
           public=True, response=intake_schemas.LinkView, tags=LINK_TAGS,
           description="404 for an unknown link, 409 for one that was used or has expired.")
    def open_customer_link(self, request, principal, payload, token):
        return self._intake("open_signing_link", token)

    @route("POST", "/api/sign/<token>/media",
           summary="客户上传签名图片 (the customer uploads the signature image)", public=True,
           body=SignatureUploadForm, content="multipart/form-data",
           response=MediaObject, status=201,
           tags=LINK_TAGS, description="Multipart `file`; stored as kind=signature for the "
           "link's complaint. Then POST /api/sign/{token} with its id.")
    def upload_customer_signature(self, request, principal, payload, token):
        link = self._intake("check_link", token, "record_signature")
        upload = request.files.get("file")
        if upload is None:
            raise InvalidInput({"file": ["缺少文件 (missing file)"]})
        limit = self.max_upload_bytes() - 64 * 1024
        content = upload.stream.read(limit + 1)
        if len(content) > limit:
            raise TooLarge(f"文件超过 {limit // (1024 * 1024)} MB 上限 (file over the size limit)")
        return 201, rpc.call(
            self.media, "upload", base64.b64encode(content).decode("ascii"),
            (upload.filename or "")[:200], "signature", complaint_id=link["complaint_id"],
            uploaded_by=None, step=link["step"], timeout=self.rpc_timeout())

    @route("POST", "/api/sign/<token>", summary="客户签名确认记录 (the customer signs the record)",
           public=True, body=LinkSignBody, response=intake_schemas.LinkSigned, tags=LINK_TAGS,
           description="One time only: the link is used up; the answer names the rating link.")
    def sign_customer_link(self, request, principal, payload, token):
        return self._intake("sign_by_link", token, payload["signature_media_id"])

    @route("POST", "/api/sign/<token>/rating",
           summary="客户评价接待 (the customer rates the reception)", public=True,
           body=RatingBody, response=LinkRatingAccepted, tags=LINK_TAGS)
    def rate_customer_link(self, request, principal, payload, token):
        return self._intake("rate_by_link", token, payload["score"], payload["comment"])
