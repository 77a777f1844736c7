"""Intake's service layer: load -> decide (the pure modules) -> store
(repository, one transaction with the timeline and the outbox) -> dump.

`Steps` is made per worker from the service's dependencies (service.py):
each step locks the complaint's row, so two steps on one complaint queue on
the lock and the second sees the first's result; each of dispatch's events
is applied once (shared.inbox) in the transaction of its effect, on the same
row lock.

Signatures (SPEC §6): the bind to media happens after the commit. The
step's transaction writes a `pending` binding beside the complaint, so a
crash or a media outage right after the commit leaves the bind still to do,
never undone: the worker tries once at once (shared.signature_binding), and
a timer retries pending binds until media answers. A bind for a record that
was rolled back is never attempted, since the binding row rolled back with it.
"""
from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import psycopg

from services.intake import (
    act_repository,
    acts,
    links,
    order,
    page,
    pipelined,
    repository,
    storing,
    views,
)
from services.intake.access import Actor, require_desk_specialist, require_may_see
from services.intake.binding import Attempt, IntakeBindings
from services.intake.model import (
    Binding,
    Closure,
    Complaint,
    Link,
    Outcome,
    UnexpectedEvent,
    record_hash,
    token_hash,
)
from services.intake.remote import Directory, Media
from services.intake.signature import check_signature_media
from shared import ids
from shared.contracts.dispatch import DispatchClient
from shared.contracts.intake import forms
from shared.contracts.intake.vocabulary import (
    SIGNED_AT_DESK,
    STATED_TIME_GRACE_MINUTES,
    STEP_RECORD_SIGNATURE,
)
from shared.contracts.media import MediaClient
from shared.errors import CCRMError, Coded, Conflict, InvalidInput, NotFound
from shared.events.envelope import load_envelope
from shared.inbox import consume
from shared.outbox import outbox_backlog
from shared.signature_binding import SignatureBinder

log = logging.getLogger(__name__)

Decide = Callable[[Any, Complaint, datetime], Outcome]
SIGNATURE_TAKEN = Coded("该签名已用于另一条记录 (signature already attached to another record)",
                        "signature_used")


