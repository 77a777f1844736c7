"""Complaint routes of the gateway (SPEC §10): recording, the order's
approval chain, rating, reopen, escalate, the callback after a blocked visit,
the closure loop's verify / review / approve, the complaint's page, and the
customer's one-time links.

A mixin of GatewayService: the gateway adds it to its bases with `intake`,
`dispatch` and `media` RpcProxy attributes (and `sla` once deployed). Every
step's route only checks the caller and the request's shape, then asks
intake, which checks everything again (roles, states, the directory): the
gateway is not trusted with the rules.
Every call goes through a contract's typed client (IntakeClient,
DispatchClient, SlaClient, MediaClient): its bounded wait, our errors.

The complaint's page (GET /api/complaints/{id}) is put together from its
parts (complaint_page.py): intake's record (with its order, responsibility,
closure and timeline), dispatch's view of the departments' work, sla's
deadlines and the media the record names,
asked in parallel, each with a bounded wait (COMPLAINT_PAGE_TIMEOUT, 3 s by
default). A part whose service does not answer is `{"unavailable": true,
"reason": ...}` and the rest still shows. Intake's part is the exception: it
says who may see the complaint, so without it there is no page (503 after
the usual RPC_TIMEOUT).
"""
import json
import logging

import eventlet
from marshmallow import fields, validate
from werkzeug.wrappers import Response

from services.gateway.api import route
from services.gateway.complaint_list import (
    CONTENT_TYPES,
    EXPORT_MAX_ROWS,
    ComplaintExportQuery,
    ComplaintQuery,
    in_work_ids,
    intake_filters,
    overdue_ids,
    render,
)
from services.gateway.requests import request_key
from services.gateway.routes.complaint_acts import ComplaintActs
from services.gateway.routes.complaint_page import (
    ComplaintPageParts,
    media_ids_of,
    people_named,
    unavailable,
)
from services.gateway.routes.files import absolute_link
from services.gateway.schemas import MediaObject
from shared import roles
from shared.contracts.dispatch import DispatchClient
from shared.contracts.intake import IntakeClient
from shared.contracts.intake import forms as intake_forms
from shared.contracts.intake import views as intake_views
from shared.contracts.intake.vocabulary import CALLBACK_ROLES, STEP_RECORD_SIGNATURE
from shared.contracts.media import MediaClient
from shared.contracts.media.files import SIGNATURE_KINDS
from shared.contracts.sla import SlaClient
from shared.validation import Form

log = logging.getLogger(__name__)

TAGS = ["complaints"]
LINK_TAGS = ["customer link"]


# -- request bodies: intake's contract's forms (shared.contracts.intake), so the gateway
# checks a request's shape with the very class intake loads it with again --------------

class RecordComplaintBody(intake_forms.RecordForm):
    """登记投诉 (SPEC §2): an order is drafted unless resolved on the spot."""


class ReviewBody(intake_forms.DecisionForm):
    """副总经理审核: approve, or reject back to the specialist with a reason."""


class SignBody(intake_forms.SignForm):
    """总经理签发: approve (optionally overriding the department, with a reason)
    or reject back to the deputy GM with a reason."""


class RatingBody(intake_forms.RatingForm):
    """接待评价 1-5 (Art. 16)."""


class ReopenBody(intake_forms.ReopenForm):
    """再次投诉: the customer raised a closed complaint again."""


class EscalateBody(intake_forms.EscalateForm):
    """标记重大 / 群体性 / 共性问题 (Art. 5, 21, 33)."""


class CallbackBody(intake_forms.CallbackForm):
    """售后服务中心回访 after a blocked visit (Art. 23): when, the outcome, what the
    customer said. Centre staff, the centre's deputy GM or GM, or a specialist
    of the project's desk."""


class VerifyClosureBody(intake_forms.VerifyForm):
    """结案核查 (Art. 29): the specialist's callback and satisfaction survey;
    `decision` approve (default, needs `satisfaction`) or reject (needs
    `reason`: the work goes back to the department)."""


class ClosureDecisionBody(intake_forms.DecisionForm):
    """结案审核 / 审批: approve, or reject back one step with a reason."""


class ComplaintPageView(intake_views.ComplaintView):
    """The complaint with its order, responsibility, deadlines, timeline and
    media (SPEC §10). `dispatch`, `deadlines` and `media` are each
    `{"unavailable": true, "reason": ...}` when their service did not answer."""
    dispatch = fields.Dict(allow_none=True, metadata={
        "description": "the departments' side (dispatch's DispatchView: routing, visits, "
                       "callbacks, progress, closure applications, claims, meetings); null "
                       "until the order is routed"})
    deadlines = fields.Dict(metadata={
        "description": "sla's deadlines of the complaint: {complaint_id, timers: [...]}"})
    media = fields.Dict(metadata={
        "description": "{items: [media with a short-lived signed URL], missing: [ids]}: the "
                       "signatures, photos and material the record and the work name"})
    people = fields.Dict(keys=fields.String(), values=fields.String(), metadata={
        "description": "{person_id: name} of every person the page names (the record, the "
                       "work, the deadlines, the timeline): names to read, ids stay in place"})


