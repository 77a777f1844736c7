"""The service layer of the department's work: load -> decide -> store ->
emit -> dump, for the steps callers ask for (Art. 22-34) and the events intake
sends (SPEC §2, Art. 29). The decisions are the pure domain modules' (work,
claims, meetings, assignment); this module holds the transaction around them.

A decision gets one `StepContext`: the locked case, who acts, the media the
step names, the time, and for an event the directory and the event's data.

Signatures (SPEC §6) are bound to the visit or application they confirm after
the commit: the step's transaction writes a `pending` binding beside the
record, the worker tries once at once (shared.signature_binding), and a
timer retries until media answers.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import psycopg

from services.dispatch import acts, case_repository, repository, views
from services.dispatch.bindings import binder
from services.dispatch.case import Case, Outcome, merge_facts
from services.dispatch.checks import Staff, staff_of
from services.dispatch.directory import Directory
from services.dispatch.incoming import facts_of
from services.dispatch.media import describe
from services.dispatch.work import ClosureApplication, Visit
from shared import inbox
from shared.contracts.media import MediaClient
from shared.contracts.types import Actor, Json
from shared.errors import InvalidInput, NotFound
from shared.events.envelope import load_envelope
from shared.signature_binding import lease_until
from shared.validation import load_input

SIGNATURE_USED = "该签名已用于另一条记录 (signature already attached to another record)"


@dataclass(frozen=True)
class StepContext:
    """What a decision reads: the case locked in `conn`'s transaction."""
    conn: Any
    case: Case
    now: datetime
    staff: Staff | None = None
    media: dict[str, Any] = field(default_factory=dict)
    directory: Directory | None = None
    data: dict[str, Any] = field(default_factory=dict)  # an event's data, as read
    before: Case | None = None  # the case before an event's facts were merged
    numbered: dict[str, str] = field(default_factory=dict)  # next ids read with the case

    def next_id(self, table: str) -> str:
        """The id of the next record of `table` on this complaint."""
        if table in self.numbered:
            return self.numbered[table]
        return case_repository.next_id(self.conn, self.case, table)


Decide = Callable[[StepContext], Outcome]


@dataclass(frozen=True)
class Replayed:
    """A step's answer for a request key that already ran: the record it made."""
    result: object
    bindings: tuple = ()


@contextmanager
def pipelined(db: Any) -> Iterator[Any]:
    """A transaction whose statements go out in a pipeline (issue 17: each
    round trip costs dispatch CPU): the reads sent before a fetch leave
    together, the writes all at once before the COMMIT. An error surfaces at
    the next fetch or there, and rolls the whole transaction back. (The
    pipeline inside the transaction: BEGIN, the reads, the writes, COMMIT are
    four round trips; the other way round adds a fifth, a sync of its own.)"""
    with db.transaction() as conn, conn.pipeline():
        yield conn


