"""The dispatch service: the departments' side (ARCHITECTURE). It answers for
the organisation directory and who is responsible for a complaint (SPEC §1,
§3), routes signed orders (Art. 20, 21), and carries the department's work:
visits, progress, the closure application, claims and major-complaint
meetings (Art. 22-34).

Entrypoints only: each loads its arguments with the contract's forms
(shared.contracts.dispatch) and hands a decision of the pure domain modules
to the service layer (casework: steps and events; queries: what is read).
"""
import logging

from nameko.dependency_providers import Config
from nameko.timer import timer

import shared  # noqa: F401  (psycopg wait function before psycopg is imported)
from services.dispatch import (
    acts,
    assignment,
    claims,
    housekeeping,
    meetings,
    overview,
    queries,
    work,
)
from services.dispatch import incoming as read
from services.dispatch.bindings import binder
from services.dispatch.casework import Casework
from services.dispatch.claims import Claim
from services.dispatch.meetings import Meeting
from services.dispatch.routing import RoutingTableProvider
from shared.clock import ClockProvider
from shared.consumer import event_handler
from shared.contracts.dispatch import forms
from shared.contracts.media import MediaClient
from shared.db import DatabaseProvider
from shared.errors import CCRMError
from shared.observability import Observability
from shared.outbox import OutboxRelay
from shared.pruning import CHECK_SECONDS
from shared.rpc import RpcProxy, rpc
from shared.signature_binding import RETRY_INTERVAL_SECONDS
from shared.validation import load_input as load

log = logging.getLogger(__name__)

REROUTE_INTERVAL = 30


def _rpc(**kwargs):
    """Our errors are answers, not failures: nameko need not log them."""
    return rpc(expected_exceptions=(CCRMError,), **kwargs)


