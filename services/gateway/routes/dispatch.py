"""Routes of the departments' side (SPEC §10): visits, progress, the closure
application, claims, major-complaint meetings and the complaint's dispatch page.

A mixin of GatewayService, which has `dispatch = RpcProxy("dispatch")`. Each
route checks the caller and the body's shape, then hands the body as sent to
dispatch, which checks everything again (who is of the handler's department,
states, media): the gateway is not trusted with the rules.
"""
import json

from marshmallow import Schema, fields

from services.gateway.api import route
from services.gateway.requests import request_key
from services.gateway.routes.access import SEES_ALL, ComplaintAccess, complaint_of_record
from shared import organisation as org
from shared import roles
from shared.contracts.dispatch import DispatchClient, forms, views
from shared.contracts.intake import IntakeClient
from shared.errors import NotFound
from shared.paging import Paging, page_of_all, page_view
from shared.validation import choice

TAGS = ["dispatch"]
CLAIM_TAGS = ["claims"]


class RoutingErrorQuery(Paging, forms.RoutingErrorQuery):
    """open_only (default true); limit (1-100, default 20) and offset."""


RoutingErrorList = page_view(views.RoutingErrorOut, "RoutingErrorList")


class ProjectQuery(Paging):
    """limit (1-500, default 100) and offset: a console's project picker takes them all."""
    DEFAULT_LIMIT = 100
    MAX_LIMIT = 500


class ProjectName(Schema):
    id = fields.String()
    name = fields.String()
    city = fields.String(allow_none=True)
    company_name = fields.String(allow_none=True, metadata={"description": "地区公司"})


ProjectList = page_view(ProjectName, "ProjectList")


class RoutingPreviewQuery(Schema):
    """department: the department the GM would name instead of the routing table's."""
    department = choice(org.DEPARTMENTS, "责任部门", allow_none=True, load_default=None)


# -- request bodies (they document the OpenAPI; dispatch validates again) ------------------------

class VisitBody(forms.VisitForm):
    """上门回访 (Art. 22, 23). `done`: visited_at, plan, agreed_completion_at (not in the
    past), customer_signature_media_id (kind=signature), photo_media_ids (kind=photo).
    `blocked`: attempted_at (or visited_at) and reason."""


class ProgressBody(forms.ProgressForm):
    """处理进展 (Art. 26), by the handler's or a cooperating department."""


class ClosureApplyBody(forms.ClosureForm):
    """申请结案 (Art. 28): work_done (what the department did), material_media_ids
    (kind=material or photo) and the customer's signature; one application may be
    pending at a time."""


class ClaimBody(forms.ClaimForm):
    """索赔 (Art. 34): amount_claimed in CNY (decimal string) and the description."""


class ClaimReportBody(forms.ClaimReportForm):
    """一把手书面报告 within 3 days; report_media_id optional (kind=report or material)."""


class ClaimDecisionBody(forms.ClaimDecisionForm):
    """approve (amount_granted, at most what was claimed) or reject (note = reason)."""


class MeetingBody(forms.MeetingForm):
    """专题会议 (Art. 33): held_at, responsible, solution, due_at; minutes_media_id
    (kind=minutes) now or later through /api/meetings/{id}/minutes."""


class MinutesBody(forms.MinutesForm):
    """The meeting's minutes (kind=minutes), due within 24 h of the meeting."""


def _body(request):
    """The body as sent (already checked by the route): times travel as the
    caller's ISO text and amounts as decimal strings, not re-serialised objects."""
    return json.loads(request.get_data(cache=True) or b"{}")


