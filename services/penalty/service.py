"""The penalty service (ARCHITECTURE): the deduction ledger, sanction cases,
appeals, the monthly report for HR and Finance, rankings and the quarterly
analysis. Entrypoints only, over the service layer by job:

- `charging`: sla's deadline and overdue events -> ledger lines and cases;
- `projection`: intake's and dispatch's facts -> the read-models;
- `casework`: reading the ledger, appeals and sanction cases;
- `closing`: the monthly close (cut, bottom ten, report files in media);
- `assessment`: rankings and assessments;
- `quarterly`: the quarterly analysis and the named departments' measures.

Every consumer applies an event once (shared.inbox.consume, key
`penalty.<event type>`, in the same transaction as its effect) and the
ledger's unique source keys make a charge exactly once even across
different events describing the same fact. The RPC methods are the ones of
shared.contracts.penalty.PenaltyClient, same names and parameters.
"""
import shared  # noqa: F401, I001  (psycopg wait function first)

import logging

from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from nameko.timer import timer

from services.penalty import (
    assessment,
    casework,
    charging,
    closing,
    projection,
    quarterly,
    readmodel,
    reviewing,
)
from services.penalty.access import Actor
from services.penalty.context import SCHEMA, Penalty
from services.penalty.repository import reports as report_store
from services.penalty.rules import load_rulebook
from shared.clock import ClockProvider
from shared.consumer import event_handler
from shared.db import DatabaseProvider
from shared.errors import CCRMError
from shared.events.envelope import load_envelope
from shared.inbox import consume
from shared.observability import Observability
from shared.outbox import OutboxRelay, outbox_backlog
from shared.rpc import RpcProxy, rpc

log = logging.getLogger(__name__)
EXPECTED = (CCRMError,)
CLOSE_SECONDS = 2       # waiting closes and late lines: "at once" is within this


def _rpc(**kwargs):
    """Our errors are answers, not failures: nameko need not log them."""
    return rpc(expected_exceptions=EXPECTED, **kwargs)


class RuleBookProvider(DependencyProvider):
    """The versioned rules (data/rules or PENALTY_RULES_DIR), read at start:
    a broken rules file stops the service instead of charging wrong amounts."""

    def setup(self):
        self.rulebook = load_rulebook(self.container.config.get("PENALTY_RULES_DIR"))

    def get_dependency(self, worker_ctx):
        return self.rulebook


