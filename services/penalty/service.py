"""The penalty service (ARCHITECTURE): the deduction ledger, sanction cases,
appeals, the monthly report for HR and Finance, rankings and the quarterly
analysis. Entrypoints only: load -> decide (pure modules) -> store
(repository, one transaction with the inbox mark and the outbox) -> dump.

Every consumer applies an event once (shared.inbox in the same transaction
as its effect) and the ledger's unique source keys make a charge exactly
once even across different events describing the same fact.
"""
import shared  # noqa: F401  (psycopg wait function first)

import base64
import hashlib
import logging
import uuid
from dataclasses import replace

import eventlet
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from shared.rpc import RpcProxy, rpc
from nameko.timer import timer

from services.penalty import (access, analysis, appeals, ledger, months, rankings, readmodel,
                              repository, sanctions, schemas, views)
from services.penalty import report as report_mod
from services.penalty.access import Actor
from services.penalty.rules import BLOCK_RULES, load_rulebook
from services.penalty.schemas import load, load_event_data
from shared import roles
from shared.clock import ClockProvider
from shared.consumer import event_handler
from shared.db import DatabaseProvider
from shared.errors import CCRMError, Conflict, NotFound, Unavailable
from shared.events.envelope import load_envelope
from shared.inbox import first_delivery
from shared.observability import Observability
from shared.outbox import OutboxRelay, outbox_backlog

log = logging.getLogger(__name__)

SCHEMA = "penalty"
EXPECTED = (CCRMError,)
BOTTOM_TEN_HISTORY_MONTHS = 24
REPORT_RECIPIENT_ROLES = (roles.HR, roles.FINANCE)


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


