"""The dispatch service's RPC methods as a typed client.

Callers use `DispatchClient(proxy)`; the service implements each method under
the same name and signature. What each method takes is in `forms` (the service
loads its arguments with those schemas), what it answers in `views` and
`directory_views`.
"""

from __future__ import annotations

from typing import Any

from shared.contracts.base import ServiceClient, raises
from shared.contracts.types import Actor, Form, Json
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound


class DispatchClient(ServiceClient):
    service = "dispatch"

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def apply_closure(
        self,
        actor: Actor,
        complaint_id: str,
        material_media_ids: list[str] | None = None,
        customer_signature_media_id: str | None = None,
        request_key: str | None = None,
        work_done: str | None = None,
    ) -> Json:
        """`forms.ClosureForm`; `views.ApplicationOut`."""
        return self._call(
            "apply_closure",
            actor,
            complaint_id,
            material_media_ids=material_media_ids,
            customer_signature_media_id=customer_signature_media_id,
            request_key=request_key,
            work_done=work_done,
        )

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def accept_visit_time(
        self, actor: Actor, complaint_id: str, visit_id: str, reason: str
    ) -> Json:
        """The deputy GM accepts a visit's stated time beyond the grace
        (`forms.ReasonForm`); `views.TimeAcceptanceOut`."""
        return self._call("accept_visit_time", actor, complaint_id, visit_id, reason)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def decide_claim(
        self,
        actor: Actor,
        claim_id: str,
        decision: str | None = None,
        amount_granted: Any = None,
        note: str | None = None,
    ) -> Json:
        return self._call(
            "decide_claim",
            actor,
            claim_id,
            decision=decision,
            amount_granted=amount_granted,
            note=note,
        )

    @raises(NotFound)
    def directory_snapshot(self) -> Json:
        """The current directory as the `data` of `directory.loaded` (shared.events)."""
        return self._call("directory_snapshot")

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def file_claim(self, actor: Actor, claim_id: str) -> Json:
        return self._call("file_claim", actor, claim_id)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def file_meeting_minutes(
        self, actor: Actor, meeting_id: str, minutes_media_id: str | None = None
    ) -> Json:
        return self._call(
            "file_meeting_minutes", actor, meeting_id, minutes_media_id=minutes_media_id
        )

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def get_complaint_view(self, complaint_id: str, actor: Actor | None = None) -> Json:
        """DispatchView; without an actor (a service asking) nobody's access is checked."""
        return self._call("get_complaint_view", complaint_id, actor=actor)

    @raises(InvalidInput)
    def routing_overview(self, complaint_ids: list[str]) -> Json:
        """[RoutingOverview] of the complaints dispatch knows among these (at most
        1000), in the order asked: one call for a whole list (the overdue board)."""
        return self._call("routing_overview", complaint_ids)

    @raises(NotFound, InvalidInput)
    def get_person(self, person_id: str) -> Json:
        """PersonOut."""
        return self._call("get_person", person_id)

    @raises(NotFound, InvalidInput)
    def get_project(self, project_id: str) -> Json:
        """ProjectOut (its desk open or not today)."""
        return self._call("get_project", project_id)

    def health(self) -> Json:
        """{"service", "status": ok | degraded | down, ...}; never raises."""
        return self._call("health")

    @raises(NotFound, InvalidInput)
    def list_people(
        self, role: str | None = None, project_id: str | None = None, include_inactive: bool = False
    ) -> Json:
        """[PersonOut] with the role, on the project (its desk or GM)."""
        return self._call(
            "list_people", role=role, project_id=project_id, include_inactive=include_inactive
        )

    def list_projects(self) -> Json:
        """[ProjectOut] of the active projects."""
        return self._call("list_projects")

    def list_routing_errors(self, open_only: bool = True) -> Json:
        """[RoutingErrorOut]: routings the directory could not make."""
        return self._call("list_routing_errors", open_only=open_only)

    @raises(Forbidden, InvalidInput)
    def preview_routing(self, actor: Actor, form: Form) -> Json:
        """The routing an order would get if signed now (`forms.RoutingPreviewForm`;
        `views.RoutingPreviewOut`): the centre's people and admins only."""
        return self._call("preview_routing", actor, form)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def raise_claim(
        self,
        actor: Actor,
        complaint_id: str,
        amount_claimed: Any = None,
        description: str | None = None,
        request_key: str | None = None,
    ) -> Json:
        return self._call(
            "raise_claim",
            actor,
            complaint_id,
            amount_claimed=amount_claimed,
            description=description,
            request_key=request_key,
        )

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def record_meeting(
        self,
        actor: Actor,
        complaint_id: str,
        held_at: Any = None,
        responsible: Any = None,
        solution: str | None = None,
        due_at: Any = None,
        minutes_media_id: str | None = None,
        request_key: str | None = None,
    ) -> Json:
        return self._call(
            "record_meeting",
            actor,
            complaint_id,
            held_at=held_at,
            responsible=responsible,
            solution=solution,
            due_at=due_at,
            minutes_media_id=minutes_media_id,
            request_key=request_key,
        )

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def record_progress(
        self,
        actor: Actor,
        complaint_id: str,
        note: str | None = None,
        photo_media_ids: list[str] | None = None,
        request_key: str | None = None,
    ) -> Json:
        return self._call(
            "record_progress",
            actor,
            complaint_id,
            note=note,
            photo_media_ids=photo_media_ids,
            request_key=request_key,
        )

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def record_visit(
        self, actor: Actor, complaint_id: str, form: Form, request_key: str | None = None
    ) -> Json:
        return self._call("record_visit", actor, complaint_id, form, request_key=request_key)

    @raises(Forbidden, NotFound, InvalidInput, Conflict)
    def report_claim(
        self,
        actor: Actor,
        claim_id: str,
        report_text: str | None = None,
        report_media_id: str | None = None,
    ) -> Json:
        return self._call(
            "report_claim",
            actor,
            claim_id,
            report_text=report_text,
            report_media_id=report_media_id,
        )

    @raises(NotFound, InvalidInput, Conflict)
    def resolve_responsibility(self, project_id: str, department: str, major: bool = False) -> Json:
        """ResponsibilityOut; Conflict (DirectoryIncomplete) when a post is vacant."""
        return self._call("resolve_responsibility", project_id, department, major=major)

    def retry_failed_routings(self) -> Json:
        """How many complaints whose routing failed were routed again (an int)."""
        return self._call("retry_failed_routings")

    def routing_table_info(self) -> Json:
        """The routing table in force: source, sha256, version and categories."""
        return self._call("routing_table_info")

    @raises(NotFound, InvalidInput)
    def verify_record_signature(self, record_id: str) -> Json:
        """SignatureCheckOut of a signed visit or closure application."""
        return self._call("verify_record_signature", record_id)
