"""Acts of fairness on a complaint (issue 13; SPEC §4 fairness, §10): void a
complaint recorded by mistake, send the customer a new signing link
(Art. 13), accept an act's stated time beyond the grace.

A mixin of ComplaintRoutes (so of GatewayService). Each route checks the
caller's role and the body's shape; intake and dispatch check everything
again. An act's id says whose it is (shared.ids): a visit (`…-V<n>`, a done
or blocked visit) is dispatch's, a callback (`…-CB<n>`) intake's.
"""
from marshmallow import fields

from services.gateway.api import route
from services.gateway.routes.access import ComplaintAccess
from shared import ids, roles
from shared.contracts.dispatch import DispatchClient
from shared.contracts.intake import IntakeClient
from shared.contracts.intake import forms as intake_forms
from shared.contracts.intake import views as intake_views
from shared.contracts.intake.vocabulary import SIGNING_LINK_ROLES
from shared.errors import NotFound

TAGS = ["complaints"]


class VoidBody(intake_forms.ReasonForm):
    """作废 (a duplicate, the wrong customer): why, kept in the timeline."""


class AcceptTimeBody(intake_forms.ReasonForm):
    """认可陈述时间: why the stated time is right although the record came late."""


class ActTimeAccepted(intake_views.TimeAcceptanceView):
    """The acceptance, as intake (a callback) or dispatch (a visit) recorded it."""
    outcome = fields.String(metadata={"description": "a visit's: done or blocked"})


def act_of(complaint_id, act_id):
    """(kind, act id) of an act of this complaint: `visits` or `callbacks`; NotFound else."""
    parsed = ids.parse_record_id(act_id)
    if parsed is None or parsed[0] != complaint_id or parsed[1] not in ("visits", "callbacks"):
        raise NotFound(f"投诉 {complaint_id} 没有此记录 (no act {act_id!r} of this complaint)")
    return parsed[1], act_id


class ComplaintActs(ComplaintAccess):
    """Needs `self.intake` and `self.dispatch` (RpcProxy attributes)."""

    @route("POST", "/api/complaints/<complaint_id>/void",
           summary="作废误登记的投诉 (void a complaint recorded by mistake)",
           roles={roles.CENTRE_DEPUTY_GM}, body=VoidBody, response=intake_views.ComplaintView,
           tags=TAGS, description="Only before the order is signed (409 after). The complaint "
           "leaves every list (GET /api/complaints?state=voided lists them), its page and "
           "timeline stay; no step acts on it again (409); its clocks stop.")
    def void_complaint(self, request, principal, payload, complaint_id):
        return IntakeClient(self.intake, self.rpc_timeout()).void_complaint(
            principal.as_dict(), complaint_id, payload["reason"])

    @route("POST", "/api/complaints/<complaint_id>/signing-link",
           summary="重新发送客户签名链接 (send the customer a new signing link, Art. 13)",
           roles=SIGNING_LINK_ROLES, response=intake_views.ComplaintView, tags=TAGS,
           description="A phone or letter complaint the customer has not signed: a new "
           "one-time link goes out by SMS (complaint.signature_requested) and every earlier "
           "link stops working. A specialist of the project's desk or the centre.")
    def resend_signing_link(self, request, principal, payload, complaint_id):
        return IntakeClient(self.intake, self.rpc_timeout()).resend_signing_link(
            principal.as_dict(), complaint_id)

    @route("POST", "/api/complaints/<complaint_id>/acts/<act_id>/accept-time",
           summary="认可陈述时间 (accept an act's stated time earlier than its receipt allows)",
           roles={roles.CENTRE_DEPUTY_GM}, body=AcceptTimeBody, response=ActTimeAccepted,
           tags=TAGS, description="A visit or blocked visit (`…-V<n>`) or a callback "
           "(`…-CB<n>`) whose stated time precedes its receipt by more than "
           "SLA.stated_time_grace_minutes: its deadline is then judged by the stated time. "
           "409 within the grace (nothing to accept) or when already accepted.")
    def accept_act_time(self, request, principal, payload, complaint_id, act_id):
        kind, act_id = act_of(complaint_id, act_id)
        if kind == "visits":
            return DispatchClient(self.dispatch, self.rpc_timeout()).accept_visit_time(
                principal.as_dict(), complaint_id, act_id, payload["reason"])
        return IntakeClient(self.intake, self.rpc_timeout()).accept_callback_time(
            principal.as_dict(), complaint_id, act_id, payload["reason"])
