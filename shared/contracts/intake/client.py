"""The intake service's RPC methods as a typed client.

Callers use `IntakeClient(proxy)`; the service implements each method under
the same name and signature (the contract tests hold them together). Each
method says what it answers (a schema of `views`) and what it loads its
input with (a form of `forms`); any call may also raise Unavailable.
"""

from __future__ import annotations

from shared.contracts.base import ServiceClient, raises
from shared.contracts.types import Actor, Form, Json
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound


class IntakeClient(ServiceClient):
    service = "intake"

    # -- recording and the order's approval chain ---------------------------------------

    @raises(Forbidden, InvalidInput)
    def record_complaint(self, actor: Actor, form: Form, request_key: str | None = None) -> Json:
        """Record a complaint (`forms.RecordForm`); `views.ComplaintView`. The same
        `request_key` of the same person records once."""
        return self._call("record_complaint", actor, form, request_key=request_key)

    @raises(Forbidden, NotFound, Conflict)
    def submit_order(self, actor: Actor, complaint_id: str) -> Json:
        """The specialist submits the order; `views.ComplaintView`."""
        return self._call("submit_order", actor, complaint_id)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def review_order(
        self, actor: Actor, complaint_id: str, decision: str, reason: str | None = None
    ) -> Json:
        """The deputy GM's review (`forms.DecisionForm`); `views.ComplaintView`."""
        return self._call("review_order", actor, complaint_id, decision, reason=reason)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def sign_order(
        self,
        actor: Actor,
        complaint_id: str,
        decision: str,
        reason: str | None = None,
        department: str | None = None,
        department_reason: str | None = None,
    ) -> Json:
        """The GM's signature (`forms.SignForm`); `views.ComplaintView`."""
        return self._call(
            "sign_order",
            actor,
            complaint_id,
            decision,
            reason=reason,
            department=department,
            department_reason=department_reason,
        )

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def reopen(self, actor: Actor, complaint_id: str, reason: str) -> Json:
        """A closed complaint raised again (`forms.ReopenForm`); `views.ComplaintView`."""
        return self._call("reopen", actor, complaint_id, reason)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def escalate(self, actor: Actor, complaint_id: str, level: str, reason: str) -> Json:
        """The GM flags major / group / common issue (`forms.EscalateForm`);
        `views.ComplaintView`."""
        return self._call("escalate", actor, complaint_id, level, reason)

    # -- after the order: the callback and the closure loop ---------------------------------

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def record_callback(self, actor: Actor, complaint_id: str, form: Form) -> Json:
        """The centre's callback after a blocked visit (`forms.CallbackForm`);
        `views.ComplaintView`."""
        return self._call("record_callback", actor, complaint_id, form)

    # -- acts of fairness (issue 13) ---------------------------------------------------------

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def void_complaint(self, actor: Actor, complaint_id: str, reason: str) -> Json:
        """The deputy GM voids a complaint recorded by mistake before its order is
        signed (`forms.ReasonForm`); `views.ComplaintView`."""
        return self._call("void_complaint", actor, complaint_id, reason)

    @raises(Forbidden, NotFound, Conflict)
    def resend_signing_link(self, actor: Actor, complaint_id: str) -> Json:
        """A new one-time signing link for the customer (Art. 13); `views.ComplaintView`."""
        return self._call("resend_signing_link", actor, complaint_id)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def accept_callback_time(
        self, actor: Actor, complaint_id: str, callback_id: str, reason: str
    ) -> Json:
        """The deputy GM accepts a callback's stated time beyond the grace
        (`forms.ReasonForm`); `views.TimeAcceptanceView`."""
        return self._call("accept_callback_time", actor, complaint_id, callback_id, reason)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def verify_closure(
        self,
        actor: Actor,
        complaint_id: str,
        satisfaction: int | None = None,
        comment: str | None = None,
        decision: str = "approve",
        reason: str | None = None,
    ) -> Json:
        """The specialist's verification (`forms.VerifyForm`); `views.ComplaintView`."""
        return self._call(
            "verify_closure",
            actor,
            complaint_id,
            satisfaction=satisfaction,
            comment=comment,
            decision=decision,
            reason=reason,
        )

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def review_closure(
        self, actor: Actor, complaint_id: str, decision: str, reason: str | None = None
    ) -> Json:
        """The deputy GM's review of the closure (`forms.DecisionForm`);
        `views.ComplaintView`."""
        return self._call("review_closure", actor, complaint_id, decision, reason=reason)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def approve_closure(
        self, actor: Actor, complaint_id: str, decision: str, reason: str | None = None
    ) -> Json:
        """The GM's approval of the closure (`forms.DecisionForm`); `views.ComplaintView`."""
        return self._call("approve_closure", actor, complaint_id, decision, reason=reason)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def rate_reception(
        self, actor: Actor, complaint_id: str, score: int, comment: str | None = None
    ) -> Json:
        """The reception rating from the desk terminal (`forms.RatingForm`);
        `views.ComplaintView`."""
        return self._call("rate_reception", actor, complaint_id, score, comment=comment)

    # -- the customer's one-time links ----------------------------------------------------

    @raises(NotFound, Conflict)
    def open_signing_link(self, token: str) -> Json:
        """What the customer's link shows; `views.LinkView`."""
        return self._call("open_signing_link", token)

    @raises(NotFound, Conflict)
    def check_link(self, token: str, step: str = "record_signature") -> Json:
        """The link's complaint if it is valid now for `step`; `views.LinkChecked`."""
        return self._call("check_link", token, step=step)

    @raises(NotFound, InvalidInput, Conflict)
    def sign_by_link(self, token: str, signature_media_id: str) -> Json:
        """The customer signs the record (`forms.LinkSignForm`); `views.LinkSigned`."""
        return self._call("sign_by_link", token, signature_media_id)

    @raises(NotFound, InvalidInput, Conflict)
    def rate_by_link(self, token: str, score: int, comment: str | None = None) -> Json:
        """The customer rates the reception (`forms.RatingForm`); `views.LinkRated`."""
        return self._call("rate_by_link", token, score, comment=comment)

    # -- reading --------------------------------------------------------------------------

    @raises(Forbidden, NotFound)
    def get_complaint(self, actor: Actor, complaint_id: str) -> Json:
        """The complaint as the actor may see it; `views.ComplaintView`."""
        return self._call("get_complaint", actor, complaint_id)

    @raises(Forbidden, NotFound)
    def check_access(self, actor: Actor, complaint_id: str) -> Json:
        """Forbidden unless the actor may see the complaint; `views.AccessGranted`."""
        return self._call("check_access", actor, complaint_id)

    @raises(Forbidden, InvalidInput)
    def list_complaints(self, actor: Actor, filters: Form | None = None) -> Json:
        """The complaints the actor may see (`forms.ListFilters`); `views.ComplaintPage`."""
        return self._call("list_complaints", actor, filters=filters)

    @raises(Forbidden, InvalidInput)
    def export_complaints(self, actor: Actor, filters: Form | None = None) -> Json:
        """Every row of the filtered list (`forms.ListFilters`, paging ignored), at most
        10,000 (more: InvalidInput); `views.ComplaintExport`."""
        return self._call("export_complaints", actor, filters=filters)

    @raises(Forbidden, NotFound, Conflict)
    def verify_record_signature(self, actor: Actor, complaint_id: str) -> Json:
        """Whether the record is still what the customer signed; `views.Verification`."""
        return self._call("verify_record_signature", actor, complaint_id)

    def health(self) -> Json:
        """{"service", "status", ...}: never raises but Unavailable."""
        return self._call("health")
