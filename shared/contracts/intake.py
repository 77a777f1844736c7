"""The intake service's RPC contract: its methods as a typed client.

Callers use `IntakeClient(proxy)`; the service implements each
method under the same name and signature (tests/contracts hold them together).
"""

from __future__ import annotations

from typing import Any

from shared.contracts.base import ServiceClient, raises
from shared.contracts.types import Actor, Form, Json
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound


class IntakeClient(ServiceClient):
    service = "intake"

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def approve_closure(
        self, actor: Actor, complaint_id: str, decision: str, reason: str | None = None
    ) -> Json:
        return self._call("approve_closure", actor, complaint_id, decision, reason=reason)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def check_access(self, actor: Actor, complaint_id: str) -> Json:
        return self._call("check_access", actor, complaint_id)

    @raises(NotFound, InvalidInput)
    def check_link(self, token: str, step: str = "record_signature") -> Json:
        return self._call("check_link", token, step=step)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def escalate(self, actor: Actor, complaint_id: str, level: Any, reason: str) -> Json:
        return self._call("escalate", actor, complaint_id, level, reason)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def get_complaint(self, actor: Actor, complaint_id: str) -> Json:
        return self._call("get_complaint", actor, complaint_id)

    def health(self) -> Json:
        return self._call("health")

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def list_complaints(self, actor: Actor, filters: Form | None = None) -> Json:
        return self._call("list_complaints", actor, filters=filters)

    @raises(NotFound, InvalidInput)
    def open_signing_link(self, token: str) -> Json:
        return self._call("open_signing_link", token)

    @raises(NotFound, InvalidInput)
    def rate_by_link(self, token: str, score: int, comment: str | None = None) -> Json:
        return self._call("rate_by_link", token, score, comment=comment)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def rate_reception(
        self, actor: Actor, complaint_id: str, score: int, comment: str | None = None
    ) -> Json:
        return self._call("rate_reception", actor, complaint_id, score, comment=comment)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def record_callback(self, actor: Actor, complaint_id: str, form: Form) -> Json:
        return self._call("record_callback", actor, complaint_id, form)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def record_complaint(self, actor: Actor, form: Form, request_key: str | None = None) -> Json:
        return self._call("record_complaint", actor, form, request_key=request_key)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def reopen(self, actor: Actor, complaint_id: str, reason: str) -> Json:
        return self._call("reopen", actor, complaint_id, reason)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def review_closure(
        self, actor: Actor, complaint_id: str, decision: str, reason: str | None = None
    ) -> Json:
        return self._call("review_closure", actor, complaint_id, decision, reason=reason)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def review_order(
        self, actor: Actor, complaint_id: str, decision: str, reason: str | None = None
    ) -> Json:
        return self._call("review_order", actor, complaint_id, decision, reason=reason)

    @raises(NotFound, InvalidInput)
    def sign_by_link(self, token: str, signature_media_id: str) -> Json:
        return self._call("sign_by_link", token, signature_media_id)

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
    def submit_order(self, actor: Actor, complaint_id: str) -> Json:
        return self._call("submit_order", actor, complaint_id)

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
    def verify_record_signature(self, actor: Actor, complaint_id: str) -> Json:
        return self._call("verify_record_signature", actor, complaint_id)