class DispatchRoutes(ComplaintAccess):
    """Routes over the dispatch service; needs `self.dispatch` (an RpcProxy),
    and `self.intake` for who may see a complaint."""

    def _dispatch(self):
        return DispatchClient(self.dispatch, self.rpc_timeout())

    # -- the handler's department (Art. 22-28) --------------------------------------------------

    @route("POST", "/api/complaints/<complaint_id>/visits",
           summary="登记上门回访 (record the visit, done or blocked by the customer)",
           body=VisitBody, response=views.VisitOut, status=201, tags=TAGS,
           description="Only the handler's department (the handler, or anyone of the "
           "responsible unit). Upload the customer's signature first (POST /api/media, "
           "kind=signature). The completion deadline becomes min(requested, agreed) (Art. 25).")
    def record_complaint_visit(self, request, principal, payload, complaint_id):
        return 201, self._dispatch().record_visit(principal.as_dict(), complaint_id,
                                                  _body(request), request_key=request_key(request))

    @route("POST", "/api/complaints/<complaint_id>/progress",
           summary="登记处理进展 (a progress note, Art. 26)", body=ProgressBody,
           response=views.ProgressOut, status=201, tags=TAGS,
           description="The handler's department, or a cooperating department (flagged).")
    def record_complaint_progress(self, request, principal, payload, complaint_id):
        body = _body(request)
        return 201, self._dispatch().record_progress(
            principal.as_dict(), complaint_id, body.get("note"), body.get("photo_media_ids"),
            request_key=request_key(request))

    @route("POST", "/api/complaints/<complaint_id>/closure/apply",
           summary="申请结案 (apply for closure with customer-signed material, Art. 28)",
           body=ClosureApplyBody, response=views.ApplicationOut, status=201, tags=TAGS,
           description="409 while an application is pending; a rejected one reopens the work.")
    def apply_complaint_closure(self, request, principal, payload, complaint_id):
        body = _body(request)
        return 201, self._dispatch().apply_closure(
            principal.as_dict(), complaint_id, body.get("material_media_ids"),
            body.get("customer_signature_media_id"), request_key=request_key(request),
            work_done=body.get("work_done"))

    # -- claims (Art. 34) -------------------------------------------------------------------------

    @route("POST", "/api/complaints/<complaint_id>/claims", summary="登记索赔 (raise a claim)",
           body=ClaimBody, response=views.ClaimOut, status=201, tags=CLAIM_TAGS,
           description="The handler's department, the project's desk or the centre. The head "
           "of the first responsible department reports within 3 days.")
    def raise_complaint_claim(self, request, principal, payload, complaint_id):
        body = _body(request)
        return 201, self._dispatch().raise_claim(
            principal.as_dict(), complaint_id, body.get("amount_claimed"),
            body.get("description"), request_key=request_key(request))

    @route("POST", "/api/claims/<claim_id>/report",
           summary="一把手提交索赔书面报告 (the head's written report)", roles={roles.HEAD},
           body=ClaimReportBody, response=views.ClaimOut, tags=CLAIM_TAGS,
           description="Only the head of the first responsible department.")
    def report_claim(self, request, principal, payload, claim_id):
        body = _body(request)
        return self._dispatch().report_claim(principal.as_dict(), claim_id,
                                             body.get("report_text"), body.get("report_media_id"))

    @route("POST", "/api/claims/<claim_id>/decision", summary="审批索赔 (decide a claim)",
           roles={roles.SUPERVISING_LEADER, roles.CHAIRMAN}, body=ClaimDecisionBody,
           response=views.ClaimOut, tags=CLAIM_TAGS,
           description="A major / group / common-issue complaint: the chairman only. "
           "Otherwise the head's supervising leader or the chairman.")
    def decide_claim(self, request, principal, payload, claim_id):
        body = _body(request)
        return self._dispatch().decide_claim(principal.as_dict(), claim_id, body.get("decision"),
                                             body.get("amount_granted"), body.get("note"))

    @route("POST", "/api/claims/<claim_id>/file",
           summary="向售后服务中心报备索赔 (file the decided claim with the centre)",
           response=views.ClaimOut, tags=CLAIM_TAGS,
           description="Due within 24 h of the decision; the first responsible department.")
    def file_claim(self, request, principal, payload, claim_id):
        return self._dispatch().file_claim(principal.as_dict(), claim_id)

    # -- major-complaint meetings (Art. 33) --------------------------------------------------------

    @route("POST", "/api/complaints/<complaint_id>/meetings",
           summary="登记重大投诉专题会议 (the chairman's meeting and its minutes)",
           roles={roles.CHAIRMAN}, body=MeetingBody, response=views.MeetingOut, status=201,
           tags=TAGS, description="Only the responsible company's chairman, only for a major "
           "/ group / common-issue complaint.")
    def record_complaint_meeting(self, request, principal, payload, complaint_id):
        body = _body(request)
        return 201, self._dispatch().record_meeting(
            principal.as_dict(), complaint_id, body.get("held_at"), body.get("responsible"),
            body.get("solution"), body.get("due_at"), body.get("minutes_media_id"),
            request_key=request_key(request))

    @route("POST", "/api/meetings/<meeting_id>/minutes",
           summary="上传会议纪要 (file a meeting's minutes)", roles={roles.CHAIRMAN},
           body=MinutesBody, response=views.MeetingOut, tags=TAGS)
    def file_meeting_minutes(self, request, principal, payload, meeting_id):
        return self._dispatch().file_meeting_minutes(principal.as_dict(), meeting_id,
                                                     _body(request).get("minutes_media_id"))

    # -- reading ----------------------------------------------------------------------------------

    @route("GET", "/api/complaints/<complaint_id>/dispatch",
           summary="派单与处理情况 (routing, responsibility, visits, progress, closure "
                   "applications, claims, meetings)", response=views.DispatchView, tags=TAGS)
    def get_complaint_dispatch(self, request, principal, payload, complaint_id):
        return self._dispatch().get_complaint_view(complaint_id, principal.as_dict())

    @route("GET", "/api/complaints/<complaint_id>/routing-preview",
           summary="预览派单 (the department and people the order would be routed to if "
                   "signed now)", roles=SEES_ALL, query=RoutingPreviewQuery,
           response=views.RoutingPreviewOut, tags=TAGS,
           description="From dispatch's routing table and directory in force, for the "
           "complaint's project and category (and the department the GM would name). "
           "routable=false with the missing role when routing would fail. Nothing is stored.")
    def preview_complaint_routing(self, request, principal, payload, complaint_id):
        complaint = IntakeClient(self.intake, self.rpc_timeout()).get_complaint(
            principal.as_dict(), complaint_id)
        return self._dispatch().preview_routing(principal.as_dict(), {
            "project_id": complaint["project_id"], "category": complaint["category"],
            "department": payload.get("department"),
            "major": bool(complaint.get("escalation"))})

    @route("GET", "/api/dispatch/records/<record_id>/signature/verify",
           summary="核验回访或结案申请的客户签名 (is the signed visit or application intact?)",
           response=views.SignatureCheckOut, tags=TAGS)
    def verify_dispatch_signature(self, request, principal, payload, record_id):
        complaint_id = complaint_of_record(record_id)
        if complaint_id is None:
            raise NotFound(f"没有签名的记录 (no signed record {record_id})")
        self.require_may_see(principal, complaint_id)
        return self._dispatch().verify_record_signature(record_id)

    @route("GET", "/api/projects", summary="项目名称 (the active projects' names, for filters)",
           query=ProjectQuery, response=ProjectList, tags=TAGS)
    def list_project_names(self, request, principal, payload):
        projects = [{"id": p["id"], "name": p["name"], "city": p.get("city"),
                     "company_name": (p.get("region_company") or {}).get("name")}
                    for p in self._dispatch().list_projects()]
        return page_of_all(sorted(projects, key=lambda p: p["id"]), payload)

    @route("GET", "/api/dispatch/routing-errors",
           summary="派单失败清单 (orders the directory could not route)",
           roles={roles.ADMIN, roles.CENTRE_GM, roles.CENTRE_DEPUTY_GM, roles.CENTRE_STAFF},
           query=RoutingErrorQuery, response=RoutingErrorList, tags=TAGS,
           description="Each names the missing role; they are retried after a directory load. "
           "Pages: limit (1-100, default 20) and offset.")
    def list_routing_errors(self, request, principal, payload):
        return page_of_all(self._dispatch().list_routing_errors(payload["open_only"]), payload)
