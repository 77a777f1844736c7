"""The intake service: complaints and their supervision orders, the centre's
side (SPEC §2, §4, §8). Entrypoints only: each loads its input with the
contract's forms (shared.contracts.intake), checks the caller's role, and
hands the step to the service layer (services/intake/steps.py), which locks,
decides with the pure modules (order, links, aftercare, closure), stores in
one transaction with the timeline and the outbox, and dumps the answer.

After the GM's signature the departments work (dispatch); intake keeps a copy
of who answers for the complaint (`complaint.routed`), owes the customer a
callback after a blocked visit (`visit.blocked`, Art. 23), and runs the
closure loop once the department applies (`closure.applied`, Art. 28, 29).
"""
from nameko.dependency_providers import Config
from nameko.timer import timer

import shared  # noqa: F401  (psycopg wait function first)
from services.intake import (
    act_repository,
    aftercare,
    closure,
    directory_copy,
    finding,
    housekeeping,
    incoming,
    links,
    order,
    repository,
)
from services.intake.access import (
    Actor,
    require_callback_roles,
    require_may_see,
    require_role,
    require_signing_link_roles,
)
from services.intake.steps import Steps
from shared import roles
from shared.clock import ClockProvider
from shared.consumer import event_handler
from shared.contracts.dispatch import DispatchClient
from shared.contracts.intake import forms
from shared.contracts.intake.vocabulary import STEP_RECORD_SIGNATURE
from shared.db import DatabaseProvider
from shared.errors import CCRMError
from shared.observability import Observability
from shared.outbox import OutboxRelay
from shared.pruning import CHECK_SECONDS
from shared.rpc import RpcProxy, rpc
from shared.signature_binding import RETRY_INTERVAL_SECONDS

EXPECTED = (CCRMError,)
DIRECTORY_CATCH_UP_SECONDS = 5


def _rpc(**kwargs):
    """Our errors are answers, not failures: nameko need not log them."""
    return rpc(expected_exceptions=EXPECTED, **kwargs)


def _decision(decision, reason):
    return forms.load(forms.DecisionForm(), {"decision": decision, "reason": reason})