class DispatchService:
    name = "dispatch"

    config = Config()
    observability = Observability("dispatch")
    db = DatabaseProvider("dispatch")
    clock = ClockProvider()
    outbox = OutboxRelay("dispatch")
    routing_table = RoutingTableProvider()
    media = RpcProxy("media")

    # -- the directory (SPEC §1, §3) -----------------------------------------------------------

    @_rpc()
    def directory_snapshot(self):
        """The current directory as the `data` of `directory.loaded`: for a
        consumer whose queue did not exist when the event went out (a first
        start on a new broker) to catch up by RPC."""
        return queries.directory_snapshot(self._work().directory())

    @_rpc()
    def get_person(self, person_id):
        return queries.get_person(self._work().directory(), person_id)

    @_rpc()
    def list_people(self, role=None, project_id=None, include_inactive=False):
        return queries.list_people(self._work().directory(), role, project_id, include_inactive)

    @_rpc()
    def get_project(self, project_id):
        return queries.get_project(self._work().directory(), project_id, self._today())

    @_rpc()
    def list_projects(self):
        return queries.list_projects(self._work().directory(), self._today())

    @_rpc()
    def resolve_responsibility(self, project_id, department, major=False):
        return queries.responsibility(self._work().directory(), project_id, department, major)

    @_rpc()
    def routing_table_info(self):
        """The routing table in force (SPEC §3), as loaded at start."""
        return queries.routing_table_info(self.routing_table)

    # -- intake's events ------------------------------------------------------------------------

    @event_handler("intake", "order.signed")
    def on_order_signed(self, payload):
        self._work().consume(payload, "order_signed", lambda s: assignment.on_order_signed(
            s.case, s.data["facts"], self.routing_table, s.directory, s.now,
            s.next_id("routings")), with_directory=True, numbered="routings")

    @event_handler("intake", "complaint.escalated")
    def on_escalated(self, payload):
        self._work().consume(payload, "escalated", lambda s: assignment.on_escalated(
            s.case, self.routing_table, s.directory, s.now, s.next_id("routings")),
            with_directory=True, numbered="routings")

    @event_handler("intake", "complaint.reopened")
    def on_reopened(self, payload):
        self._work().consume(payload, "reopened", lambda s: work.on_reopened(
            s.before, s.case, s.data, s.now), reader=read.ReopenedIn)

    @event_handler("intake", "callback.recorded")
    def on_callback(self, payload):
        self._work().consume(payload, "callback", lambda s: work.on_callback(
            s.case, s.data, s.now, s.data.get("callback_id") or s.next_id("callbacks")),
            reader=read.CallbackIn, facts_required=False)

    @event_handler("intake", "closure.verified")
    def on_closure_verified(self, payload):
        self._work().closure_event(payload, "closure_verified", read.ClosureVerifiedIn,
                                   work.on_closure_verified)

    @event_handler("intake", "closure.reviewed")
    def on_closure_reviewed(self, payload):
        self._work().closure_event(payload, "closure_reviewed", read.ClosureReviewedIn,
                                   work.on_closure_reviewed)

    @event_handler("intake", "closure.rejected")
    def on_closure_rejected(self, payload):
        self._work().closure_event(payload, "closure_rejected", read.ClosureRejectedIn,
                                   work.on_closure_rejected)

    @event_handler("intake", "complaint.closed")
    def on_closed(self, payload):
        self._work().closure_event(payload, "closed", read.ComplaintClosedIn, work.on_closed,
                                   application_required=False)

    # -- the department's steps (Art. 22-28) ------------------------------------------------------

    @_rpc()
    def record_visit(self, actor, complaint_id, form, request_key=None):
        data = load(forms.VisitForm(), form)
        cw = self._work()
        return cw.out(cw.step(actor, complaint_id, lambda s: work.record_visit(
            s.case, s.staff, data, s.now, s.next_id("visits"), s.media),
            data["photo_media_ids"] + [data["customer_signature_media_id"]],
            signature_field="customer_signature_media_id", request_key=request_key,
            numbered="visits"))

    @_rpc()
    def record_progress(self, actor, complaint_id, note=None, photo_media_ids=None,
                        request_key=None):
        data = load(forms.ProgressForm(), {"note": note, "photo_media_ids": photo_media_ids or []})
        cw = self._work()
        return cw.out(cw.step(actor, complaint_id, lambda s: work.record_progress(
            s.case, s.staff, data, s.now, s.next_id("progress"), s.media),
            data["photo_media_ids"], request_key=request_key, numbered="progress"))

    @_rpc()
    def apply_closure(self, actor, complaint_id, material_media_ids=None,
                      customer_signature_media_id=None, request_key=None, work_done=None):
        data = load(forms.ClosureForm(), {
            "material_media_ids": material_media_ids or [],
            "customer_signature_media_id": customer_signature_media_id, "work_done": work_done})
        cw = self._work()
        return cw.out(cw.step(actor, complaint_id, lambda s: work.apply_closure(
            s.case, s.staff, data, s.now, s.next_id("closure_applications"), s.media),
            data["material_media_ids"] + [data["customer_signature_media_id"]],
            signature_field="customer_signature_media_id", request_key=request_key,
            numbered="closure_applications"))

    @_rpc()
    def accept_visit_time(self, actor, complaint_id, visit_id, reason):
        """The deputy GM accepts a visit's stated time that precedes its receipt
        by more than the grace (SPEC §4 fairness), with a reason."""
        data = load(forms.ReasonForm(), {"reason": reason})
        cw = self._work()
        return cw.out(cw.accept_visit_time(actor, complaint_id, visit_id, data["reason"]))

    # -- claims (Art. 34) -------------------------------------------------------------------------

    @_rpc()
    def raise_claim(self, actor, complaint_id, amount_claimed=None, description=None,
                    request_key=None):
        data = load(forms.ClaimForm(), {"amount_claimed": amount_claimed,
                                        "description": description})
        cw = self._work()
        return cw.out(cw.step(actor, complaint_id, lambda s: claims.raise_claim(
            s.case, s.staff, data, s.now, s.next_id("claims")), request_key=request_key,
            numbered="claims"))

    @_rpc()
    def report_claim(self, actor, claim_id, report_text=None, report_media_id=None):
        data = load(forms.ClaimReportForm(), {"report_text": report_text,
                                              "report_media_id": report_media_id})
        cw = self._work()
        return cw.out(cw.record_step(actor, Claim, claim_id, lambda s, claim: claims.report_claim(
            s.case, claim, s.staff, data, s.now, s.media), [data["report_media_id"]]))

    @_rpc()
    def decide_claim(self, actor, claim_id, decision=None, amount_granted=None, note=None):
        data = load(forms.ClaimDecisionForm(), {"decision": decision,
                                                "amount_granted": amount_granted, "note": note})
        cw = self._work()
        return cw.out(cw.record_step(actor, Claim, claim_id, lambda s, claim: claims.decide_claim(
            s.case, claim, s.staff, data, s.now)))

    @_rpc()
    def file_claim(self, actor, claim_id):
        cw = self._work()
        return cw.out(cw.record_step(actor, Claim, claim_id, lambda s, claim: claims.file_claim(
            s.case, claim, s.staff, s.now)))

    # -- major-complaint meetings (Art. 33) ------------------------------------------------------

    @_rpc()
    def record_meeting(self, actor, complaint_id, held_at=None, responsible=None, solution=None,
                       due_at=None, minutes_media_id=None, request_key=None):
        data = load(forms.MeetingForm(), {"held_at": held_at, "responsible": responsible,
                                          "solution": solution, "due_at": due_at,
                                          "minutes_media_id": minutes_media_id})
        cw = self._work()
        return cw.out(cw.step(actor, complaint_id, lambda s: meetings.record_meeting(
            s.case, s.staff, data, s.now, s.next_id("meetings"), s.media),
            [data["minutes_media_id"]], request_key=request_key, numbered="meetings"))

    @_rpc()
    def file_meeting_minutes(self, actor, meeting_id, minutes_media_id=None):
        data = load(forms.MinutesForm(), {"minutes_media_id": minutes_media_id})
        cw = self._work()
        return cw.out(cw.record_step(actor, Meeting, meeting_id, lambda s, meeting: (
            meetings.file_minutes(s.case, meeting, s.staff, data, s.now, s.media)),
            [data["minutes_media_id"]]))

    # -- reading ----------------------------------------------------------------------------------

    @_rpc()
    def get_complaint_view(self, complaint_id, actor=None):
        """Routing, responsibility, visits, progress, applications, claims and
        meetings of a complaint, for its page. With an actor, only for those
        who may see the complaint (the centre, its desk, the people routed)."""
        return queries.complaint_view(self._work(), complaint_id, actor)

    @_rpc()
    def routing_overview(self, complaint_ids):
        """The latest routing and completion deadline of many complaints at once."""
        return overview.routing_overview(self._work(), complaint_ids)

    @_rpc()
    def preview_routing(self, actor, form):
        """The routing the order would get if signed now, or why it would fail
        (the GM's sign form shows it): nothing is stored."""
        return queries.preview(self._work(), actor, form)

    @_rpc()
    def list_routing_errors(self, open_only=True):
        """Routings the directory could not make (operators' worklist)."""
        return queries.routing_errors(self._work(), open_only)

    @_rpc()
    def verify_record_signature(self, record_id):
        """Whether a signed visit or closure application is still what the
        customer signed (SPEC §6)."""
        return queries.verify_record_signature(self._work(), record_id)

    # -- routing again after the directory changed ------------------------------------------------

    @_rpc()
    def retry_failed_routings(self):
        """Route again every complaint whose routing failed on an older
        directory; returns how many were tried."""
        return queries.retry_failed_routings(self._work())

    @timer(interval=REROUTE_INTERVAL)
    def retry_failed_routings_periodically(self):
        self.retry_failed_routings()

    # -- health and signature binding retries -----------------------------------------------------

    @_rpc()
    def health(self):
        return queries.health(self._work(), self.name)

    @timer(interval=RETRY_INTERVAL_SECONDS)
    def retry_signature_bindings(self):
        """Bind signatures whose bind after the commit failed (media down)."""
        binder(self._media(), self.db, self.clock).retry_due()

    @timer(interval=CHECK_SECONDS)
    def prune_request_keys(self):
        """Daily: request keys older than REQUEST_KEYS_KEEP_DAYS (issue 14)."""
        housekeeping.prune_request_keys(self.db, self.clock, self.config)

    # -- helpers ----------------------------------------------------------------------------------

    def _media(self):
        return MediaClient(self.media, float(self.config.get("RPC_TIMEOUT", 15)))

    def _work(self):
        return Casework(self.db, self.clock, self.outbox, self.routing_table, self._media(),
                        grace=acts.grace_of(self.config))

    def _today(self):
        return self.clock.local_now().date()