def _new_id():
    return str(uuid.uuid4())


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

    # -- plumbing ------------------------------------------------------------------------

    @property
    def zone(self):
        return self.clock.zone

    def _consume(self, handler, payload, apply):
        envelope = load_envelope(payload)
        now = self.clock.now()
        with self.db.transaction() as conn:
            if not first_delivery(conn, SCHEMA, handler, envelope["event_id"], envelope["type"]):
                return
            apply(conn, envelope, now)

    def _record(self, conn, charges, now, event_id=None, reason=None):
        """Price and insert charges; each new line is announced. A charge
        whose source key is already in the ledger is silently the same one."""
        if not charges:
            return []
        people = readmodel.people(conn, {c.person_id for c in charges})
        lines = [ledger.to_line(charge, people.get(charge.person_id), line_id=_new_id(),
                                now=now, zone=self.zone,
                                event_id=str(event_id) if event_id else None)
                 for charge in charges]
        written = repository.insert_lines(conn, lines)
        for line in written:
            if line.reverses is not None:
                self.outbox.add(conn, "deduction.reversed", views.line_event(line, reason),
                                occurred_at=now, complaint_id=line.complaint_id)
            else:
                self.outbox.add(conn, "deduction.recorded", views.line_event(line),
                                occurred_at=now, complaint_id=line.complaint_id)
        return written

    def _reverse_timer(self, conn, timer_id, reason, at, now, event_id):
        """Everything a withdrawn (or met after all) deadline charged, reversed."""
        lines = [line for line in repository.lines_for_timer(conn, timer_id)
                 if ledger.reversible(line, allow_negative=True)]
        charges = [ledger.reversal(line, reason, at, event_id=str(event_id)) for line in lines]
        return self._record(conn, charges, now, event_id, reason)

    def _open_cases(self, conn, cases, now):
        for case in cases:
            if repository.insert_case(conn, case):
                self.outbox.add(conn, "sanction_case.opened", views.case_opened(case),
                                occurred_at=now, complaint_id=case.complaint_id)

    # -- sla.events: what is charged ----------------------------------------------------------

    @event_handler("sla", "deadline.missed")
    def on_deadline_missed(self, payload):
        self._consume("deadline.missed", payload, self._apply_missed)

    def _apply_missed(self, conn, envelope, now):
        data = load_event_data(schemas.MissedIn, envelope["data"])
        complaint_id = envelope["complaint_id"]
        readmodel.deadline_outcome(conn, data, complaint_id, "missed", now)
        already = 0
        if data["rule"] in BLOCK_RULES:
            if not data["final"]:
                repository.open_miss(conn, data, complaint_id, now)
                return
            repository.end_miss(conn, data, complaint_id, now, "final")
            already = repository.blocks_charged(conn, data["timer_id"], data["rule"]).get(
                data.get("person_id"), 0)
        charges = ledger.missed_charges(data, complaint_id, self.rulebook, self.zone, already)
        self._record(conn, charges, now, envelope["event_id"])

    @event_handler("sla", "deadline.met")
    def on_deadline_met(self, payload):
        self._consume("deadline.met", payload, self._apply_met)

    def _apply_met(self, conn, envelope, now):
        """Met after a miss was announced (the step's event arrived after the
        deadline fired): whatever that miss charged is reversed."""
        data = load_event_data(schemas.DeadlineIn, envelope["data"])
        readmodel.deadline_outcome(conn, data, envelope["complaint_id"], "met", now)
        if data["rule"] in BLOCK_RULES:
            repository.end_miss(conn, data, envelope["complaint_id"], now, "met")
        self._reverse_timer(conn, data["timer_id"], "deadline_met", envelope["occurred_at"],
                            now, envelope["event_id"])

    @event_handler("sla", "deadline.withdrawn")
    def on_deadline_withdrawn(self, payload):
        self._consume("deadline.withdrawn", payload, self._apply_withdrawn)

    def _apply_withdrawn(self, conn, envelope, now):
        data = load_event_data(schemas.WithdrawnIn, envelope["data"])
        readmodel.deadline_outcome(conn, data, envelope["complaint_id"], "withdrawn", now)
        if data["rule"] in BLOCK_RULES:
            repository.end_miss(conn, data, envelope["complaint_id"], now, "withdrawn")
        self._reverse_timer(conn, data["timer_id"], "deadline_withdrawn",
                            envelope["occurred_at"], now, envelope["event_id"])

    @event_handler("sla", "deadline.cancelled")
    def on_deadline_cancelled(self, payload):
        self._consume("deadline.cancelled", payload, lambda conn, envelope, now:
                      readmodel.deadline_outcome(
                          conn, load_event_data(schemas.CancelledIn, envelope["data"]),
                          envelope["complaint_id"], "cancelled", now))

    @event_handler("sla", "overdue.accrued")
    def on_overdue_accrued(self, payload):
        self._consume("overdue.accrued", payload, self._apply_overdue)

    def _apply_overdue(self, conn, envelope, now):
        data = load_event_data(schemas.OverdueIn, envelope["data"])
        complaint_id = envelope["complaint_id"] or data["complaint_id"]
        charges = ledger.overdue_charges(data, complaint_id, self.rulebook, self.zone)
        self._record(conn, charges, now, envelope["event_id"])

    @event_handler("sla", "overdue.sanction_due")
    def on_overdue_sanction_due(self, payload):
        self._consume("overdue.sanction_due", payload, self._apply_sanction_due)

    def _apply_sanction_due(self, conn, envelope, now):
        data = load_event_data(schemas.OverdueIn, envelope["data"])
        complaint_id = envelope["complaint_id"] or data["complaint_id"]
        self._open_cases(conn, sanctions.overdue_cases(data, complaint_id, self.rulebook,
                                                       self.zone, now, _new_id), now)

    @event_handler("sla", "overdue.withdrawn")
    def on_overdue_withdrawn(self, payload):
        self._consume("overdue.withdrawn", payload, self._apply_overdue_withdrawn)

    def _apply_overdue_withdrawn(self, conn, envelope, now):
        data = load_event_data(schemas.OverdueWithdrawnIn, envelope["data"])
        self._reverse_timer(conn, data["timer_id"], "overdue_withdrawn", envelope["occurred_at"],
                            now, envelope["event_id"])
        for case in repository.open_cases_for_timer(conn, data["timer_id"]):
            withdrawn = sanctions.withdraw(case, "overdue_withdrawn", now)
            repository.save_case(conn, withdrawn)
            self.outbox.add(conn, "sanction_case.withdrawn",
                            dict(views.case_facts(withdrawn), reason="overdue_withdrawn"),
                            occurred_at=now, complaint_id=withdrawn.complaint_id)

    @event_handler("sla", "monthly_report.due")
    def on_monthly_report_due(self, payload):
        envelope = load_envelope(payload)
        data = load_event_data(schemas.MonthlyReportDueIn, envelope["data"])
        with self.db.connection() as conn:
            if repository.seen(conn, "monthly_report.due", envelope["event_id"]):
                return
        self._monthly_close(data["month"], None, "monthly_report.due", self.clock.now(),
                            envelope)

    # -- intake.events and dispatch.events: the read-models ---------------------------------

    def _intake_facts(self, conn, envelope, now):
        facts = load_event_data(schemas.FactsIn, envelope["data"])
        at = envelope["occurred_at"]
        readmodel.apply_intake_facts(conn, facts, at)
        kind = envelope["type"]
        if kind == "complaint.reception_rated" and facts["score"] is not None:
            readmodel.rating(conn, facts["complaint_id"],
                             facts["rated_specialist_id"] or facts["specialist_id"],
                             facts["score"], at)
        elif kind == "complaint.reopened":
            readmodel.reopened(conn, facts["complaint_id"], facts["order_round"], at)
        elif kind == "complaint.resolved_on_spot":
            readmodel.complaint_closed(conn, facts["complaint_id"], facts["closed_at"] or at)

    @event_handler("intake", "complaint.received")
    def on_complaint_received(self, payload):
        self._consume("complaint.received", payload, self._intake_facts)

    @event_handler("intake", "complaint.resolved_on_spot")
    def on_resolved_on_spot(self, payload):
        self._consume("complaint.resolved_on_spot", payload, self._intake_facts)

    @event_handler("intake", "complaint.reception_rated")
    def on_reception_rated(self, payload):
        self._consume("complaint.reception_rated", payload, self._intake_facts)

    @event_handler("intake", "order.submitted")
    def on_order_submitted(self, payload):
        self._consume("order.submitted", payload, self._intake_facts)

    @event_handler("intake", "order.reviewed")
    def on_order_reviewed(self, payload):
        self._consume("order.reviewed", payload, self._intake_facts)

    @event_handler("intake", "order.rejected")
    def on_order_rejected(self, payload):
        self._consume("order.rejected", payload, self._intake_facts)

    @event_handler("intake", "order.signed")
    def on_order_signed(self, payload):
        self._consume("order.signed", payload, self._intake_facts)

    @event_handler("intake", "complaint.reopened")
    def on_complaint_reopened(self, payload):
        self._consume("complaint.reopened", payload, self._intake_facts)

    @event_handler("intake", "complaint.escalated")
    def on_complaint_escalated(self, payload):
        self._consume("complaint.escalated", payload, self._intake_facts)

    @event_handler("intake", "closure.verified")
    def on_closure_verified(self, payload):
        self._consume("closure.verified", payload, lambda conn, envelope, now:
                      readmodel.closure_verified(
                          conn, envelope["complaint_id"],
                          load_event_data(schemas.ClosureVerifiedIn, envelope["data"])))

    @event_handler("intake", "closure.rejected")
    def on_closure_rejected(self, payload):
        self._consume("closure.rejected", payload, lambda conn, envelope, now:
                      readmodel.closure_rejected(
                          conn, envelope["complaint_id"],
                          load_event_data(schemas.ClosureRejectedIn, envelope["data"])))

    @event_handler("intake", "complaint.closed")
    def on_complaint_closed(self, payload):
        self._consume("complaint.closed", payload, lambda conn, envelope, now:
                      readmodel.complaint_closed(
                          conn, envelope["complaint_id"],
                          load_event_data(schemas.ComplaintClosedIn, envelope["data"])["closed_at"]))

    @timer(interval=5, eager=True)
    def catch_up_directory(self):
        """directory.loaded reaches penalty only if its queue existed when the
        event went out: on a first start against a new broker it did not. Until
        a directory is known, read the current one from dispatch by RPC."""
        with self.db.connection() as conn:
            if readmodel.directory_version(conn) is not None:
                return
        try:
            with eventlet.Timeout(5):
                data = self.dispatch.directory_snapshot()
        except BaseException as exc:  # noqa: BLE001 - dispatch not up yet: try again later
            log.info("directory catch-up skipped: %s", type(exc).__name__)
            return
        with self.db.transaction() as conn:
            readmodel.replace_directory(conn, load_event_data(schemas.DirectoryIn, data))
        log.info("directory version %s read from dispatch by RPC", data.get("version"))

    @event_handler("dispatch", "directory.loaded")
    def on_directory_loaded(self, payload):
        self._consume("directory.loaded", payload, lambda conn, envelope, now:
                      readmodel.replace_directory(
                          conn, load_event_data(schemas.DirectoryIn, envelope["data"])))

    @event_handler("dispatch", "complaint.routed")
    def on_complaint_routed(self, payload):
        self._consume("complaint.routed", payload, lambda conn, envelope, now:
                      readmodel.apply_routing(
                          conn, load_event_data(schemas.RoutedIn, envelope["data"]),
                          envelope["occurred_at"]))

    @event_handler("dispatch", "visit.recorded")
    def on_visit_recorded(self, payload):
        self._consume("visit.recorded", payload, self._completion_due)

    @event_handler("dispatch", "closure.applied")
    def on_closure_applied(self, payload):
        self._consume("closure.applied", payload, self._closure_applied)

    def _completion_due(self, conn, envelope, now):
        data = load_event_data(schemas.CompletionDueIn, envelope["data"])
        readmodel.set_completion_due(conn, data["complaint_id"], data["completion_due_at"],
                                     envelope["occurred_at"])

    def _closure_applied(self, conn, envelope, now):
        data = load_event_data(schemas.ClosureAppliedIn, envelope["data"])
        readmodel.closure_applied(conn, data)
        readmodel.set_completion_due(conn, data["complaint_id"], data["completion_due_at"],
                                     envelope["occurred_at"])

    # -- the ledger -----------------------------------------------------------------------------

    @_rpc()
    def list_deductions(self, actor, filters=None):
        actor = Actor.from_dict(actor)
        query = load(schemas.DeductionFilters(), filters or {})
        person = access.ledger_person_filter(actor, query["person_id"])
        with self.db.connection() as conn:
            lines = repository.list_lines(conn, query["month"], person, query["rule"],
                                          query["limit"], query["offset"])
            total = repository.count_lines(conn, query["month"], person, query["rule"])
        return {"items": [views.line_view(line, self.zone) for line in lines], "total": total,
                "limit": query["limit"], "offset": query["offset"]}

    @_rpc()
    def get_deduction(self, actor, deduction_id):
        actor = Actor.from_dict(actor)
        with self.db.connection() as conn:
            line = self._line(conn, deduction_id)
        if not access.may_read_line(actor, line):
            access.require(actor, access.LEDGER_READERS, "查看他人的扣罚")
        return views.line_view(line, self.zone)

    def _line(self, conn, deduction_id):
        line = repository.get_line(conn, _uuid(deduction_id, "扣罚"))
        if line is None:
            raise NotFound(f"扣罚记录不存在 (no deduction {deduction_id})")
        return line

    # -- appeals ----------------------------------------------------------------------------------

    @_rpc()
    def appeal_deduction(self, actor, deduction_id, form):
        actor = Actor.from_dict(actor)
        data = load(schemas.AppealForm(), form or {})
        now = self.clock.now()
        with self.db.transaction() as conn:
            line = self._line(conn, deduction_id)
            appeal = appeals.file(line, actor, data["reason"], now, _new_id(),
                                  repository.appeal_for_line(conn, line.id))
            if not repository.insert_appeal(conn, appeal):
                raise Conflict("该扣罚已申诉过 (this deduction was already appealed)")
            self.outbox.add(conn, "appeal.filed", {
                "appeal_id": appeal.id, "deduction_id": line.id, "person_id": appeal.person_id,
                "reason": appeal.reason, "filed_at": now}, occurred_at=now,
                complaint_id=line.complaint_id)
        return views.appeal_view(appeal, self.zone)

    @_rpc()
    def decide_appeal(self, actor, appeal_id, form):
        actor = Actor.from_dict(actor)
        data = load(schemas.AppealDecisionForm(), form or {})
        now = self.clock.now()
        with self.db.transaction() as conn:
            appeal = repository.get_appeal(conn, _uuid(appeal_id, "申诉"), for_update=True)
            if appeal is None:
                raise NotFound(f"申诉不存在 (no appeal {appeal_id})")
            line = repository.get_line(conn, appeal.deduction_id)
            decided, charge = appeals.decide(appeal, line, actor, data["decision"],
                                             data["reason"], now)
            written = self._record(conn, [charge] if charge else [], now, reason="appeal_upheld")
            if written:
                decided = replace(decided, reversal_id=written[0].id)
            repository.record_appeal_decision(conn, decided)
            self.outbox.add(conn, "appeal.decided", {
                "appeal_id": decided.id, "deduction_id": decided.deduction_id,
                "person_id": decided.person_id, "decision": decided.status,
                "decided_by": decided.decided_by, "decided_at": now,
                "reason": decided.decision_reason, "reversal_id": decided.reversal_id},
                occurred_at=now, complaint_id=line.complaint_id)
        return views.appeal_view(decided, self.zone)

    @_rpc()
    def list_appeals(self, actor, filters=None):
        actor = Actor.from_dict(actor)
        query = load(schemas.AppealFilters(), filters or {})
        person = query["person_id"]
        if not actor.any_of(access.APPEAL_DECIDERS | access.LEDGER_READERS):
            person = access.ledger_person_filter(actor, person)
        with self.db.connection() as conn:
            found = repository.list_appeals(conn, query["status"], person)
        return [views.appeal_view(a, self.zone) for a in found]

    # -- sanction cases ---------------------------------------------------------------------------

    @_rpc()
    def list_sanction_cases(self, actor, filters=None):
        actor = Actor.from_dict(actor)
        access.require(actor, access.CASE_READERS, "查看处分案件")
        query = load(schemas.CaseFilters(), filters or {})
        with self.db.connection() as conn:
            found = repository.list_cases(conn, query["status"], query["person_id"], query["kind"])
        return [views.case_view(c, self.zone) for c in found]

    @_rpc()
    def open_sanction_case(self, actor, form):
        actor = Actor.from_dict(actor)
        data = load(schemas.CaseForm(), form or {})
        now = self.clock.now()
        with self.db.transaction() as conn:
            if not readmodel.people(conn, [data["person_id"]]):
                raise NotFound(f"组织架构中没有此人 (unknown person {data['person_id']})")
            repository.lock(conn, f"penalty:case:{data['person_id']}")
            count = repository.count_cases(conn, data["person_id"], data["kind"],
                                           months.month_of(now, self.zone))
            case = sanctions.manual_case(data["kind"], data["person_id"], data["complaint_id"],
                                         data["note"], data["observed_at"], actor, now,
                                         self.rulebook, self.zone, _new_id, count)
            self._open_cases(conn, [case], now)
        return views.case_view(case, self.zone)

    @_rpc()
    def decide_sanction_case(self, actor, case_id, form):
        actor = Actor.from_dict(actor)
        data = load(schemas.CaseDecisionForm(), form or {})
        now = self.clock.now()
        with self.db.transaction() as conn:
            case = repository.get_case(conn, _uuid(case_id, "处分案件"), for_update=True)
            if case is None:
                raise NotFound(f"处分案件不存在 (no sanction case {case_id})")
            decided, charge = sanctions.decide(case, actor, data, now, self.zone)
            written = self._record(conn, [charge] if charge else [], now)
            if written:
                decided = replace(decided, deduction_id=written[0].id)
            repository.save_case(conn, decided)
            self.outbox.add(conn, "sanction_case.decided", views.case_decided(decided),
                            occurred_at=now, complaint_id=decided.complaint_id)
        return views.case_view(decided, self.zone)

    # -- the monthly report (Art. 36) -----------------------------------------------------------

    @_rpc()
    def issue_monthly_report(self, actor, month):
        actor = Actor.from_dict(actor)
        access.require(actor, access.REPORT_ISSUERS, "出具月度扣罚报表")
        months.parse_month(month)
        return self._monthly_close(month, actor.person_id, "on_demand", self.clock.now())

    @_rpc()
    def monthly_report(self, actor, month, query=None):
        """The latest (or a given) revision: JSON, or the CSV / XLSX file
        rebuilt from it (its SHA-256 is checked against the one issued)."""
        actor = Actor.from_dict(actor)
        access.require(actor, access.REPORT_READERS, "查看月度扣罚报表")
        months.parse_month(month)
        query = load(schemas.ReportQuery(), query or {})
        months.require_month_ended(month, self.clock.now(), self.zone)
        with self.db.connection() as conn:
            row = repository.latest_report(conn, month, query["revision"])
        if row is None:
            raise NotFound(f"{month} 月度扣罚报表尚未出具 (not issued yet: POST "
                           f"/api/reports/monthly/{month}/issue)")
        if query["format"] == "json":
            return views.report_view(row, self.zone, changed=False)
        report = views.report_from_snapshot(row["snapshot"])
        if query["format"] == "csv":
            content, digest, kind = report_mod.render_csv(report), row["csv_sha256"], "text/csv"
        else:
            content, digest = report_mod.render_xlsx(report), row["xlsx_sha256"]
            kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        if hashlib.sha256(content).hexdigest() != digest:
            log.error("monthly report %s r%s no longer renders to its issued bytes", month,
                      row["revision"])
        return {"filename": f"deductions-{month}-r{row['revision']}.{query['format']}",
                "content_type": kind, "sha256": hashlib.sha256(content).hexdigest(),
                "content_b64": base64.b64encode(content).decode("ascii")}

    def _monthly_close(self, month, actor_id, trigger, now, envelope=None):
        """The month's cut, the bottom-ten tracking, then the report (a new
        revision only if something changed), and at a quarter's end the
        systemic-issue analysis. Every step is idempotent."""
        months.require_month_ended(month, now, self.zone)
        self._cut(month, now)
        self._track_bottom_ten(month, now)
        result = self._issue_report(month, actor_id, trigger, now, envelope)
        quarter = months.quarter_of_month(month)
        if quarter is not None and trigger == "monthly_report.due":
            self._issue_analysis(quarter, None, now)
        return result

    def _cut(self, month, now):
        """Steps never done: charge the blocks accrued by the month's end."""
        _, end = months.month_bounds(month, self.zone)
        with self.db.transaction() as conn:
            repository.lock(conn, f"penalty:cut:{month}")
            for miss in repository.open_misses_before(conn, end):
                already = repository.blocks_charged(conn, miss.timer_id, miss.rule)
                charges = ledger.cut_charges(miss, month, self.rulebook, self.zone, already)
                self._record(conn, charges, now)

    def _track_bottom_ten(self, month, now):
        """Art. 16: record the month's bottom ten; a specialist there three
        months running gets a sanction case."""
        start, end = months.month_bounds(month, self.zone)
        rule = self.rulebook.at(months.last_instant(end), self.zone).sanctions["bottom_ten"]
        size, running = int(rule.settings["size"]), int(rule.settings["months_running"])
        history_months = [month]
        while len(history_months) < BOTTOM_TEN_HISTORY_MONTHS:
            history_months.insert(0, months.previous_month(history_months[0]))
        with self.db.transaction() as conn:
            repository.lock(conn, f"penalty:bottom_ten:{month}")
            inputs = readmodel.ranking_inputs(conn, start, end)
            ranking = rankings.specialist_ranking(
                inputs["ratings"], readmodel.all_people(conn), start, end, size,
                int(rule.settings.get("min_ranked", size + 1)))
            bottom = [e for e in ranking["entries"] if e["bottom_ten"]]
            repository.replace_bottom_ten(conn, month, bottom)
            history = repository.bottom_ten_months(conn, [e["person_id"] for e in bottom],
                                                   history_months)
            for entry in bottom:
                ranks = history.get(entry["person_id"], {})
                due, streak = sanctions.bottom_ten_streak(set(ranks), history_months, running)
                if not due:
                    continue
                counted = history_months[-running:]
                case = sanctions.bottom_ten_case(
                    entry["person_id"], counted, {m: ranks[m] for m in counted},
                    self.rulebook, self.zone, now, _new_id)
                self._open_cases(conn, [case], now)

    def _issue_report(self, month, actor_id, trigger, now, envelope=None):
        with self.db.transaction() as conn:
            repository.lock(conn, f"penalty:report:{month}")
            if envelope is not None and not first_delivery(
                    conn, SCHEMA, "monthly_report.due", envelope["event_id"], envelope["type"]):
                return None
            report = report_mod.build(month, repository.report_rows(conn, month))
            snapshot = report.snapshot()
            previous = repository.latest_report(conn, month)
            if previous is not None and previous["snapshot"] == snapshot:
                return views.report_view(previous, self.zone, changed=False)
            csv_bytes, xlsx_bytes = report_mod.render_csv(report), report_mod.render_xlsx(report)
            revision = previous["revision"] + 1 if previous else 1
            csv_media = self._upload(csv_bytes, f"deductions-{month}-r{revision}.csv", actor_id)
            xlsx_media = self._upload(xlsx_bytes, f"deductions-{month}-r{revision}.xlsx", actor_id)
            row = {"month": month, "revision": revision, "issued_at": now, "issued_by": actor_id,
                   "trigger": trigger, "snapshot": snapshot, "totals": report.totals(),
                   "line_count": report.line_count, "csv_media_id": csv_media["id"],
                   "xlsx_media_id": xlsx_media["id"],
                   "csv_sha256": hashlib.sha256(csv_bytes).hexdigest(),
                   "xlsx_sha256": hashlib.sha256(xlsx_bytes).hexdigest(),
                   "changes": report_mod.diff(previous["snapshot"], snapshot) if previous else None}
            repository.insert_report(conn, row)
            self.outbox.add(conn, "monthly_report.issued", views.issued_event(row),
                            occurred_at=now)
            recipients = readmodel.people_with_roles(conn, REPORT_RECIPIENT_ROLES)
            self.outbox.add(conn, "notification.requested",
                            views.report_notification(row, recipients), occurred_at=now)
        return views.report_view(row, self.zone, changed=True)

    def _upload(self, content, filename, actor_id):
        timeout = float(self.config.get("RPC_TIMEOUT", 15))
        try:
            with eventlet.Timeout(timeout):
                return self.media.upload(base64.b64encode(content).decode("ascii"), filename,
                                         "report", uploaded_by=actor_id, step="monthly_report")
        except eventlet.Timeout:
            raise Unavailable(f"文件服务暂无响应，报表未出具 (media did not answer in {timeout}s)")

    # -- rankings (SPEC §5) and the quarterly analysis (Art. 42) -----------------------------------

    @_rpc()
    def rankings(self, actor, month):
        actor = Actor.from_dict(actor)
        access.require(actor, access.RANKING_READERS, "查看排名")
        months.parse_month(month)
        start, end = months.month_bounds(month, self.zone)
        now = self.clock.now()
        if now < start:
            raise Conflict(f"{month} 尚未开始，无排名 (the month has not started)")
        rule = self.rulebook.at(min(now, months.last_instant(end)), self.zone) \
            .sanctions["bottom_ten"]
        size = int(rule.settings["size"])
        with self.db.connection() as conn:
            inputs = readmodel.ranking_inputs(conn, start, end)
            units, projects = readmodel.units(conn), readmodel.projects(conn)
            people = readmodel.all_people(conn)
            history = {}
            ranked = rankings.specialist_ranking(inputs["ratings"], people, start, end, size,
                                                 int(rule.settings.get("min_ranked", size + 1)))
            if ranked["bottom_ten"]:
                window = [months.previous_month(months.previous_month(month)),
                          months.previous_month(month)]
                history = repository.bottom_ten_months(conn, ranked["bottom_ten"], window)
        for entry in ranked["entries"]:
            entry["bottom_ten_months"] = sorted(history.get(entry["person_id"], {})) + (
                [month] if entry["bottom_ten"] else [])
        return {"month": month, "complete": now >= end,
                "companies": rankings.company_rankings(
                    inputs["complaints"], inputs["applications"], inputs["reopens"], units,
                    projects, start, end),
                "specialists": ranked,
                "desks": rankings.desk_assessment(inputs["complaints"], inputs["applications"],
                                                  inputs["outcomes"], projects, start, end)}

    @_rpc()
    def issue_analysis(self, actor, quarter):
        actor = Actor.from_dict(actor)
        access.require(actor, access.ANALYSIS_ISSUERS, "出具季度系统性问题分析")
        months.parse_quarter(quarter)
        return self._issue_analysis(quarter, actor.person_id, self.clock.now())

    @_rpc()
    def get_analysis(self, actor, quarter):
        actor = Actor.from_dict(actor)
        access.require(actor, access.RANKING_READERS, "查看季度系统性问题分析")
        months.parse_quarter(quarter)
        with self.db.connection() as conn:
            row = repository.latest_analysis(conn, quarter)
        if row is None:
            raise NotFound(f"{quarter} 系统性问题分析尚未出具 (not issued yet)")
        return dict(row["data"], revision=row["revision"],
                    issued_at=row["issued_at"].astimezone(self.zone).isoformat())

    def _issue_analysis(self, quarter, actor_id, now):
        months.require_quarter_ended(quarter, now, self.zone)
        start, end = months.quarter_bounds(quarter, self.zone)
        with self.db.transaction() as conn:
            repository.lock(conn, f"penalty:analysis:{quarter}")
            inputs = readmodel.ranking_inputs(conn, start, end)
            data = analysis.systemic_analysis(quarter, inputs["complaints"], inputs["reopens"],
                                              start, end)
            previous = repository.latest_analysis(conn, quarter)
            if previous is not None and previous["data"] == data:
                return dict(data, revision=previous["revision"], changed=False,
                            issued_at=previous["issued_at"].astimezone(self.zone).isoformat())
            revision = previous["revision"] + 1 if previous else 1
            repository.insert_analysis(conn, quarter, revision, now, actor_id, data)
            self.outbox.add(conn, "analysis.issued",
                            dict(data, revision=revision, issued_at=now), occurred_at=now)
        return dict(data, revision=revision, changed=True,
                    issued_at=now.astimezone(self.zone).isoformat())

    # -- health ------------------------------------------------------------------------------------

    @rpc
    def health(self):
        try:
            with self.db.connection() as conn:
                repository.ping(conn)
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


def _uuid(value, what):
    try:
        return str(uuid.UUID(str(value)))
    except (TypeError, ValueError):
        raise NotFound(f"{what}不存在 (no such {what}: {value})") from None