class IntakeService:
    name = "intake"

    config = Config()
    observability = Observability("intake")
    db = DatabaseProvider("intake")
    clock = ClockProvider()
    outbox = OutboxRelay("intake")
    media = RpcProxy("media")
    dispatch = RpcProxy("dispatch")

    def _steps(self):
        # Made per call from the worker's dependencies (tests swap them).
        return Steps(self.db, self.clock, self.outbox, self.config, self.dispatch, self.media)

    # -- recording (Art. 13-15) ---------------------------------------------------------

    @_rpc()
    def record_complaint(self, actor, form, request_key=None):
        actor = Actor.from_dict(actor)
        require_role(actor, roles.SPECIALIST, "登记投诉")
        return self._steps().record(actor, form, request_key)

    # -- the order's approval chain (Art. 14, 18) -------------------------------------------

    @_rpc()
    def submit_order(self, actor, complaint_id):
        actor = Actor.from_dict(actor)
        require_role(actor, roles.SPECIALIST, "提交督办单")
        steps = self._steps()
        deputy = steps.person_for_role(roles.CENTRE_DEPUTY_GM)
        return steps.step_view(complaint_id, lambda conn, c, now: order.submit(
            c, actor, now, deputy, zone=steps.zone))

    @_rpc()
    def review_order(self, actor, complaint_id, decision, reason=None):
        actor = Actor.from_dict(actor)
        require_role(actor, roles.CENTRE_DEPUTY_GM, "审核督办单")
        form, steps = _decision(decision, reason), self._steps()
        gm = steps.person_for_role(roles.CENTRE_GM) if decision == "approve" else None
        return steps.step_view(complaint_id, lambda conn, c, now: order.review(
            c, actor, form["decision"], form["reason"], now, gm_id=gm, zone=steps.zone))

    @_rpc()
    def sign_order(self, actor, complaint_id, decision, reason=None, department=None,
                   department_reason=None):
        actor = Actor.from_dict(actor)
        require_role(actor, roles.CENTRE_GM, "签发督办单")
        form, steps = forms.load(forms.SignForm(), {
            "decision": decision, "reason": reason, "department": department,
            "department_reason": department_reason}), self._steps()
        deputy = steps.person_for_role(roles.CENTRE_DEPUTY_GM) if decision == "reject" else None
        return steps.step_view(complaint_id, lambda conn, c, now: order.sign(
            c, actor, form["decision"], form["reason"], now, department=form["department"],
            department_reason=form["department_reason"], deputy_gm_id=deputy, zone=steps.zone))

    # -- reopen and escalate ------------------------------------------------------------------

    @_rpc()
    def reopen(self, actor, complaint_id, reason):
        actor = Actor.from_dict(actor)
        require_role(actor, roles.SPECIALIST, "重新打开投诉")
        form, steps = forms.load(forms.ReopenForm(), {"reason": reason}), self._steps()
        return steps.step_view(complaint_id, lambda conn, c, now: order.reopen(
            c, actor, form["reason"], now, zone=steps.zone))

    @_rpc()
    def escalate(self, actor, complaint_id, level, reason):
        actor = Actor.from_dict(actor)
        require_role(actor, roles.CENTRE_GM, "升级投诉")
        form = forms.load(forms.EscalateForm(), {"level": level, "reason": reason})
        steps = self._steps()
        return steps.step_view(complaint_id, lambda conn, c, now: order.escalate(
            c, actor, form["level"], form["reason"], now, zone=steps.zone))

    # -- after the order: the departments' news (dispatch's events) ---------------------------

    @event_handler("dispatch", "complaint.routed")
    def on_complaint_routed(self, payload):
        """Who answers for the complaint (Art. 20, 21), again after an escalation."""
        self._steps().consume(payload, "complaint_routed", incoming.RoutedIn,
                              lambda conn, c, data, now: aftercare.on_routed(c, data, now))

    @event_handler("dispatch", "visit.blocked")
    def on_visit_blocked(self, payload):
        """The customer blocked the visit: the centre owes a callback (Art. 23)."""
        self._steps().consume(payload, "visit_blocked", incoming.VisitBlockedIn,
                              lambda conn, c, data, now: aftercare.on_visit_blocked(c, data, now))

    @event_handler("dispatch", "closure.applied")
    def on_closure_applied(self, payload):
        """The department applied for closure: the specialist verifies next (Art. 28)."""
        steps = self._steps()
        steps.consume(payload, "closure_applied", incoming.ClosureAppliedIn,
                      lambda conn, c, data, now: closure.on_closure_applied(
                          c, steps.current_closure(conn, c), data, now))

    # -- the directory's copy (issue 17: recording asks dispatch nothing) ---------------------

    @event_handler("dispatch", "directory.loaded")
    def on_directory_loaded(self, payload):
        """Keep the directory dispatch loaded (unless a newer one is kept)."""
        directory_copy.apply_event(self.db, payload)

    @timer(interval=DIRECTORY_CATCH_UP_SECONDS, eager=True)
    def catch_up_directory(self):
        """Until a directory.loaded arrives (intake's queue may not have existed
        when it went out), read the current directory from dispatch once."""
        timeout = float(self.config.get("RPC_TIMEOUT", 15))
        directory_copy.catch_up(self.db, DispatchClient(self.dispatch, timeout))

    # -- the callback after a blocked visit (Art. 23) ---------------------------------------------

    @_rpc()
    def record_callback(self, actor, complaint_id, form):
        actor = Actor.from_dict(actor)
        require_callback_roles(actor)
        data, steps = forms.load(forms.CallbackForm(), form), self._steps()
        return steps.step_view(complaint_id, lambda conn, c, now: aftercare.record_callback(
            c, actor, data, now, zone=steps.zone,
            callback_id=act_repository.next_callback_id(conn, c.id)))

    # -- acts of fairness (issue 13; SPEC §4 fairness, §10) ---------------------------------------

    @_rpc()
    def void_complaint(self, actor, complaint_id, reason):
        """A complaint recorded by mistake, before its order is signed."""
        actor = Actor.from_dict(actor)
        require_role(actor, roles.CENTRE_DEPUTY_GM, "作废投诉")
        return self._steps().void(actor, complaint_id, reason)

    @_rpc()
    def resend_signing_link(self, actor, complaint_id):
        """A new one-time signing link for the customer (Art. 13); the old one stops working."""
        actor = Actor.from_dict(actor)
        require_signing_link_roles(actor)
        return self._steps().resend_signing_link(actor, complaint_id)

    @_rpc()
    def accept_callback_time(self, actor, complaint_id, callback_id, reason):
        """The deputy GM accepts a callback's stated time beyond the grace."""
        actor = Actor.from_dict(actor)
        require_role(actor, roles.CENTRE_DEPUTY_GM, "认可陈述时间")
        return self._steps().accept_callback_time(actor, complaint_id, callback_id, reason)

    # -- the closure loop (Art. 29) ----------------------------------------------------------------

    @_rpc()
    def verify_closure(self, actor, complaint_id, satisfaction=None, comment=None,
                       decision="approve", reason=None):
        """The specialist's check, callback and satisfaction survey."""
        actor = Actor.from_dict(actor)
        require_role(actor, roles.SPECIALIST, "核查结案")
        form, steps = forms.load(forms.VerifyForm(), {
            "satisfaction": satisfaction, "comment": comment, "decision": decision or "approve",
            "reason": reason}), self._steps()
        deputy = (steps.person_for_role(roles.CENTRE_DEPUTY_GM)
                  if form["decision"] == "approve" else None)
        return steps.closure_step_view(complaint_id, lambda c, current, now: closure.verify(
            c, current, actor, form, now, deputy_gm_id=deputy, zone=steps.zone))

    @_rpc()
    def review_closure(self, actor, complaint_id, decision, reason=None):
        actor = Actor.from_dict(actor)
        require_role(actor, roles.CENTRE_DEPUTY_GM, "审核结案")
        form, steps = _decision(decision, reason), self._steps()
        gm = steps.person_for_role(roles.CENTRE_GM) if form["decision"] == "approve" else None
        return steps.closure_step_view(complaint_id, lambda c, current, now: closure.review(
            c, current, actor, form["decision"], form["reason"], now, gm_id=gm, zone=steps.zone))

    @_rpc()
    def approve_closure(self, actor, complaint_id, decision, reason=None):
        actor = Actor.from_dict(actor)
        require_role(actor, roles.CENTRE_GM, "审批结案")
        form, steps = _decision(decision, reason), self._steps()
        deputy = (steps.person_for_role(roles.CENTRE_DEPUTY_GM)
                  if form["decision"] == "reject" else None)
        return steps.closure_step_view(complaint_id, lambda c, current, now: closure.approve(
            c, current, actor, form["decision"], form["reason"], now, deputy_gm_id=deputy,
            zone=steps.zone))

    # -- reception rating (Art. 16) ----------------------------------------------------------

    @_rpc()
    def rate_reception(self, actor, complaint_id, score, comment=None):
        """From the specialist's terminal, handed to the customer."""
        actor = Actor.from_dict(actor)
        require_role(actor, roles.SPECIALIST, "登记接待评价")
        form = forms.load(forms.RatingForm(), {"score": score, "comment": comment})
        steps = self._steps()
        return steps.step_view(complaint_id, lambda conn, c, now: links.rate(
            c, form["score"], form["comment"], now,
            existing=repository.get_rating(conn, c.id, c.order_round), via="terminal",
            actor=actor, zone=steps.zone))

    # -- the customer's links (SPEC §8) ---------------------------------------------------------

    @_rpc(sensitive_arguments=("token",))
    def open_signing_link(self, token):
        """What the customer sees: the complaint's id, project, room, demand and the step."""
        return self._steps().open_link(token)

    @_rpc(sensitive_arguments=("token",))
    def check_link(self, token, step=STEP_RECORD_SIGNATURE):
        """For the gateway's customer upload: the link's complaint if the link
        is valid now and for `step`."""
        link, _ = self._steps().link_and_complaint(token)
        links.check_link(link, self.clock.now(), step)
        return {"complaint_id": link.complaint_id, "step": link.step}

    @_rpc(sensitive_arguments=("token",))
    def sign_by_link(self, token, signature_media_id):
        return self._steps().sign_by_link(token, signature_media_id)

    @_rpc(sensitive_arguments=("token",))
    def rate_by_link(self, token, score, comment=None):
        form = forms.load(forms.RatingForm(), {"score": score, "comment": comment})
        steps = self._steps()
        link, _ = steps.link_and_complaint(token)
        steps.step(link.complaint_id, lambda conn, c, now: links.rate(
            c, form["score"], form["comment"], now,
            existing=repository.get_rating(conn, c.id, c.order_round), via="link",
            link=repository.get_link(conn, link.token_sha256, for_update=True), zone=steps.zone))
        return {"complaint_id": link.complaint_id, "score": form["score"]}

    # -- reading ----------------------------------------------------------------------------------

    @_rpc()
    def get_complaint(self, actor, complaint_id):
        return self._steps().view(complaint_id, actor=Actor.from_dict(actor))

    @_rpc()
    def check_access(self, actor, complaint_id):
        """Forbidden unless the actor may see the complaint: the gateway asks
        before it shows what other services keep of it (deadlines, files)."""
        actor = Actor.from_dict(actor)
        require_may_see(actor, self._steps().load(complaint_id))
        return {"complaint_id": complaint_id}

    @_rpc()
    def list_complaints(self, actor, filters=None):
        """The complaints the actor may see, filtered, sorted and paged (SPEC §10)."""
        return finding.list_complaints(self._steps(), Actor.from_dict(actor), filters)

    @_rpc()
    def export_complaints(self, actor, filters=None):
        """Every row of the filtered list for a CSV / XLSX file (at most 10,000)."""
        return finding.export_complaints(self._steps(), Actor.from_dict(actor), filters)

    @_rpc()
    def verify_record_signature(self, actor, complaint_id):
        """Whether the record is still what the customer signed (SPEC §6)."""
        return self._steps().verify_record_signature(Actor.from_dict(actor), complaint_id)

    @_rpc()
    def health(self):
        return self._steps().health(self.name)

    # -- signature binding retries ---------------------------------------------------------

    @timer(interval=RETRY_INTERVAL_SECONDS)
    def retry_signature_bindings(self):
        """Bind signatures whose bind after the commit failed (media down)."""
        self._steps().binder().retry_due()

    @timer(interval=CHECK_SECONDS)
    def prune_request_keys(self):
        """Daily: request keys older than REQUEST_KEYS_KEEP_DAYS (issue 14)."""
        housekeeping.prune_request_keys(self.db, self.clock, self.config)
