"""The dispatch service: the departments' side (ARCHITECTURE). It answers for
the organisation directory and who is responsible for a complaint (SPEC §1,
§3), routes signed orders (Art. 20, 21), and carries the department's work:
visits, progress, the closure application, claims and major-complaint
meetings (Art. 22-34). Entrypoints only: load -> decide -> store -> emit -> dump.

Signatures (SPEC §6) are bound to the visit or application they confirm after
the commit: the step's transaction writes a `pending` binding beside the
record, the worker tries once at once, and a timer retries until media answers.
"""
import shared  # noqa: F401  (psycopg wait function before psycopg is imported)

import logging
from dataclasses import dataclass, replace
from datetime import timedelta

import psycopg
from nameko.dependency_providers import Config
from shared.rpc import RpcProxy, rpc
from nameko.timer import timer

from services.dispatch import (assignment, case_repository, claims, meetings, repository, work,
                               work_schemas as ws)
from services.dispatch.case import may_see, merge_facts, staff_of
from services.dispatch.claims import Claim
from services.dispatch.meetings import Meeting
from services.dispatch.remote import Media
from services.dispatch.responsibility import resolve_responsibility
from services.dispatch.routing import RoutingTableProvider
from services.dispatch.schemas import (PERSON_OUT, PROJECT_OUT, RESPONSIBILITY_OUT, IdArgument,
                                       PeopleQuery, ResponsibilityQuery, load, person_view,
                                       project_view, responsibility_view)
from services.dispatch.work import ClosureApplication, Visit
from services.dispatch.schemas import directory_loaded_data
from shared.clock import ClockProvider, system_now
from shared.consumer import event_handler
from shared.db import DatabaseProvider
from shared.errors import CCRMError, Conflict, Forbidden, InvalidInput, NotFound
from shared.events.envelope import load_envelope
from shared.events.registry import schema_for
from shared.inbox import first_delivery
from shared.observability import Observability
from shared.outbox import OutboxRelay, outbox_backlog
from shared.signing import record_sha256

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoadSummary:
    """What `directory_loaded_data` reads of a load, for the current version."""
    version: int
    counts: dict
    vacancies: tuple


@dataclass(frozen=True)
class Replayed:
    """A step's answer for a request key that already ran: the record it made."""
    result: object
    bindings: tuple = ()