class PenaltyService:
    name = "penalty"

    config = Config()
    observability = Observability("penalty")
    db = DatabaseProvider(SCHEMA)
    clock = ClockProvider()
    outbox = OutboxRelay(SCHEMA)
    rulebook = RuleBookProvider()
    media = RpcProxy("media")
    dispatch = RpcProxy("dispatch")

    def _ctx(self):
        return Penalty(self.db, self.outbox, self.clock, self.rulebook, self.config,
                       self.media, self.dispatch)

    def _consume(self, handler, payload, apply):
        """`apply(ctx, conn, envelope, now)` once for this event (inbox key
        `penalty.<handler>`), in the transaction that records it."""
        envelope = load_envelope(payload)
        ctx = self._ctx()
        now = ctx.now()
        consume(self.db, SCHEMA, handler, envelope,
                lambda conn: apply(ctx, conn, envelope, now))

    def _consume_own(self, handler, payload, consume_event):
        """`consume_event(ctx, handler, envelope, now)` applies the event once
        itself (shared.inbox.consume_with/consume_statement: its first write
        shares the statement of the inbox row)."""
        ctx = self._ctx()
        consume_event(ctx, handler, load_envelope(payload), ctx.now())

    # -- sla.events: what is charged ----------------------------------------------------------

    @event_handler("sla", "deadline.missed")
    def on_deadline_missed(self, payload):
        self._consume_own("deadline.missed", payload, charging.consume_deadline)

    @event_handler("sla", "deadline.met")
    def on_deadline_met(self, payload):
        self._consume_own("deadline.met", payload, charging.consume_deadline)

    @event_handler("sla", "deadline.withdrawn")
    def on_deadline_withdrawn(self, payload):
        self._consume_own("deadline.withdrawn", payload, charging.consume_deadline)

    @event_handler("sla", "deadline.cancelled")
    def on_deadline_cancelled(self, payload):
        self._consume_own("deadline.cancelled", payload, projection.consume_cancelled)

    @event_handler("sla", "overdue.accrued")
    def on_overdue_accrued(self, payload):
        self._consume("overdue.accrued", payload, charging.apply_overdue)

    @event_handler("sla", "overdue.sanction_due")
    def on_overdue_sanction_due(self, payload):
        self._consume("overdue.sanction_due", payload, charging.apply_sanction_due)

    @event_handler("sla", "overdue.withdrawn")
    def on_overdue_withdrawn(self, payload):
        self._consume("overdue.withdrawn", payload, charging.apply_overdue_withdrawn)

    @event_handler("sla", "monthly_report.due")
    def on_monthly_report_due(self, payload):
        """The month waits for its close (recorded with the event in the inbox);
        the close itself runs once sla's mark has passed the month's end."""
        self._consume("monthly_report.due", payload, closing.apply_report_due)
        self._close_waiting()

    @event_handler("sla", "timers.fired_through")
    def on_timers_fired_through(self, payload):
        self._consume("timers.fired_through", payload, closing.apply_fired_through)
        self._close_waiting()

    def _close_waiting(self):
        """The event is applied; a close that fails now (media down...) is
        retried by `close_and_revise`, not by redelivering the event."""
        try:
            closing.close_waiting(self._ctx())
        except Exception:  # noqa: BLE001 - logged; the timer tries again
            log.exception("monthly close deferred to the next round")

    @timer(interval=CLOSE_SECONDS)
    def close_and_revise(self):
        """Months whose close waited for sla's mark, and a new revision of each
        reported month a line arrived for (every fine reaches HR, once)."""
        self._close_waiting()
        try:
            closing.revise_late(self._ctx())
        except Exception:  # noqa: BLE001 - logged; the next round tries again
            log.exception("late revision deferred to the next round")

    # -- intake.events and dispatch.events: the read-models ---------------------------------

    @event_handler("intake", "complaint.received")
    def on_complaint_received(self, payload):
        self._consume_own("complaint.received", payload, projection.consume_intake_facts)

    @event_handler("intake", "complaint.resolved_on_spot")
    def on_resolved_on_spot(self, payload):
        self._consume_own("complaint.resolved_on_spot", payload, projection.consume_intake_facts)

    @event_handler("intake", "complaint.reception_rated")
    def on_reception_rated(self, payload):
        self._consume_own("complaint.reception_rated", payload, projection.consume_intake_facts)

    @event_handler("intake", "order.submitted")
    def on_order_submitted(self, payload):
        self._consume_own("order.submitted", payload, projection.consume_intake_facts)

    @event_handler("intake", "order.reviewed")
    def on_order_reviewed(self, payload):
        self._consume_own("order.reviewed", payload, projection.consume_intake_facts)

    @event_handler("intake", "order.rejected")
    def on_order_rejected(self, payload):
        self._consume_own("order.rejected", payload, projection.consume_intake_facts)

    @event_handler("intake", "order.signed")
    def on_order_signed(self, payload):
        self._consume_own("order.signed", payload, projection.consume_intake_facts)

    @event_handler("intake", "complaint.reopened")
    def on_complaint_reopened(self, payload):
        self._consume_own("complaint.reopened", payload, projection.consume_intake_facts)

    @event_handler("intake", "complaint.escalated")
    def on_complaint_escalated(self, payload):
        self._consume_own("complaint.escalated", payload, projection.consume_intake_facts)

    @event_handler("intake", "closure.verified")
    def on_closure_verified(self, payload):
        self._consume("closure.verified", payload, projection.apply_closure_verified)

    @event_handler("intake", "closure.rejected")
    def on_closure_rejected(self, payload):
        self._consume("closure.rejected", payload, projection.apply_closure_rejected)

    @event_handler("intake", "complaint.closed")
    def on_complaint_closed(self, payload):
        self._consume("complaint.closed", payload, projection.apply_complaint_closed)

    @timer(interval=5, eager=True)
    def catch_up_directory(self):
        projection.catch_up_directory(self._ctx())

    @event_handler("dispatch", "directory.loaded")
    def on_directory_loaded(self, payload):
        self._consume("directory.loaded", payload, projection.apply_directory)

    @event_handler("dispatch", "complaint.routed")
    def on_complaint_routed(self, payload):
        self._consume("complaint.routed", payload, projection.apply_routing)

    @event_handler("dispatch", "visit.recorded")
    def on_visit_recorded(self, payload):
        self._consume("visit.recorded", payload, projection.apply_completion_due)

    @event_handler("dispatch", "closure.applied")
    def on_closure_applied(self, payload):
        self._consume("closure.applied", payload, projection.apply_closure_applied)

    # -- the ledger, appeals and sanction cases ------------------------------------------------

    @_rpc()
    def list_deductions(self, actor, filters=None):
        return casework.list_deductions(self._ctx(), Actor.from_dict(actor), filters)

    @_rpc()
    def get_deduction(self, actor, deduction_id):
        return casework.get_deduction(self._ctx(), Actor.from_dict(actor), deduction_id)

    @_rpc()
    def appeal_deduction(self, actor, deduction_id, form):
        return casework.appeal_deduction(self._ctx(), Actor.from_dict(actor), deduction_id,
                                         form)

    @_rpc()
    def decide_appeal(self, actor, appeal_id, form):
        return casework.decide_appeal(self._ctx(), Actor.from_dict(actor), appeal_id, form)

    @_rpc()
    def list_appeals(self, actor, filters=None):
        return casework.list_appeals(self._ctx(), Actor.from_dict(actor), filters)

    @_rpc()
    def list_sanction_cases(self, actor, filters=None):
        return casework.list_sanction_cases(self._ctx(), Actor.from_dict(actor), filters)

    @_rpc()
    def open_sanction_case(self, actor, form):
        return casework.open_sanction_case(self._ctx(), Actor.from_dict(actor), form)

    @_rpc()
    def decide_sanction_case(self, actor, case_id, form):
        return casework.decide_sanction_case(self._ctx(), Actor.from_dict(actor), case_id,
                                             form)

    # -- the monthly report (Art. 36), rankings (SPEC §5), the analysis (Art. 42) ---------------

    @_rpc()
    def issue_monthly_report(self, actor, month):
        return closing.issue_on_demand(self._ctx(), Actor.from_dict(actor), month)

    @_rpc()
    def monthly_report(self, actor, month, query=None):
        return closing.read_report(self._ctx(), Actor.from_dict(actor), month, query)

    @_rpc()
    def list_report_revisions(self, actor, month):
        return closing.list_revisions(self._ctx(), Actor.from_dict(actor), month)

    @_rpc()
    def confirm_person_month(self, actor, month, person_id, form=None):
        return reviewing.confirm(self._ctx(), Actor.from_dict(actor), month, person_id, form)

    @_rpc()
    def refer_person_month(self, actor, month, person_id, form=None):
        return reviewing.refer(self._ctx(), Actor.from_dict(actor), month, person_id, form)

    @_rpc()
    def rankings(self, actor, month):
        return assessment.month_rankings(self._ctx(), Actor.from_dict(actor), month)

    @_rpc()
    def issue_analysis(self, actor, quarter):
        return quarterly.issue_on_demand(self._ctx(), Actor.from_dict(actor), quarter)

    @_rpc()
    def get_analysis(self, actor, quarter):
        return quarterly.get_analysis(self._ctx(), Actor.from_dict(actor), quarter)

    @_rpc()
    def file_measures(self, actor, quarter, form):
        return quarterly.file_measures(self._ctx(), Actor.from_dict(actor), quarter, form)

    # -- health ------------------------------------------------------------------------------------

    @rpc
    def health(self):
        try:
            with self.db.connection() as conn:
                report_store.ping(conn)
                version = readmodel.directory_version(conn)
            backlog = outbox_backlog(self.db, SCHEMA)
        except Exception as exc:  # noqa: BLE001 - health reports, it does not raise
            message = exc.message if isinstance(exc, CCRMError) else f"{type(exc).__name__}: {exc}"
            return {"service": self.name, "status": "down", "error": message}
        rules = [{"version": v.version, "effective_from": v.effective_from.isoformat()}
                 for v in self.rulebook.versions]
        status = "ok" if version is not None else "degraded"
        out = {"service": self.name, "status": status, "outbox_backlog": backlog,
               "directory_version": version, "rule_versions": rules}
        if version is None:
            out["error"] = "尚未收到组织架构 (no directory.loaded received yet)"
        return out