class LinkSignBody(intake_forms.LinkSignForm):
    """The customer's signature, uploaded first through POST /api/sign/{token}/media."""


class SignatureUploadForm(Form):
    """Multipart form: the `file` part (a JPEG, PNG, WebP or HEIC image) and
    how it was made (`signature_kind`: drawn on the pad or a typed name)."""

    signature_kind = fields.String(validate=validate.OneOf(SIGNATURE_KINDS), load_default=None)


class LinkRatingAccepted(intake_views.LinkRated):
    """What the customer's rating answers."""


def _raw_json(request):
    """The body as sent (already checked by the route): intake loads it itself,
    so times travel as the customer's ISO text, not as re-serialised objects."""
    return json.loads(request.get_data(cache=True) or b"{}")


class ComplaintRoutes(ComplaintActs, ComplaintPageParts):
    """Routes over the intake service; needs `self.intake`, `self.dispatch`
    and `self.media` (RpcProxy attributes), and uses `self.sla` if present.
    The acts of fairness (void, a new signing link, accept-time) are ComplaintActs'."""

    def _intake_api(self):
        """Intake's typed client with the usual bounded wait."""
        return IntakeClient(self.intake, self.rpc_timeout())

    # -- staff ---------------------------------------------------------------------------

    @route("POST", "/api/complaints", summary="登记投诉 (record a complaint)",
           roles={roles.SPECIALIST}, body=RecordComplaintBody,
           response=intake_views.ComplaintView, status=201, tags=TAGS,
           description="Only a specialist of the project's desk. For visit and mobile, upload "
           "the customer's signature first (POST /api/media, kind=signature) and give its id; "
           "for phone and letter the customer signs through a one-time link sent by SMS.")
    def record_complaint(self, request, principal, payload):
        return 201, self._intake_api().record_complaint(
            principal.as_dict(), _raw_json(request), request_key=request_key(request))

    @route("GET", "/api/complaints", summary="投诉列表 (find complaints: search, filters, sort, "
           "pages)", query=ComplaintQuery, response=intake_views.ComplaintPage, tags=TAGS,
           description="q searches the id, the customer's name and phone and the room (partial, "
           "any case); status, project_id, category, channel, department_id, handler_id, "
           "from / to (recording days, YYYY-MM-DD), overdue=true and sort narrow it; each "
           "filter is checked on its own (400 per field). The centre sees every complaint, a "
           "specialist their desks' projects, the people and units a complaint was routed to "
           "that complaint. Rows carry the names beside the ids. Pages: limit (1-100, default "
           "20) and offset; page / page_size are deprecated aliases.")
    def list_complaints(self, request, principal, payload):
        return self._intake_api().list_complaints(
            principal.as_dict(), self._complaint_filters(request, principal, payload))

    @route("GET", "/api/complaints/export",
           summary="导出投诉清单 (the filtered list as a CSV or XLSX file)",
           query=ComplaintExportQuery, tags=TAGS,
           description="The same filters as GET /api/complaints (paging ignored) and "
           "format=csv (default, UTF-8 with a BOM) or xlsx; zh-CN headers, names beside the "
           f"ids. At most {EXPORT_MAX_ROWS} rows: more is refused (400, field `filters`, with "
           "the count), never cut short. X-Total-Count says how many rows the file has.")
    def export_complaints(self, request, principal, payload):
        filters = self._complaint_filters(request, principal, payload)
        timeout = float(self.config.get("COMPLAINT_EXPORT_TIMEOUT",
                                        max(self.rpc_timeout(), 60)))
        answer = IntakeClient(self.intake, timeout).export_complaints(principal.as_dict(),
                                                                      filters)
        now = self.clock.now().astimezone(self.clock.zone)
        body = render(answer["items"], payload["format"], f"投诉清单 {now:%Y-%m-%d %H:%M}")
        name = f"complaints-{now:%Y%m%d-%H%M}.{payload['format']}"
        return Response(body, status=200, content_type=CONTENT_TYPES[payload["format"]],
                        headers={"Content-Disposition": f'attachment; filename="{name}"',
                                 "X-Total-Count": str(answer["total"]),
                                 "X-Export-Max-Rows": str(answer["max_rows"]),
                                 "Cache-Control": "no-store"})

    def _complaint_filters(self, request, principal, payload):
        """The query for intake; overdue=true becomes the ids sla counts overdue."""
        filters = intake_filters(request)
        if payload.get("overdue"):
            candidates = in_work_ids(self._intake_api(), principal.as_dict(), filters)
            filters["ids"] = overdue_ids(getattr(self, "sla", None),
                                         min(self.rpc_timeout(), 5), candidates)
        return filters

    @route("GET", "/api/complaints/<complaint_id>",
           summary="投诉详情 (the complaint with its order, responsibility, deadlines, timeline "
                   "and media)", response=ComplaintPageView, tags=TAGS,
           description="Put together from intake, dispatch, sla and media, each asked in "
           "parallel with a bounded wait; a part whose service does not answer is "
           "{\"unavailable\": true, \"reason\": ...}. Without intake (who decides who may "
           "see the complaint) the answer is 503.")
    def get_complaint(self, request, principal, payload, complaint_id):
        timeout = self._page_timeout()
        pool = eventlet.GreenPool()
        # intake's wait is the usual one: there is no page without it
        record = pool.spawn(self._intake_api().get_complaint, principal.as_dict(), complaint_id)
        work = pool.spawn(self._part, DispatchClient(self.dispatch, timeout).get_complaint_view,
                          complaint_id)
        sla = getattr(self, "sla", None)
        deadlines = (pool.spawn(self._part, SlaClient(sla, timeout).list_timers, complaint_id,
                                missing={"complaint_id": complaint_id, "timers": []})
                     if sla is not None else None)
        # the complaint's files, before intake and dispatch say which the page names
        files = pool.spawn(self._part, self._complaint_files, MediaClient(self.media, timeout),
                           complaint_id)
        try:
            complaint = record.wait()
        except BaseException:
            for thread in (work, deadlines, files):
                if thread is not None:
                    thread.kill()
            raise
        work = work.wait()
        complaint["dispatch"] = work
        complaint["deadlines"] = (deadlines.wait() if deadlines is not None else unavailable(
            "时限服务未部署 (sla is not deployed)"))
        ids = media_ids_of(complaint, work)
        if not ids:                     # nothing to show: no need to wait for media
            files.kill()
        complaint["media"] = self._page_media(ids, timeout, files.wait() if ids else None)
        complaint["people"] = people_named(complaint, self._directory_names(timeout))
        if "items" in complaint["media"]:      # the files' links on this request's host
            complaint["media"]["items"] = absolute_link(request, complaint["media"]["items"])
        return complaint

    @route("POST", "/api/complaints/<complaint_id>/rating",
           summary="接待评价（专员终端）(reception rating from the desk terminal)",
           roles={roles.SPECIALIST}, body=RatingBody, response=intake_views.ComplaintView,
           tags=TAGS, description="Once per complaint; a second rating is refused (409).")
    def rate_complaint_reception(self, request, principal, payload, complaint_id):
        return self._intake_api().rate_reception(principal.as_dict(), complaint_id,
                                                 payload["score"], payload["comment"])

    @route("POST", "/api/complaints/<complaint_id>/order/submit",
           summary="提交督办单 (submit the supervision order)", roles={roles.SPECIALIST},
           response=intake_views.ComplaintView, tags=TAGS)
    def submit_complaint_order(self, request, principal, payload, complaint_id):
        return self._intake_api().submit_order(principal.as_dict(), complaint_id)

    @route("POST", "/api/complaints/<complaint_id>/order/review",
           summary="审核督办单 (deputy GM: approve or reject)", roles={roles.CENTRE_DEPUTY_GM},
           body=ReviewBody, response=intake_views.ComplaintView, tags=TAGS)
    def review_complaint_order(self, request, principal, payload, complaint_id):
        return self._intake_api().review_order(principal.as_dict(), complaint_id,
                                               payload["decision"], payload["reason"])

    @route("POST", "/api/complaints/<complaint_id>/order/sign",
           summary="签发督办单 (GM: sign or reject; may override the department)",
           roles={roles.CENTRE_GM}, body=SignBody, response=intake_views.ComplaintView,
           tags=TAGS)
    def sign_complaint_order(self, request, principal, payload, complaint_id):
        return self._intake_api().sign_order(
            principal.as_dict(), complaint_id, payload["decision"], payload["reason"],
            department=payload["department"], department_reason=payload["department_reason"])

    @route("POST", "/api/complaints/<complaint_id>/reopen",
           summary="再次投诉，重新打开 (reopen a closed complaint)", roles={roles.SPECIALIST},
           body=ReopenBody, response=intake_views.ComplaintView, tags=TAGS)
    def reopen_complaint(self, request, principal, payload, complaint_id):
        return self._intake_api().reopen(principal.as_dict(), complaint_id, payload["reason"])

    @route("POST", "/api/complaints/<complaint_id>/escalate",
           summary="升级为重大 / 群体性 / 共性问题 (escalate)", roles={roles.CENTRE_GM},
           body=EscalateBody, response=intake_views.ComplaintView, tags=TAGS)
    def escalate_complaint(self, request, principal, payload, complaint_id):
        return self._intake_api().escalate(principal.as_dict(), complaint_id, payload["level"],
                                           payload["reason"])

    # -- after the order: the callback and the closure loop (Art. 23, 29) -------------------

    @route("POST", "/api/complaints/<complaint_id>/callbacks",
           summary="受阻回访后的中心回访 (the centre's callback after a blocked visit)",
           roles=CALLBACK_ROLES, body=CallbackBody,
           response=intake_views.ComplaintView, status=201, tags=TAGS,
           description="Only while a blocked visit awaits it (409 otherwise); Art. 23 allows "
           "30 minutes from the blocked-visit record.")
    def record_complaint_callback(self, request, principal, payload, complaint_id):
        return 201, self._intake_api().record_callback(principal.as_dict(), complaint_id,
                                                       _raw_json(request))

    @route("POST", "/api/complaints/<complaint_id>/closure/verify",
           summary="结案核查：回访及满意度调查 (specialist: verify the closure)",
           roles={roles.SPECIALIST}, body=VerifyClosureBody,
           response=intake_views.ComplaintView, tags=TAGS,
           description="A specialist of the project's desk, after the department applied. "
           "Reject sends the work back to the department.")
    def verify_complaint_closure(self, request, principal, payload, complaint_id):
        return self._intake_api().verify_closure(
            principal.as_dict(), complaint_id, payload["satisfaction"], payload["comment"],
            payload["decision"], payload["reason"])

    @route("POST", "/api/complaints/<complaint_id>/closure/review",
           summary="结案审核 (deputy GM: approve, or reject back to verification)",
           roles={roles.CENTRE_DEPUTY_GM}, body=ClosureDecisionBody,
           response=intake_views.ComplaintView, tags=TAGS)
    def review_complaint_closure(self, request, principal, payload, complaint_id):
        return self._intake_api().review_closure(principal.as_dict(), complaint_id,
                                                 payload["decision"], payload["reason"])

    @route("POST", "/api/complaints/<complaint_id>/closure/approve",
           summary="结案审批 (GM: approve and close, or reject back to the review)",
           roles={roles.CENTRE_GM}, body=ClosureDecisionBody,
           response=intake_views.ComplaintView, tags=TAGS)
    def approve_complaint_closure(self, request, principal, payload, complaint_id):
        return self._intake_api().approve_closure(principal.as_dict(), complaint_id,
                                                  payload["decision"], payload["reason"])

    @route("GET", "/api/complaints/<complaint_id>/signature/verify",
           summary="核验签名记录是否被改动 (is the signed record intact?)",
           response=intake_views.Verification, tags=TAGS)
    def verify_complaint_signature(self, request, principal, payload, complaint_id):
        return self._intake_api().verify_record_signature(principal.as_dict(), complaint_id)

    # -- the customer's one-time links (no bearer token) ------------------------------------

    @route("GET", "/api/sign/<token>", summary="客户打开链接 (what the customer's link shows)",
           public=True, response=intake_views.LinkView, tags=LINK_TAGS,
           description="404 for an unknown link, 409 for one that was used or has expired.")
    def open_customer_link(self, request, principal, payload, token):
        return self._intake_api().open_signing_link(token)

    @route("POST", "/api/sign/<token>/media",
           summary="客户上传签名图片 (the customer uploads the signature image)", public=True,
           body=SignatureUploadForm, content="multipart/form-data",
           response=MediaObject, status=201,
           tags=LINK_TAGS, description="Multipart `file`; stored as kind=signature for the "
           "link's complaint. Then POST /api/sign/{token} with its id.")
    def upload_customer_signature(self, request, principal, payload, token):
        link = self._intake_api().check_link(token, STEP_RECORD_SIGNATURE)
        return 201, self.store_upload(self.uploaded_file(request), "signature",
                                      complaint_id=link["complaint_id"], step=link["step"],
                                      signature_kind=payload["signature_kind"])

    @route("POST", "/api/sign/<token>", summary="客户签名确认记录 (the customer signs the record)",
           public=True, body=LinkSignBody, response=intake_views.LinkSigned, tags=LINK_TAGS,
           description="One time only: the link is used up; the answer names the rating link.")
    def sign_customer_link(self, request, principal, payload, token):
        return self._intake_api().sign_by_link(token, payload["signature_media_id"])

    @route("POST", "/api/sign/<token>/rating",
           summary="客户评价接待 (the customer rates the reception)", public=True,
           body=RatingBody, response=LinkRatingAccepted, tags=LINK_TAGS)
    def rate_customer_link(self, request, principal, payload, token):
        return self._intake_api().rate_by_link(token, payload["score"], payload["comment"])