class Pipelined:
    """`db` as shared.inbox.consume takes it, its transaction pipelined."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def transaction(self) -> Any:
        return pipelined(self.db)


def checked_id(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 100:
        raise NotFound(f"不存在 (no such record {value!r})")
    return value


class Casework:
    """One worker's view of dispatch: its database, clock, outbox, routing
    table and media client (the nameko dependencies, or fakes in tests)."""

    def __init__(self, db: Any, clock: Any, outbox: Any, routing_table: Any,
                 media: MediaClient, grace: timedelta = timedelta(minutes=acts.GRACE_MINUTES)
                 ) -> None:
        self.db = db
        self.clock = clock
        self.outbox = outbox
        self.routing_table = routing_table
        self.media = media
        self.grace = grace     # how far a stated time may precede its receipt (acts)
        self.attempted: dict[str, Any] = {}  # media id -> binding as this call's attempt left it

    def directory(self) -> Directory:
        return repository.read_directory(self.db)

    # -- the caller's steps ---------------------------------------------------------------

    def step(self, actor: Actor, complaint_id: object, decide: Decide,
             media_ids: Iterable[str | None] = (), signature_field: str | None = None,
             request_key: str | None = None, numbered: str | None = None
             ) -> Outcome | Replayed:
        """Lock the complaint, decide, store: two steps on one complaint queue on
        the row lock, and the second sees the first's result. Media are looked
        up before, so no lock is held while another service answers.

        With a `request_key`, a step that already ran for that key answers with
        the record it made (a retried or redelivered call makes no second one).
        `numbered`: the table whose next id `decide` takes, read with the case."""
        replayed = self.replayed(actor, request_key)
        if replayed is not None:
            return replayed
        complaint_id = checked_id(complaint_id)
        staff = staff_of(self.directory(), actor)
        media = describe(self.media, media_ids)
        now = self.clock.now()
        try:
            with pipelined(self.db) as conn:
                # One round trip: BEGIN, the lock (queued behind another step
                # on this complaint), its routing, the request key, the next id.
                reading = case_repository.read_case(conn, complaint_id, for_update=True)
                # The same request may have held this lock while we waited (its
                # first run, slow or cut off, committed after our check above):
                # read after the lock, so its commit is seen.
                earlier = (case_repository.read_request(conn, actor["person_id"], request_key)
                           if request_key is not None else None)
                next_ids = ({numbered: case_repository.read_next_id(conn, complaint_id, numbered)}
                            if numbered else {})
                case = reading()
                if case is None:
                    raise NotFound(f"投诉 {complaint_id} 尚未派到责任部门 "
                                   f"(no routed complaint {complaint_id})")
                if earlier is not None and (record := earlier()) is not None:
                    return Replayed(record)
                outcome = decide(StepContext(conn, case, now, staff, media, numbered={
                    table: fetch() for table, fetch in next_ids.items()}))
                self.store(conn, outcome, now)
                if request_key is not None:
                    case_repository.insert_request(conn, actor["person_id"], request_key,
                                                   outcome.result, now)
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == "requests_pkey":
                # The same request ran twice at once: the other run made the record.
                return self.replayed(actor, request_key)  # type: ignore[return-value]
            # Two records raced for one signature: the loser stores nothing.
            if signature_field is None:
                raise
            raise InvalidInput({signature_field: [SIGNATURE_USED]}) from None
        signatures = binder(self.media, self.db, self.clock)
        for binding in outcome.bindings:
            if (attempted := signatures.attempt(binding)) is not None:
                self.attempted[binding.media_id] = attempted
        return outcome

    def record_step(self, actor: Actor, cls: type, record_id: object,
                    decide: Callable[[StepContext, Any], Outcome],
                    media_ids: Iterable[str | None] = ()) -> Outcome | Replayed:
        """A step on a claim or meeting: lock its complaint, then it."""
        record_id = checked_id(record_id)
        with self.db.connection() as conn:
            complaint_id = case_repository.complaint_of(conn, cls, record_id)
        if complaint_id is None:
            label = "索赔" if cls.__name__ == "Claim" else "会议"
            raise NotFound(f"{label}不存在 (no {cls.__name__.lower()} {record_id})")

        def locked(context: StepContext) -> Outcome:
            record = case_repository.get_record(context.conn, cls, record_id, for_update=True)
            return decide(context, record)
        return self.step(actor, complaint_id, locked, media_ids)

    def accept_visit_time(self, actor: Actor, complaint_id: object, visit_id: object,
                          reason: str) -> Outcome | Replayed:
        """The deputy GM accepts a visit's stated time beyond the grace (acts)."""
        visit_id = checked_id(visit_id)
        return self.step(actor, complaint_id, lambda s: acts.accept_visit_time(
            s.case, case_repository.get_record(s.conn, Visit, visit_id),
            case_repository.time_acceptance(s.conn, visit_id), s.staff, reason, s.now,
            self.grace))

    def replayed(self, actor: Actor, request_key: str | None) -> Replayed | None:
        if request_key is None:
            return None
        with self.db.connection() as conn:
            record = case_repository.record_of_request(conn, actor["person_id"], request_key)
        return None if record is None else Replayed(record)

    def out(self, outcome: Outcome | Replayed) -> Json:
        """The record a step made, as the contract's view of it."""
        record = outcome.result
        bindings: dict[str, Any] = {}
        signature = getattr(record, "signature_media_id", None)
        if isinstance(outcome, Outcome) and signature in self.attempted:
            # This call's own attempt: its outcome is the binding's state.
            bindings = {signature: vars(self.attempted[signature])}
        elif signature:
            with self.db.connection() as conn:
                bindings = case_repository.bindings_of(conn, record.complaint_id)  # type: ignore[attr-defined]
        schema, view = views.record_out(record, bindings, self.grace)
        return views.dump(schema, view, self.clock.zone)

    # -- intake's events --------------------------------------------------------------------

    def consume(self, payload: Any, handler: str, decide: Decide, *,
                reader: type | None = None, facts_required: bool = True,
                with_directory: bool = False, numbered: str | None = None) -> None:
        """Apply an intake event once (inbox `dispatch.<handler>`) in one
        transaction with its effect (`numbered`: as for `step`)."""
        envelope = load_envelope(payload)
        data = envelope["data"]
        complaint_id = envelope.get("complaint_id") or data.get("complaint_id")
        facts = facts_of(data, envelope["occurred_at"], complaint_id, required=facts_required)
        loaded = load_input(reader(), data) if reader else {}
        loaded["facts"] = facts
        directory = self.directory() if with_directory else None
        now = self.clock.now()

        def apply(conn: Any) -> None:
            # One round trip: the locks, the case and the next id (pipelined).
            reading = case_repository.read_new_case(conn, complaint_id)
            next_ids = ({numbered: case_repository.read_next_id(conn, complaint_id, numbered)}
                        if numbered else {})
            before = reading()
            if facts is not None:
                case = merge_facts(before, facts, now)
            elif before is not None:
                case = before
            else:
                raise LookupError(f"{envelope['type']} for complaint {complaint_id} "
                                  "that dispatch has never seen")
            outcome = decide(StepContext(conn, case, now, directory=directory, data=loaded,
                                         before=before, numbered={
                                             table: fetch() for table, fetch in next_ids.items()}))
            self.store(conn, outcome, now)
        inbox.consume(Pipelined(self.db), "dispatch", handler, envelope, apply)

    def closure_event(self, payload: Any, handler: str, reader: type,
                      apply: Callable[[Case, Any, dict[str, Any], datetime], Outcome],
                      application_required: bool = True) -> None:
        """An event of the centre's closure loop about one closure application."""
        def decide(context: StepContext) -> Outcome:
            data, case = context.data, context.case
            application = None
            if data.get("application_id"):
                application = case_repository.get_record(context.conn, ClosureApplication,
                                                          data["application_id"], for_update=True)
            if application is None and (application_required or data.get("application_id")):
                raise LookupError(f"closure application {data.get('application_id')} of "
                                  f"{case.id} is unknown to dispatch")
            if application is not None and application.complaint_id != case.id:
                raise LookupError(f"application {application.id} is not {case.id}'s")
            return apply(case, application, data, context.now)
        self.consume(payload, handler, decide, reader=reader, facts_required=False)

    # -- storing --------------------------------------------------------------------------------

    def store(self, conn: Any, outcome: Outcome, now: datetime) -> None:
        """A step's changes, history, bindings and events, in the caller's transaction."""
        case = outcome.case
        case_repository.save_case(conn, case)
        for record in outcome.records:
            case_repository.save_record(conn, record)
        if outcome.resolve_routing_errors:
            case_repository.resolve_routing_errors(conn, case.id, now,
                                                   case.routing.id if case.routing else None)
        case_repository.add_history(conn, case.id, outcome.history)
        for binding in outcome.bindings:
            # The worker attempts the bind right after the commit; the timer
            # takes it over only once the lease runs out (the worker died).
            # Retries run on real time: a simulation clock must not stall them.
            case_repository.insert_binding(conn, replace(binding, next_attempt_at=lease_until()))
        for event_type, data in outcome.events:
            self.outbox.add(conn, event_type, views.localise(data, self.clock.zone),
                            occurred_at=now, complaint_id=case.id)