class Steps:
    """What intake's entrypoints do, over its dependencies."""

    def __init__(self, db: Any, clock: Any, outbox: Any, config: Mapping[str, Any],
                 dispatch: Any, media: Any) -> None:
        self.db, self.clock, self.outbox, self.config = db, clock, outbox, config
        timeout = float(config.get("RPC_TIMEOUT", 15))
        self.directory = Directory(DispatchClient(dispatch, timeout), db)
        self.media_client = MediaClient(media, timeout)
        self.media = Media(self.media_client)

    @property
    def zone(self) -> Any:
        return self.clock.zone

    def hours(self, name: str, default: float) -> timedelta:
        settings = self.config.get("INTAKE") or {}
        return timedelta(hours=float(settings.get(name, default)))

    def person_for_role(self, role: str) -> str | None:
        return self.directory.person_for_role(role)

    def stated_time_grace(self) -> timedelta:
        """How far a stated time may precede its receipt (SLA.stated_time_grace_minutes:
        one setting for intake, dispatch and sla)."""
        settings = self.config.get("SLA") or {}
        return timedelta(minutes=float(settings.get("stated_time_grace_minutes",
                                                    STATED_TIME_GRACE_MINUTES)))

    # -- recording (Art. 13-15) -------------------------------------------------------------

    def record(self, actor: Actor, form: Any, request_key: str | None) -> dict[str, Any]:
        already = self._recorded_by_request(actor, request_key)
        if already is not None:
            return self.view(already)
        now = self.clock.now()
        data = forms.load(forms.RecordForm(now=now), form)
        # the project and the signature are checked together: one 400 names both
        errors: dict[str, Any] = {}
        project = self.directory.project(data["project_id"])
        if project is None:
            errors["project_id"] = [Coded(
                f"项目 {data['project_id']} 不存在 (unknown project)", "unknown_project")]
        else:
            require_desk_specialist(actor, data["project_id"], "登记投诉")
        signature = None
        if data["channel"] in SIGNED_AT_DESK:
            signature = self.media.get(data["customer_signature_media_id"])
            try:
                if signature is None:
                    raise InvalidInput({"customer_signature_media_id": [Coded(
                        "签名文件不存在 (no such media)", "no_media")]})
                check_signature_media(signature, "customer_signature_media_id")
            except InvalidInput as exc:
                errors.update(exc.fields)
        if errors:
            raise InvalidInput(errors)
        assert project is not None
        region = ids.checked_region(self.config.get("REGION_CODE", "GZ"))
        year = now.astimezone(self.zone).year
        try:
            with self.db.connection() as conn:
                # The number is taken in its own short transaction: concurrent
                # recordings no longer queue on the counter row for the length of
                # a recording; a recording that then fails leaves a gap.
                number = repository.next_number(conn, region, year)
                complaint_id = ids.complaint_id(region, year, number)
                outcome = order.record(
                    complaint_id, region, data, actor, project, now, signature_media=signature,
                    link_token=None if signature else secrets.token_urlsafe(32),
                    link_ttl=self.hours("signing_link_hours", 24), zone=self.zone)
                # One pipeline: BEGIN, every INSERT and COMMIT go out together.
                with pipelined.transaction(conn):
                    self._store(conn, outcome, now, True)
                    if request_key is not None:
                        repository.insert_record_request(conn, actor.person_id, request_key,
                                                         complaint_id)
        except psycopg.errors.UniqueViolation as exc:
            # The same request ran twice at once (a retry while the first run
            # was slow: the fault test's latency): the other run recorded it,
            # whichever of its rows (the key, the signature) this one met first.
            already = self._recorded_by_request(actor, request_key)
            if already is not None:
                return self.view(already)
            if exc.diag.constraint_name == "record_requests_pkey":
                raise
            # Two recordings raced for one signature: the loser stores nothing.
            raise InvalidInput({"customer_signature_media_id": [SIGNATURE_TAKEN]}) from None
        # The new record is shown from memory: nothing else can have changed it yet.
        complaint, timeline, binding = outcome.complaint, list(outcome.entries), None
        if outcome.binding is not None:
            bound = self.attempt_bind(outcome.binding)
            if bound is None:
                return self.view(complaint_id)
            complaint, binding, entry = bound
            if entry is not None:
                timeline.append(entry)
        return views.dump_complaint(complaint, timeline, None, binding, self.zone, acts=views.Acts(
            grace=self.stated_time_grace(), signing_links=[m.link for m in outcome.new_links]))

    def _recorded_by_request(self, actor: Actor, request_key: str | None) -> str | None:
        if request_key is None:
            return None
        with self.db.connection() as conn:
            return repository.recorded_by_request(conn, actor.person_id, request_key)

    # -- a step on one complaint ---------------------------------------------------------------

    def checked_id(self, complaint_id: Any) -> str:
        if not ids.is_complaint_id(complaint_id):
            raise NotFound(f"投诉不存在 (no complaint {complaint_id!r})")
        return str(complaint_id)

    def load(self, complaint_id: Any) -> Complaint:
        with self.db.connection() as conn:
            complaint = repository.get_complaint(conn, self.checked_id(complaint_id))
        if complaint is None:
            raise NotFound(f"投诉不存在 (no complaint {complaint_id})")
        return complaint

    def step(self, complaint_id: Any, decide: Decide) -> Outcome:
        """Lock the complaint, decide, store: two steps on one complaint queue
        on the row lock, and the second sees the first's result."""
        return self._step(complaint_id, decide, show=False)[0]

    def step_view(self, complaint_id: Any, decide: Decide) -> dict[str, Any]:
        """A step and the complaint's page as the step left it: the page's one
        statement goes out with the step's writes and its COMMIT."""
        shown = self._step(complaint_id, decide, show=True)[1]
        assert shown is not None
        return self.dump(shown)

    def _step(self, complaint_id: Any, decide: Decide,
              show: bool) -> tuple[Outcome, page.Page | None]:
        # Round trips: BEGIN with the lock and the holders' read; the decision's
        # own reads; the writes, the page and COMMIT (pipelined.transaction).
        complaint_id = self.checked_id(complaint_id)
        now = self.clock.now()
        with self.db.connection() as conn, pipelined.transaction(conn):
            complaint = repository.get_complaint(conn, complaint_id, for_update=True)
            if complaint is None:
                raise NotFound(f"投诉不存在 (no complaint {complaint_id})")
            acts.require_not_voided(complaint)
            outcome = decide(conn, complaint, now)
            self._store(conn, outcome, now, False)
            cursor = page.send(conn, complaint_id) if show else None
        return outcome, page.load(cursor) if cursor is not None else None

    def current_closure(self, conn: Any, complaint: Complaint) -> Closure | None:
        """The application under way, locked (the complaint's row is locked first)."""
        if complaint.closure_application_id is None:
            return None
        current = repository.get_closure(conn, complaint.closure_application_id, for_update=True)
        if current is None:
            raise LookupError(f"closure application {complaint.closure_application_id} of "
                              f"{complaint.id} is missing")
        return current

    def closure_step_view(self, complaint_id: Any,
                          decide: Callable[[Complaint, Closure, datetime], Outcome]
                          ) -> dict[str, Any]:
        def with_closure(conn: Any, c: Complaint, now: datetime) -> Outcome:
            # No application under way: the loop's state check refuses the step.
            return decide(c, self.current_closure(conn, c), now)  # type: ignore[arg-type]
        return self.step_view(complaint_id, with_closure)

    def consume(self, payload: Any, handler: str, reader: type[Any],
                decide: Callable[[Any, Complaint, Any, datetime], Outcome | None]) -> None:
        """Apply one of dispatch's events once (inbox), in one transaction with
        its effect, on the complaint's row lock. An event the complaint cannot
        explain raises: retried, then dead-lettered for an operator."""
        envelope = load_envelope(payload)
        data = reader().load(envelope["data"])
        complaint_id = envelope.get("complaint_id") or envelope["data"].get("complaint_id")
        now = self.clock.now()

        def apply(conn: Any) -> None:
            if not ids.is_complaint_id(complaint_id):
                raise UnexpectedEvent(f"{envelope['type']} for complaint "
                                      f"{complaint_id!r} that intake does not know")
            # One pipeline: the lock and the holders in one round trip, the
            # writes in one more (the inbox's transaction commits them).
            with conn.pipeline():
                complaint = repository.get_complaint(conn, complaint_id, for_update=True)
                if complaint is None:
                    raise UnexpectedEvent(f"{envelope['type']} for complaint "
                                          f"{complaint_id!r} that intake does not know")
                outcome = decide(conn, complaint, data, now)
                if outcome is None:
                    log.info("%s %s changes nothing on %s (older round or repeat)",
                             envelope["type"], envelope["event_id"], complaint_id)
                    return
                self._store(conn, outcome, now, False)
        consume(self.db, "intake", handler, envelope, apply)

    def _store(self, conn: Any, outcome: Outcome, now: datetime, insert: bool) -> None:
        storing.store(conn, self.outbox, outcome, now, insert)

    # -- reading -------------------------------------------------------------------------------

    def view(self, complaint_id: Any, actor: Actor | None = None) -> dict[str, Any]:
        """The complaint's page: one statement (services.intake.page)."""
        complaint_id = self.checked_id(complaint_id)
        with self.db.connection() as conn:
            shown = page.read(conn, complaint_id)
        if shown is None:
            raise NotFound(f"投诉不存在 (no complaint {complaint_id})")
        if actor is not None:
            require_may_see(actor, shown.complaint)
        return self.dump(shown)

    def dump(self, shown: page.Page) -> dict[str, Any]:
        return views.dump_complaint(
            shown.complaint, shown.timeline, shown.rating, shown.binding, self.zone,
            closures=shown.closures, callbacks=shown.callbacks,
            acts=views.Acts(shown.accepted, self.stated_time_grace(), shown.signing_links))

    def verify_record_signature(self, actor: Actor, complaint_id: Any) -> dict[str, Any]:
        complaint = self.load(complaint_id)
        require_may_see(actor, complaint)
        if complaint.signature_media_id is None:
            raise Conflict(f"投诉 {complaint.id} 尚未签名 (the record is not signed yet)")
        current = record_hash(complaint)
        result = self.media.verify_signature(complaint.signature_media_id, current)
        return {"complaint_id": complaint.id, "media_id": complaint.signature_media_id,
                "intact": bool(result["intact"]), "record_sha256": current,
                "bound_record_sha256": result.get("bound_record_sha256")}

    def health(self, name: str) -> dict[str, Any]:
        try:
            with self.db.connection() as conn:
                repository.ping(conn)
                pending = repository.pending_bindings(conn)
            backlog = outbox_backlog(self.db, "intake")
        except Exception as exc:  # noqa: BLE001 - health reports, it does not raise
            message = exc.message if isinstance(exc, CCRMError) else f"{type(exc).__name__}: {exc}"
            return {"service": name, "status": "down", "error": message}
        return {"service": name, "status": "ok", "outbox_backlog": backlog,
                "pending_signature_bindings": pending}

    # -- acts of fairness (issue 13): void, a new signing link, a stated time accepted ----------

    def void(self, actor: Actor, complaint_id: Any, reason: Any) -> dict[str, Any]:
        form = forms.load(forms.ReasonForm(), {"reason": reason})
        return self.step_view(complaint_id, lambda conn, c, now: acts.void(
            c, actor, form["reason"], now, zone=self.zone))

    def resend_signing_link(self, actor: Actor, complaint_id: Any) -> dict[str, Any]:
        return self.step_view(complaint_id, lambda conn, c, now: acts.resend_signing_link(
            c, actor, now, token=secrets.token_urlsafe(32),
            ttl=self.hours("signing_link_hours", 24), zone=self.zone))

    def accept_callback_time(self, actor: Actor, complaint_id: Any, callback_id: Any,
                             reason: Any) -> dict[str, Any]:
        form = forms.load(forms.ReasonForm(), {"reason": reason})
        if not isinstance(callback_id, str) or ids.parse_record_id(callback_id) is None:
            raise NotFound(f"没有此回访记录 (no callback {callback_id!r})")

        def decide(conn: Any, c: Complaint, now: datetime) -> Outcome:
            return acts.accept_callback_time(
                c, act_repository.get_callback(conn, callback_id),
                act_repository.get_time_acceptance(conn, callback_id), actor, form["reason"],
                now, self.stated_time_grace(), zone=self.zone)
        try:
            outcome = self.step(complaint_id, decide)
        except psycopg.errors.UniqueViolation:
            raise Conflict("陈述时间已被认可 (the stated time was already accepted)") from None
        acceptance = outcome.time_acceptance
        assert acceptance is not None
        return views.dump_acceptance(acceptance, self.zone)

    # -- the customer's links (SPEC §8) --------------------------------------------------------

    def link_and_complaint(self, token: Any) -> tuple[Link, Complaint]:
        if not isinstance(token, str) or not 20 <= len(token) <= 100:
            raise NotFound("链接不存在 (unknown link)")
        with self.db.connection() as conn:
            link = repository.get_link(conn, token_hash(token))
            complaint = repository.get_complaint(conn, link.complaint_id) if link else None
        if link is None or complaint is None:
            raise NotFound("链接不存在 (unknown link)")
        return link, complaint

    def open_link(self, token: Any) -> dict[str, Any]:
        link, complaint = self.link_and_complaint(token)
        links.check_link(link, self.clock.now())
        acts.require_not_voided(complaint)
        project = self.directory.project(complaint.project_id) or {}
        view = links.customer_view(complaint, link, project.get("name") or complaint.project_id)
        return views.dump_link(view, self.zone)

    def sign_by_link(self, token: Any, signature_media_id: Any) -> dict[str, Any]:
        form = forms.load(forms.LinkSignForm(), {"signature_media_id": signature_media_id})
        link, _ = self.link_and_complaint(token)
        links.check_link(link, self.clock.now(), STEP_RECORD_SIGNATURE)
        media = self.media.get(form["signature_media_id"])
        if media is None:
            raise InvalidInput({"signature_media_id": ["签名文件不存在 (no such media)"]})
        try:
            outcome = self.step(link.complaint_id, lambda conn, c, now: links.sign_by_link(
                c, repository.get_link(conn, link.token_sha256, for_update=True), media, now,
                rating_token=secrets.token_urlsafe(32),
                link_ttl=self.hours("rating_link_hours", 72), zone=self.zone))
        except psycopg.errors.UniqueViolation:
            raise InvalidInput({"signature_media_id": [SIGNATURE_TAKEN]}) from None
        bound = self.attempt_bind(outcome.binding) if outcome.binding else None
        complaint = bound[0] if bound else self.load(link.complaint_id)
        return {"complaint_id": link.complaint_id, "signature_status": complaint.signature_status,
                "rating_link_path": outcome.new_links[0].path}

    # -- signature binding (shared.signature_binding) ---------------------------------------

    def binder(self) -> SignatureBinder:
        return SignatureBinder(self.media_client, IntakeBindings(self.db, self.clock))

    def attempt_bind(self, binding: Binding) -> Attempt | None:
        """Bind a signature in media right after the commit: (complaint,
        binding, timeline entry) as stored after the attempt, or None if
        another attempt had already finished it."""
        result: Attempt | None = self.binder().attempt(binding)
        return result