BIND_RETRY_INTERVAL = 5
BIND_BATCH = 50
BIND_LEASE = timedelta(seconds=60)
REROUTE_INTERVAL = 30
SIGNATURE_USED = "该签名已用于另一条记录 (signature already attached to another record)"


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

    def _directory(self):
        return repository.read_directory(self.db)

    def _today(self):
        return self.clock.local_now().date()

    @_rpc()
    def directory_snapshot(self):
        """The current directory as the `data` of `directory.loaded`: for a
        consumer whose queue did not exist when the event went out (a first
        start on a new broker) to catch up by RPC."""
        directory = self._directory()
        if not directory.loaded:
            raise NotFound("组织架构尚未加载 (no directory loaded yet)")
        current = LoadSummary(directory.version.version, directory.counts(),
                              tuple(directory.vacancies()))
        data = directory_loaded_data(directory, current, directory.version.loaded_at)
        return schema_for("directory.loaded").dump(data)

    @_rpc()
    def get_person(self, person_id):
        person_id = load(IdArgument(), {"id": person_id})["id"]
        directory = self._directory()
        person = directory.person(person_id)
        if person is None:
            raise NotFound(f"组织架构中没有此人 (unknown person) {person_id}")
        return PERSON_OUT.dump(person_view(directory, person))

    @_rpc()
    def list_people(self, role=None, project_id=None, include_inactive=False):
        query = load(PeopleQuery(), {"role": role, "project_id": project_id,
                                     "include_inactive": include_inactive})
        directory = self._directory()
        if query["project_id"] is not None and directory.project(query["project_id"]) is None:
            raise NotFound(f"项目不存在 (unknown project) {query['project_id']}")
        people = [p for p in directory.people
                  if (p.active or query["include_inactive"])
                  and (query["role"] is None or query["role"] in p.roles)
                  and (query["project_id"] is None
                       or query["project_id"] in directory.project_ids_of(p.id))]
        return PERSON_OUT.dump([person_view(directory, p) for p in people], many=True)

    @_rpc()
    def get_project(self, project_id):
        project_id = load(IdArgument(), {"id": project_id})["id"]
        directory = self._directory()
        project = directory.project(project_id)
        if project is None:
            raise NotFound(f"项目不存在 (unknown project) {project_id}")
        return PROJECT_OUT.dump(project_view(directory, project, self._today()))

    @_rpc()
    def list_projects(self):
        directory, today = self._directory(), self._today()
        return PROJECT_OUT.dump([project_view(directory, p, today)
                                 for p in directory.active_projects()], many=True)

    @_rpc()
    def resolve_responsibility(self, project_id, department, major=False):
        query = load(ResponsibilityQuery(), {"project_id": project_id, "department": department,
                                             "major": major})
        directory = self._directory()
        responsibility = resolve_responsibility(directory, **query)
        return RESPONSIBILITY_OUT.dump(responsibility_view(directory, responsibility))

    @_rpc()
    def routing_table_info(self):
        """The routing table in force (SPEC §3), as loaded at start."""
        table = self.routing_table
        return {"source": table.source, "sha256": table.sha256, "version": table.label,
                "categories": [{"category": r.category, "name": r.name, "first": r.first,
                                "cooperating": list(r.cooperating)}
                               for r in table.routes.values()]}

    # -- intake's events ------------------------------------------------------------------------

    @event_handler("intake", "order.signed")
    def on_order_signed(self, payload):
        def decide(conn, before, case, data, directory, now):
            return assignment.on_order_signed(
                case, data["facts"], self.routing_table, directory, now,
                case_repository.next_id(conn, case, "routings"))
        self._consume(payload, "order_signed", decide, with_directory=True)

    @event_handler("intake", "complaint.escalated")
    def on_escalated(self, payload):
        def decide(conn, before, case, data, directory, now):
            return assignment.on_escalated(case, self.routing_table, directory, now,
                                           case_repository.next_id(conn, case, "routings"))
        self._consume(payload, "escalated", decide, with_directory=True)

    @event_handler("intake", "complaint.reopened")
    def on_reopened(self, payload):
        self._consume(payload, "reopened", lambda conn, before, case, data, directory, now:
                      work.on_reopened(before, case, data, now), reader=ws.ReopenedIn)

    @event_handler("intake", "callback.recorded")
    def on_callback(self, payload):
        self._consume(payload, "callback", lambda conn, before, case, data, directory, now:
                      work.on_callback(case, data, now,
                                       case_repository.next_id(conn, case, "callbacks")),
                      reader=ws.CallbackIn, facts_required=False)

    @event_handler("intake", "closure.verified")
    def on_closure_verified(self, payload):
        self._closure_event(payload, "closure_verified", ws.ClosureVerifiedIn,
                            work.on_closure_verified)

    @event_handler("intake", "closure.reviewed")
    def on_closure_reviewed(self, payload):
        self._closure_event(payload, "closure_reviewed", ws.ClosureReviewedIn,
                            work.on_closure_reviewed)

    @event_handler("intake", "closure.rejected")
    def on_closure_rejected(self, payload):
        self._closure_event(payload, "closure_rejected", ws.ClosureRejectedIn,
                            work.on_closure_rejected)

    @event_handler("intake", "complaint.closed")
    def on_closed(self, payload):
        self._closure_event(payload, "closed", ws.ComplaintClosedIn, work.on_closed,
                            application_required=False)

    # -- the department's steps (Art. 22-28) ------------------------------------------------------

    @_rpc()
    def record_visit(self, actor, complaint_id, form, request_key=None):
        data = ws.load(ws.VisitForm(), form)
        media_ids = data["photo_media_ids"] + [data["customer_signature_media_id"]]
        outcome = self._step(actor, complaint_id, lambda conn, case, staff, media, now:
                             work.record_visit(case, staff, data, now,
                                               case_repository.next_id(conn, case, "visits"),
                                               media),
                             media_ids, signature_field="customer_signature_media_id",
                             request_key=request_key)
        return self._out(outcome)

    @_rpc()
    def record_progress(self, actor, complaint_id, note=None, photo_media_ids=None,
                        request_key=None):
        data = ws.load(ws.ProgressForm(), {"note": note,
                                           "photo_media_ids": photo_media_ids or []})
        outcome = self._step(actor, complaint_id, lambda conn, case, staff, media, now:
                             work.record_progress(case, staff, data, now,
                                                  case_repository.next_id(conn, case, "progress"),
                                                  media),
                             data["photo_media_ids"], request_key=request_key)
        return self._out(outcome)

    @_rpc()
    def apply_closure(self, actor, complaint_id, material_media_ids=None,
                      customer_signature_media_id=None, request_key=None):
        data = ws.load(ws.ClosureForm(), {"material_media_ids": material_media_ids or [],
                                          "customer_signature_media_id":
                                              customer_signature_media_id})
        media_ids = data["material_media_ids"] + [data["customer_signature_media_id"]]
        outcome = self._step(actor, complaint_id, lambda conn, case, staff, media, now:
                             work.apply_closure(case, staff, data, now, case_repository.next_id(
                                 conn, case, "closure_applications"), media),
                             media_ids, signature_field="customer_signature_media_id",
                             request_key=request_key)
        return self._out(outcome)

    # -- claims (Art. 34) -------------------------------------------------------------------------

    @_rpc()
    def raise_claim(self, actor, complaint_id, amount_claimed=None, description=None,
                    request_key=None):
        data = ws.load(ws.ClaimForm(), {"amount_claimed": amount_claimed,
                                        "description": description})
        return self._out(self._step(actor, complaint_id, lambda conn, case, staff, media, now:
                                    claims.raise_claim(case, staff, data, now,
                                                       case_repository.next_id(conn, case, "claims")),
                                    request_key=request_key))

    @_rpc()
    def report_claim(self, actor, claim_id, report_text=None, report_media_id=None):
        data = ws.load(ws.ClaimReportForm(), {"report_text": report_text,
                                              "report_media_id": report_media_id})
        return self._out(self._record_step(
            actor, Claim, claim_id, lambda case, claim, staff, media, now:
            claims.report_claim(case, claim, staff, data, now, media),
            [data["report_media_id"]]))

    @_rpc()
    def decide_claim(self, actor, claim_id, decision=None, amount_granted=None, note=None):
        data = ws.load(ws.ClaimDecisionForm(), {"decision": decision,
                                                "amount_granted": amount_granted, "note": note})
        return self._out(self._record_step(
            actor, Claim, claim_id, lambda case, claim, staff, media, now:
            claims.decide_claim(case, claim, staff, data, now)))

    @_rpc()
    def file_claim(self, actor, claim_id):
        return self._out(self._record_step(
            actor, Claim, claim_id, lambda case, claim, staff, media, now:
            claims.file_claim(case, claim, staff, now)))

    # -- major-complaint meetings (Art. 33) -----------------------------------------------------------

    @_rpc()
    def record_meeting(self, actor, complaint_id, held_at=None, responsible=None, solution=None,
                       due_at=None, minutes_media_id=None, request_key=None):
        data = ws.load(ws.MeetingForm(), {"held_at": held_at, "responsible": responsible,
                                          "solution": solution, "due_at": due_at,
                                          "minutes_media_id": minutes_media_id})
        return self._out(self._step(actor, complaint_id, lambda conn, case, staff, media, now:
                                    meetings.record_meeting(
                                        case, staff, data, now,
                                        case_repository.next_id(conn, case, "meetings"), media),
                                    [data["minutes_media_id"]], request_key=request_key))

    @_rpc()
    def file_meeting_minutes(self, actor, meeting_id, minutes_media_id=None):
        data = ws.load(ws.MinutesForm(), {"minutes_media_id": minutes_media_id})
        return self._out(self._record_step(
            actor, Meeting, meeting_id, lambda case, meeting, staff, media, now:
            meetings.file_minutes(case, meeting, staff, data, now, media),
            [data["minutes_media_id"]]))

    # -- reading ----------------------------------------------------------------------------------

    @_rpc()
    def get_complaint_view(self, complaint_id, actor=None):
        """Routing, responsibility, visits, progress, applications, claims and
        meetings of a complaint, for its page. With an actor, only for those
        who may see the complaint (the centre, its desk, the people routed)."""
        complaint_id = self._checked_id(complaint_id)
        staff = staff_of(self._directory(), actor) if actor is not None else None
        with self.db.transaction() as conn:
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            case = case_repository.get_case(conn, complaint_id)
            if case is None:
                raise NotFound(f"派单信息不存在：投诉 {complaint_id} 尚未签发派出 "
                               f"(no dispatch record for complaint {complaint_id})")
            routings = case_repository.routings(conn, complaint_id)
            if staff is not None and not may_see(staff, case, routings):
                raise Forbidden(f"无权查看投诉 {complaint_id} (not a complaint you answer for)")
            view = ws.complaint_view(
                case, routings=routings,
                errors=case_repository.routing_errors(conn, complaint_id),
                visits=case_repository.records(conn, Visit, complaint_id),
                callbacks=case_repository.records(conn, work.Callback, complaint_id),
                progress=case_repository.records(conn, work.Progress, complaint_id),
                applications=case_repository.records(conn, ClosureApplication, complaint_id),
                claim_list=case_repository.records(conn, Claim, complaint_id),
                meetings=case_repository.records(conn, Meeting, complaint_id),
                history=case_repository.history(conn, complaint_id),
                bindings=case_repository.bindings_of(conn, complaint_id))
        return ws.dump(ws.VIEW, view, self.clock.zone)

    @_rpc()
    def list_routing_errors(self, open_only=True):
        """Routings the directory could not make (operators' worklist)."""
        with self.db.connection() as conn:
            rows = case_repository.routing_errors(conn, open_only=bool(open_only))
        return [ws.dump(ws.ROUTING_ERROR_OUT, row, self.clock.zone) for row in rows]

    @_rpc()
    def verify_record_signature(self, record_id):
        """Whether a signed visit or closure application is still what the
        customer signed (SPEC §6)."""
        record_id = self._checked_id(record_id)
        with self.db.connection() as conn:
            record = (case_repository.get_record(conn, Visit, record_id)
                      or case_repository.get_record(conn, ClosureApplication, record_id))
        if record is None or record.signature_media_id is None:
            raise NotFound(f"没有签名的记录 (no signed record {record_id})")
        current = record_sha256(record.signed_record())
        result = self._media().verify_signature(record.signature_media_id, current)
        return {"record_id": record.id, "media_id": record.signature_media_id,
                "intact": bool(result["intact"]), "record_sha256": current,
                "bound_record_sha256": result.get("bound_record_sha256")}

    # -- routing again after the directory changed ------------------------------------------------

    @_rpc()
    def retry_failed_routings(self):
        """Route again every complaint whose routing failed on an older
        directory; returns how many were tried."""
        with self.db.connection() as conn:
            head = repository.current_version(conn)
            if head is None:
                return 0
            pending = case_repository.complaints_to_reroute(conn, head["version"])
        for complaint_id in pending:
            directory = self._directory()
            now = self.clock.now()
            with self.db.transaction() as conn:
                case = case_repository.lock_case(conn, complaint_id)
                outcome = assignment.retry(case, self.routing_table, directory, now,
                                           case_repository.next_id(conn, case, "routings"))
                if outcome.result is not None or outcome.resolve_routing_errors:
                    self._store(conn, outcome, now)
        return len(pending)

    @timer(interval=REROUTE_INTERVAL)
    def retry_failed_routings_periodically(self):
        self.retry_failed_routings()

    # -- health -------------------------------------------------------------------------------------

    @_rpc()
    def health(self):
        try:
            with self.db.connection() as conn:
                head = repository.current_version(conn)
                errors = case_repository.open_routing_error_count(conn)
                pending = case_repository.pending_binding_count(conn)
            backlog = outbox_backlog(self.db, "dispatch")
        except Exception as exc:  # noqa: BLE001 - health reports, it does not raise
            message = exc.message if isinstance(exc, CCRMError) else f"{type(exc).__name__}: {exc}"
            return {"service": self.name, "status": "down", "error": message}
        work_state = {"routing_errors_open": errors, "pending_signature_bindings": pending,
                      "routing_table": {"categories": len(self.routing_table.routes),
                                        "sha256": self.routing_table.sha256}}
        if head is None:
            return {"service": self.name, "status": "degraded", "outbox_backlog": backlog,
                    "directory": None, **work_state,
                    "error": "组织架构尚未加载 (no directory loaded: "
                             "python -m services.dispatch.load_directory)"}
        return {"service": self.name, "status": "ok", "outbox_backlog": backlog,
                "directory": {"version": head["version"],
                              "loaded_at": head["loaded_at"].isoformat(),
                              "label": head["label"], "counts": head["counts"],
                              "vacancies": list(head["vacancies"])},
                **work_state}

    # -- signature binding retries -------------------------------------------------------------------

    @timer(interval=BIND_RETRY_INTERVAL)
    def retry_signature_bindings(self):
        """Bind signatures whose bind after the commit failed (media down)."""
        now = system_now()
        with self.db.transaction() as conn:
            due = case_repository.claim_due_bindings(conn, now, now + BIND_LEASE, BIND_BATCH)
        for binding in due:
            self._attempt_bind(binding)

    # -- helpers ----------------------------------------------------------------------------------

    def _timeout(self):
        return float(self.config.get("RPC_TIMEOUT", 15))

    def _media(self):
        return Media(self.media, self._timeout())

    @staticmethod
    def _checked_id(value):
        if not isinstance(value, str) or not 0 < len(value) <= 100:
            raise NotFound(f"不存在 (no such record {value!r})")
        return value

    def _consume(self, payload, handler, decide, *, reader=None, facts_required=True,
                 with_directory=False):
        """Apply an intake event once (inbox) in one transaction with its effect."""
        envelope = load_envelope(payload)
        data = envelope["data"]
        complaint_id = envelope.get("complaint_id") or data.get("complaint_id")
        facts = ws.facts_of(data, envelope["occurred_at"], complaint_id, required=facts_required)
        loaded = ws.load(reader(), data) if reader else {}
        loaded["facts"] = facts
        directory = self._directory() if with_directory else None
        now = self.clock.now()
        with self.db.transaction() as conn:
            if not first_delivery(conn, "dispatch", f"dispatch.{handler}",
                                  str(envelope["event_id"]), envelope["type"]):
                return
            before = case_repository.lock_new_case(conn, complaint_id)
            if before is None and facts is None:
                raise LookupError(f"{envelope['type']} for complaint {complaint_id} "
                                  "that dispatch has never seen")
            case = merge_facts(before, facts, now) if facts else before
            outcome = decide(conn, before, case, loaded, directory, now)
            self._store(conn, outcome, now)

    def _closure_event(self, payload, handler, reader, apply, application_required=True):
        def decide(conn, before, case, data, directory, now):
            application = None
            if data.get("application_id"):
                application = case_repository.get_record(conn, ClosureApplication,
                                                          data["application_id"], for_update=True)
            if application is None and (application_required or data.get("application_id")):
                raise LookupError(f"closure application {data.get('application_id')} of "
                                  f"{case.id} is unknown to dispatch")
            if application is not None and application.complaint_id != case.id:
                raise LookupError(f"application {application.id} is not {case.id}'s")
            return apply(case, application, data, now)
        self._consume(payload, handler, decide, reader=reader, facts_required=False)

    def _step(self, actor, complaint_id, decide, media_ids=(), signature_field=None,
              request_key=None):
        """Lock the complaint, decide, store: two steps on one complaint queue on
        the row lock, and the second sees the first's result. Media are looked
        up before, so no lock is held while another service answers.

        With a `request_key`, a step that already ran for that key answers with
        the record it made (a retried or redelivered call makes no second one)."""
        replayed = self._replayed(actor, request_key)
        if replayed is not None:
            return replayed
        complaint_id = self._checked_id(complaint_id)
        directory = self._directory()
        staff = staff_of(directory, actor)
        media = self._media().describe([m for m in media_ids if m])
        now = self.clock.now()
        try:
            with self.db.transaction() as conn:
                case = case_repository.lock_case(conn, complaint_id)
                if case is None:
                    raise NotFound(f"投诉 {complaint_id} 尚未派到责任部门 "
                                   f"(no routed complaint {complaint_id})")
                outcome = decide(conn, case, staff, media, now)
                self._store(conn, outcome, now)
                if request_key is not None:
                    case_repository.insert_request(conn, actor["person_id"], request_key,
                                                   outcome.result)
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == "requests_pkey":
                # The same request ran twice at once: the other run made the record.
                return self._replayed(actor, request_key)
            # Two records raced for one signature: the loser stores nothing.
            if signature_field is None:
                raise
            raise InvalidInput({signature_field: [SIGNATURE_USED]}) from None
        for binding in outcome.bindings:
            self._attempt_bind(binding)
        return outcome

    def _replayed(self, actor, request_key):
        if request_key is None:
            return None
        with self.db.connection() as conn:
            record = case_repository.record_of_request(conn, actor["person_id"], request_key)
        return None if record is None else Replayed(record)

    def _record_step(self, actor, cls, record_id, decide, media_ids=()):
        """A step on a claim or meeting: lock its complaint, then it."""
        record_id = self._checked_id(record_id)
        with self.db.connection() as conn:
            complaint_id = case_repository.complaint_of(conn, cls, record_id)
        if complaint_id is None:
            label = "索赔" if cls is Claim else "会议"
            raise NotFound(f"{label}不存在 (no {cls.__name__.lower()} {record_id})")

        def locked(conn, case, staff, media, now):
            record = case_repository.get_record(conn, cls, record_id, for_update=True)
            return decide(case, record, staff, media, now)
        return self._step(actor, complaint_id, locked, media_ids)

    def _store(self, conn, outcome, now):
        case = outcome.case
        case_repository.save_case(conn, case)
        for record in outcome.records:
            case_repository.save_record(conn, record)
        if outcome.resolve_routing_errors:
            case_repository.resolve_routing_errors(conn, case.id, now,
                                                   case.routing.id if case.routing else None)
        case_repository.add_history(conn, case.id, outcome.history)
        for binding in outcome.bindings:
            # Retries are scheduled on real time: a simulation clock set ahead
            # or back must not stall them.
            case_repository.insert_binding(conn, replace(binding, next_attempt_at=system_now()))
        for event_type, data in outcome.events:
            self.outbox.add(conn, event_type, ws.localise(data, self.clock.zone),
                            occurred_at=now, complaint_id=case.id)

    def _out(self, outcome):
        record = outcome.result
        bindings = {}
        if getattr(record, "signature_media_id", None):
            with self.db.connection() as conn:
                bindings = case_repository.bindings_of(conn, record.complaint_id)
        schema, view = ws.record_out(record, bindings)
        return ws.dump(schema, view, self.clock.zone)

    def _attempt_bind(self, binding):
        try:
            self._media().bind_signature(binding)
        except (Conflict, NotFound, InvalidInput) as refused:
            log.warning("media refused binding %s to %s %s: %s", binding.media_id,
                        binding.record_type, binding.record_id, refused.message)
            self._finish_bind(binding, "refused", refused.message)
        except Exception as exc:  # noqa: BLE001 - media down or slow: retry later
            log.warning("binding %s to %s failed (%s); will retry", binding.media_id,
                        binding.record_id, exc)
            self._bind_failed(binding, exc)
        else:
            self._finish_bind(binding, "bound")

    def _finish_bind(self, binding, state, error=None):
        with self.db.transaction() as conn:
            current = case_repository.get_binding(conn, binding.media_id, for_update=True)
            if current is None or current.state != "pending":
                return
            case_repository.save_binding(conn, replace(
                current, state=state, last_error=error, attempts=current.attempts + 1,
                bound_at=self.clock.now() if state == "bound" else None))

    def _bind_failed(self, binding, exc):
        error = exc.message if isinstance(exc, CCRMError) else f"{type(exc).__name__}: {exc}"
        with self.db.transaction() as conn:
            current = case_repository.get_binding(conn, binding.media_id, for_update=True)
            if current is None or current.state != "pending":
                return
            attempts = current.attempts + 1
            case_repository.save_binding(conn, replace(
                current, attempts=attempts, last_error=error[:500],
                next_attempt_at=system_now() + min(timedelta(seconds=5 * 2 ** attempts),
                                                   timedelta(minutes=10))))
