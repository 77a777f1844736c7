"""The intake service: complaints and their supervision orders, the centre's
side (SPEC §2, §4, §8). Entrypoints only: load -> decide (domain) -> store
(repository, one transaction with the timeline and the outbox) -> dump.

After the GM's signature the departments work (dispatch); intake keeps a copy
of who answers for the complaint (`complaint.routed`), owes the customer a
callback after a blocked visit (`visit.blocked`, Art. 23), and runs the
closure loop once the department applies (`closure.applied`, Art. 28, 29):
each of dispatch's events is applied once (inbox) in the transaction of its
effect, on the complaint's row lock like any step (services/intake/closure.py).

Signatures (SPEC §6): the bind to media happens after the commit. The
recording's transaction writes a `pending` binding beside the complaint, so
a crash or a media outage right after the commit leaves the bind still to
do, never undone: the worker tries once at once, and a timer retries pending
binds until media answers. A bind for a record that was rolled back is never
attempted, since the binding row rolled back with it.
"""
import shared  # noqa: F401  (psycopg wait function first)

import logging
import secrets
from dataclasses import replace
from datetime import timedelta

import psycopg
from nameko.dependency_providers import Config
from shared.rpc import RpcProxy, rpc
from nameko.timer import timer

from services.intake import closure, domain, repository, schemas
from shared import ids
from services.intake.domain import Actor
from services.intake.remote import Directory, Media
from shared import roles
from shared.clock import ClockProvider, system_now
from shared.consumer import event_handler
from shared.db import DatabaseProvider
from shared.errors import CCRMError, Conflict, Forbidden, InvalidInput, NotFound
from shared.events.envelope import load_envelope
from shared.inbox import first_delivery
from shared.observability import Observability
from shared.outbox import OutboxRelay, outbox_backlog

log = logging.getLogger(__name__)

EXPECTED = (CCRMError,)
BIND_RETRY_INTERVAL = 5
BIND_BATCH = 50
BIND_LEASE = timedelta(seconds=60)


def _rpc(**kwargs):
    """Our errors are answers, not failures: nameko need not log them."""
    return rpc(expected_exceptions=EXPECTED, **kwargs)


class IntakeService:
    name = "intake"

    config = Config()
    observability = Observability("intake")
    db = DatabaseProvider("intake")
    clock = ClockProvider()
    outbox = OutboxRelay("intake")
    media = RpcProxy("media")
    dispatch = RpcProxy("dispatch")

    # -- recording (Art. 13-15) ---------------------------------------------------------

    @_rpc()
    def record_complaint(self, actor, form, request_key=None):
        actor = Actor.from_dict(actor)
        domain.require_role(actor, roles.SPECIALIST, "登记投诉")
        already = self._recorded_by_request(actor, request_key)
        if already is not None:
            return self._view(already)
        now = self.clock.now()
        data = schemas.load(schemas.RecordForm(now=now), form)
        project = self._directory().project(data["project_id"])
        if project is None:
            raise InvalidInput({"project_id": [f"项目 {data['project_id']} 不存在 (unknown project)"]})
        domain.require_desk_specialist(actor, data["project_id"], "登记投诉")
        signature = None
        if data["channel"] in domain.SIGNED_AT_DESK:
            signature = self._media().get(data["customer_signature_media_id"])
            if signature is None:
                raise InvalidInput({"customer_signature_media_id": [
                    "签名文件不存在 (no such media)"]})
            domain.check_signature_media(signature, "customer_signature_media_id")
        region = self._region()
        year = now.astimezone(self.clock.zone).year
        try:
            with self.db.transaction() as conn:
                complaint_id = ids.complaint_id(region, year,
                                                repository.next_number(conn, region, year))
                outcome = domain.record(
                    complaint_id, region, data, actor, project, now, signature_media=signature,
                    link_token=None if signature else secrets.token_urlsafe(32),
                    link_ttl=self._hours("signing_link_hours", 24), zone=self.clock.zone)
                self._store(conn, outcome, now, insert=True)
                if request_key is not None:
                    repository.insert_record_request(conn, actor.person_id, request_key,
                                                     complaint_id)
        except psycopg.errors.UniqueViolation as exc:
            if exc.diag.constraint_name == "record_requests_pkey":
                # The same request ran twice at once: the other run recorded it.
                return self._view(self._recorded_by_request(actor, request_key))
            # Two recordings raced for one signature: the loser stores nothing.
            raise InvalidInput({"customer_signature_media_id": [
                "该签名已用于另一条记录 (signature already attached to another record)"]}) from None
        # The new record is shown from memory: nothing else can have changed it yet.
        complaint, timeline, binding = outcome.complaint, list(outcome.entries), None
        if outcome.binding is not None:
            bound = self._attempt_bind(outcome.binding)
            if bound is None:
                return self._view(complaint_id)
            complaint, binding, entry = bound
            if entry is not None:
                timeline.append(entry)
        return schemas.dump_complaint(complaint, timeline, None, binding, self.clock.zone)

    # -- the order's approval chain (Art. 14, 18) -------------------------------------------

    @_rpc()
    def submit_order(self, actor, complaint_id):
        actor = Actor.from_dict(actor)
        domain.require_role(actor, roles.SPECIALIST, "提交督办单")
        deputy = self._directory().person_for_role(roles.CENTRE_DEPUTY_GM)
        self._step(complaint_id, lambda conn, c, now: domain.submit(
            c, actor, now, deputy, zone=self.clock.zone))
        return self._view(complaint_id)

    @_rpc()
    def review_order(self, actor, complaint_id, decision, reason=None):
        actor = Actor.from_dict(actor)
        domain.require_role(actor, roles.CENTRE_DEPUTY_GM, "审核督办单")
        form = schemas.load(schemas.DecisionForm(), {"decision": decision, "reason": reason})
        gm = self._directory().person_for_role(roles.CENTRE_GM) if decision == "approve" else None
        self._step(complaint_id, lambda conn, c, now: domain.review(
            c, actor, form["decision"], form["reason"], now, gm_id=gm, zone=self.clock.zone))
        return self._view(complaint_id)

    @_rpc()
    def sign_order(self, actor, complaint_id, decision, reason=None, department=None,
                   department_reason=None):
        actor = Actor.from_dict(actor)
        domain.require_role(actor, roles.CENTRE_GM, "签发督办单")
        form = schemas.load(schemas.SignForm(), {
            "decision": decision, "reason": reason, "department": department,
            "department_reason": department_reason})
        deputy = (self._directory().person_for_role(roles.CENTRE_DEPUTY_GM)
                  if decision == "reject" else None)
        self._step(complaint_id, lambda conn, c, now: domain.sign(
            c, actor, form["decision"], form["reason"], now, department=form["department"],
            department_reason=form["department_reason"], deputy_gm_id=deputy,
            zone=self.clock.zone))
        return self._view(complaint_id)

    # -- reopen and escalate ------------------------------------------------------------------

    @_rpc()
    def reopen(self, actor, complaint_id, reason):
        actor = Actor.from_dict(actor)
        domain.require_role(actor, roles.SPECIALIST, "重新打开投诉")
        form = schemas.load(schemas.ReopenForm(), {"reason": reason})
        self._step(complaint_id, lambda conn, c, now: domain.reopen(
            c, actor, form["reason"], now, zone=self.clock.zone))
        return self._view(complaint_id)

    @_rpc()
    def escalate(self, actor, complaint_id, level, reason):
        actor = Actor.from_dict(actor)
        domain.require_role(actor, roles.CENTRE_GM, "升级投诉")
        form = schemas.load(schemas.EscalateForm(), {"level": level, "reason": reason})
        self._step(complaint_id, lambda conn, c, now: domain.escalate(
            c, actor, form["level"], form["reason"], now, zone=self.clock.zone))
        return self._view(complaint_id)

    # -- after the order: the departments' news (dispatch's events) ---------------------------

    @event_handler("dispatch", "complaint.routed")
    def on_complaint_routed(self, payload):
        """Who answers for the complaint (Art. 20, 21), again after an escalation."""
        self._consume(payload, "complaint_routed", schemas.RoutedIn,
                      lambda conn, c, data, now: closure.on_routed(c, data, now))

    @event_handler("dispatch", "visit.blocked")
    def on_visit_blocked(self, payload):
        """The customer blocked the visit: the centre owes a callback (Art. 23)."""
        self._consume(payload, "visit_blocked", schemas.VisitBlockedIn,
                      lambda conn, c, data, now: closure.on_visit_blocked(c, data, now))

    @event_handler("dispatch", "closure.applied")
    def on_closure_applied(self, payload):
        """The department applied for closure: the specialist verifies next (Art. 28)."""
        self._consume(payload, "closure_applied", schemas.ClosureAppliedIn,
                      lambda conn, c, data, now: closure.on_closure_applied(
                          c, self._current_closure(conn, c), data, now))

    # -- the callback after a blocked visit (Art. 23) ---------------------------------------------

    @_rpc()
    def record_callback(self, actor, complaint_id, form):
        actor = Actor.from_dict(actor)
        closure.require_callback_roles(actor)
        data = schemas.load(schemas.CallbackForm(), form)
        self._step(complaint_id, lambda conn, c, now: closure.record_callback(
            c, actor, data, now, zone=self.clock.zone))
        return self._view(complaint_id)

    # -- the closure loop (Art. 29) ----------------------------------------------------------------

    @_rpc()
    def verify_closure(self, actor, complaint_id, satisfaction=None, comment=None,
                       decision="approve", reason=None):
        """The specialist's check, callback and satisfaction survey."""
        actor = Actor.from_dict(actor)
        domain.require_role(actor, roles.SPECIALIST, "核查结案")
        form = schemas.load(schemas.VerifyForm(), {
            "satisfaction": satisfaction, "comment": comment, "decision": decision or "approve",
            "reason": reason})
        deputy = (self._directory().person_for_role(roles.CENTRE_DEPUTY_GM)
                  if form["decision"] == "approve" else None)
        self._closure_step(complaint_id, lambda c, current, now: closure.verify(
            c, current, actor, form, now, deputy_gm_id=deputy, zone=self.clock.zone))
        return self._view(complaint_id)

    @_rpc()
    def review_closure(self, actor, complaint_id, decision, reason=None):
        actor = Actor.from_dict(actor)
        domain.require_role(actor, roles.CENTRE_DEPUTY_GM, "审核结案")
        form = schemas.load(schemas.DecisionForm(), {"decision": decision, "reason": reason})
        gm = (self._directory().person_for_role(roles.CENTRE_GM)
              if form["decision"] == "approve" else None)
        self._closure_step(complaint_id, lambda c, current, now: closure.review(
            c, current, actor, form["decision"], form["reason"], now, gm_id=gm,
            zone=self.clock.zone))
        return self._view(complaint_id)

    @_rpc()
    def approve_closure(self, actor, complaint_id, decision, reason=None):
        actor = Actor.from_dict(actor)
        domain.require_role(actor, roles.CENTRE_GM, "审批结案")
        form = schemas.load(schemas.DecisionForm(), {"decision": decision, "reason": reason})
        deputy = (self._directory().person_for_role(roles.CENTRE_DEPUTY_GM)
                  if form["decision"] == "reject" else None)
        self._closure_step(complaint_id, lambda c, current, now: closure.approve(
            c, current, actor, form["decision"], form["reason"], now, deputy_gm_id=deputy,
            zone=self.clock.zone))
        return self._view(complaint_id)

    # -- reception rating (Art. 16) ----------------------------------------------------------

    @_rpc()
    def rate_reception(self, actor, complaint_id, score, comment=None):
        """From the specialist's terminal, handed to the customer."""
        actor = Actor.from_dict(actor)
        domain.require_role(actor, roles.SPECIALIST, "登记接待评价")
        form = schemas.load(schemas.RatingForm(), {"score": score, "comment": comment})

        def decide(conn, c, now):
            existing = repository.get_rating(conn, c.id, c.order_round)
            return domain.rate(c, form["score"], form["comment"], now, existing=existing,
                               via="terminal", actor=actor, zone=self.clock.zone)
        self._step(complaint_id, decide)
        return self._view(complaint_id)

    # -- the customer's links (SPEC §8) ---------------------------------------------------------

    @_rpc(sensitive_arguments=("token",))
    def open_signing_link(self, token):
        """What the customer sees: the complaint's id, project, room, demand and the step."""
        link, complaint = self._link_and_complaint(token)
        domain.check_link(link, self.clock.now())
        project = self._directory().project(complaint.project_id) or {}
        view = domain.customer_view(complaint, link, project.get("name") or complaint.project_id)
        return schemas.dump_link(view, self.clock.zone)

    @_rpc(sensitive_arguments=("token",))
    def check_link(self, token, step=domain.STEP_RECORD_SIGNATURE):
        """For the gateway's customer upload: the link's complaint if the link
        is valid now and for `step`."""
        link, _ = self._link_and_complaint(token)
        domain.check_link(link, self.clock.now(), step)
        return {"complaint_id": link.complaint_id, "step": link.step}

    @_rpc(sensitive_arguments=("token",))
    def sign_by_link(self, token, signature_media_id):
        form = schemas.load(schemas.LinkSignForm(), {"signature_media_id": signature_media_id})
        link, _ = self._link_and_complaint(token)
        domain.check_link(link, self.clock.now(), domain.STEP_RECORD_SIGNATURE)
        media = self._media().get(form["signature_media_id"])
        if media is None:
            raise InvalidInput({"signature_media_id": ["签名文件不存在 (no such media)"]})
        try:
            outcome = self._step(link.complaint_id, lambda conn, c, now: domain.sign_by_link(
                c, repository.get_link(conn, link.token_sha256, for_update=True), media, now,
                rating_token=secrets.token_urlsafe(32),
                link_ttl=self._hours("rating_link_hours", 72), zone=self.clock.zone))
        except psycopg.errors.UniqueViolation:
            raise InvalidInput({"signature_media_id": [
                "该签名已用于另一条记录 (signature already attached to another record)"]}) from None
        bound = self._attempt_bind(outcome.binding)
        complaint = bound[0] if bound else self._load(link.complaint_id)
        return {"complaint_id": link.complaint_id, "signature_status": complaint.signature_status,
                "rating_link_path": outcome.new_links[0].path}

    @_rpc(sensitive_arguments=("token",))
    def rate_by_link(self, token, score, comment=None):
        form = schemas.load(schemas.RatingForm(), {"score": score, "comment": comment})
        link, _ = self._link_and_complaint(token)

        def decide(conn, c, now):
            locked = repository.get_link(conn, link.token_sha256, for_update=True)
            existing = repository.get_rating(conn, c.id, c.order_round)
            return domain.rate(c, form["score"], form["comment"], now, existing=existing,
                               via="link", link=locked, zone=self.clock.zone)
        self._step(link.complaint_id, decide)
        return {"complaint_id": link.complaint_id, "score": form["score"]}

    # -- reading ----------------------------------------------------------------------------------

    @_rpc()
    def get_complaint(self, actor, complaint_id):
        return self._view(complaint_id, actor=Actor.from_dict(actor))

    @_rpc()
    def check_access(self, actor, complaint_id):
        """Forbidden unless the actor may see the complaint: the gateway asks
        before it shows what other services keep of it (deadlines, files)."""
        actor = Actor.from_dict(actor)
        domain.require_may_see(actor, self._load(complaint_id))
        return {"complaint_id": complaint_id}

    @_rpc()
    def list_complaints(self, actor, filters=None):
        actor = Actor.from_dict(actor)
        query = schemas.load(schemas.ListFilters(), dict(filters or {}))
        if query["project_id"] is not None and not actor.may_see(query["project_id"]):
            raise Forbidden(f"无权查看项目 {query['project_id']} 的投诉 (not your project)")
        page, size = query["page"], query["page_size"]
        visible = None if actor.sees_all else {
            "projects": sorted(actor.project_ids), "person_id": actor.person_id,
            "unit_id": actor.unit_id}
        with self.db.transaction() as conn:
            items, total = repository.list_complaints(
                conn, state=query["state"], project_id=query["project_id"],
                category=query["category"],
                holder_id=actor.person_id if query["assigned_to_me"] else None,
                callbacks_for=roles.CENTRE_STAFF in actor.roles,
                callback_due=query["callback_due"], visible=visible,
                limit=size, offset=(page - 1) * size)
        return {"items": [schemas.dump_summary(c, self.clock.zone) for c in items],
                "total": total, "page": page, "page_size": size}

    @_rpc()
    def verify_record_signature(self, actor, complaint_id):
        """Whether the record is still what the customer signed (SPEC §6)."""
        actor = Actor.from_dict(actor)
        complaint = self._load(complaint_id)
        domain.require_may_see(actor, complaint)
        if complaint.signature_media_id is None:
            raise Conflict(f"投诉 {complaint.id} 尚未签名 (the record is not signed yet)")
        current = domain.record_hash(complaint)
        result = self._media().verify_signature(complaint.signature_media_id, current)
        return {"complaint_id": complaint.id, "media_id": complaint.signature_media_id,
                "intact": bool(result["intact"]), "record_sha256": current,
                "bound_record_sha256": result.get("bound_record_sha256")}

    @_rpc()
    def health(self):
        try:
            with self.db.connection() as conn:
                repository.ping(conn)
                pending = repository.pending_bindings(conn)
            backlog = outbox_backlog(self.db, "intake")
        except Exception as exc:  # noqa: BLE001 - health reports, it does not raise
            message = exc.message if isinstance(exc, CCRMError) else f"{type(exc).__name__}: {exc}"
            return {"service": self.name, "status": "down", "error": message}
        return {"service": self.name, "status": "ok", "outbox_backlog": backlog,
                "pending_signature_bindings": pending}

    # -- signature binding retries ------------------------------------------------------------------

    @timer(interval=BIND_RETRY_INTERVAL)
    def retry_signature_bindings(self):
        """Bind signatures whose bind after the commit failed (media down)."""
        now = system_now()
        with self.db.transaction() as conn:
            due = repository.claim_due_bindings(conn, now, now + BIND_LEASE, BIND_BATCH)
        for binding in due:
            self._attempt_bind(binding)

    # -- helpers ----------------------------------------------------------------------------------

    def _recorded_by_request(self, actor, request_key):
        if request_key is None:
            return None
        with self.db.connection() as conn:
            return repository.recorded_by_request(conn, actor.person_id, request_key)

    def _timeout(self):
        return float(self.config.get("RPC_TIMEOUT", 15))

    def _directory(self):
        return Directory(self.dispatch, self._timeout())

    def _media(self):
        return Media(self.media, self._timeout())

    def _settings(self):
        return self.config.get("INTAKE") or {}

    def _hours(self, name, default):
        return timedelta(hours=float(self._settings().get(name, default)))

    def _region(self):
        return ids.checked_region(self.config.get("REGION_CODE", "GZ"))

    def _checked_id(self, complaint_id):
        if not ids.is_complaint_id(complaint_id):
            raise NotFound(f"投诉不存在 (no complaint {complaint_id!r})")
        return complaint_id

    def _load(self, complaint_id):
        with self.db.connection() as conn:
            complaint = repository.get_complaint(conn, self._checked_id(complaint_id))
        if complaint is None:
            raise NotFound(f"投诉不存在 (no complaint {complaint_id})")
        return complaint

    def _step(self, complaint_id, decide):
        """Lock the complaint, decide, store: two steps on one complaint queue
        on the row lock, and the second sees the first's result."""
        complaint_id = self._checked_id(complaint_id)
        now = self.clock.now()
        with self.db.transaction() as conn:
            complaint = repository.get_complaint(conn, complaint_id, for_update=True)
            if complaint is None:
                raise NotFound(f"投诉不存在 (no complaint {complaint_id})")
            outcome = decide(conn, complaint, now)
            self._store(conn, outcome, now)
        return outcome

    def _current_closure(self, conn, complaint):
        """The application under way, locked (the complaint's row is locked first)."""
        if complaint.closure_application_id is None:
            return None
        current = repository.get_closure(conn, complaint.closure_application_id, for_update=True)
        if current is None:
            raise LookupError(f"closure application {complaint.closure_application_id} of "
                              f"{complaint.id} is missing")
        return current

    def _closure_step(self, complaint_id, decide):
        return self._step(complaint_id, lambda conn, c, now: decide(
            c, self._current_closure(conn, c), now))

    def _consume(self, payload, handler, reader, decide):
        """Apply one of dispatch's events once (inbox), in one transaction with
        its effect, on the complaint's row lock. An event the complaint cannot
        explain raises: retried, then dead-lettered for an operator."""
        envelope = load_envelope(payload)
        data = reader().load(envelope["data"])
        complaint_id = envelope.get("complaint_id") or envelope["data"].get("complaint_id")
        now = self.clock.now()
        with self.db.transaction() as conn:
            if not first_delivery(conn, "intake", f"intake.{handler}",
                                  str(envelope["event_id"]), envelope["type"]):
                return
            complaint = repository.get_complaint(conn, complaint_id, for_update=True) \
                if ids.is_complaint_id(complaint_id) else None
            if complaint is None:
                raise closure.UnexpectedEvent(f"{envelope['type']} for complaint "
                                              f"{complaint_id!r} that intake does not know")
            outcome = decide(conn, complaint, data, now)
            if outcome is None:
                log.info("%s %s changes nothing on %s (older round or repeat)",
                         envelope["type"], envelope["event_id"], complaint_id)
                return
            self._store(conn, outcome, now)

    def _store(self, conn, outcome, now, insert=False):
        c = outcome.complaint
        (repository.insert_complaint if insert else repository.update_complaint)(conn, c)
        repository.add_timeline(conn, c.id, outcome.entries)
        for made in outcome.new_links:
            repository.insert_link(conn, made.link)
        if outcome.used_link is not None:
            repository.mark_link_used(conn, outcome.used_link)
        if outcome.binding is not None:
            # This worker binds right after the commit; the timer takes over
            # only if that attempt never reports (a crash), once the lease
            # ends. Retries run on real time: a simulation clock set ahead or
            # back must not stall them.
            repository.insert_binding(conn, replace(
                outcome.binding, next_attempt_at=system_now() + BIND_LEASE))
        if outcome.rating is not None:
            repository.insert_rating(conn, outcome.rating)
        for changed in outcome.closures:
            repository.save_closure(conn, changed)
        if outcome.callback is not None:
            repository.insert_callback(conn, outcome.callback)
        for event_type, data in outcome.events:
            self.outbox.add(conn, event_type, data, occurred_at=now, complaint_id=c.id)

    def _view(self, complaint_id, actor=None):
        complaint_id = self._checked_id(complaint_id)
        with self.db.transaction() as conn:
            complaint = repository.get_complaint(conn, complaint_id)
            if complaint is None:
                raise NotFound(f"投诉不存在 (no complaint {complaint_id})")
            if actor is not None:
                domain.require_may_see(actor, complaint)
            timeline = repository.timeline(conn, complaint_id)
            rating = repository.get_rating(conn, complaint_id, complaint.order_round)
            binding = (repository.get_binding(conn, complaint.signature_media_id)
                       if complaint.signature_media_id else None)
            closures = repository.closures_of(conn, complaint_id)
            callbacks = repository.callbacks_of(conn, complaint_id)
        return schemas.dump_complaint(complaint, timeline, rating, binding, self.clock.zone,
                                      closures=closures, callbacks=callbacks)

    def _link_and_complaint(self, token):
        if not isinstance(token, str) or not 20 <= len(token) <= 100:
            raise NotFound("链接不存在 (unknown link)")
        with self.db.connection() as conn:
            link = repository.get_link(conn, domain.token_hash(token))
            complaint = repository.get_complaint(conn, link.complaint_id) if link else None
        if link is None or complaint is None:
            raise NotFound("链接不存在 (unknown link)")
        return link, complaint

    def _attempt_bind(self, binding):
        """Bind a signature in media (right after the commit, or from the
        timer). Returns (complaint, binding, timeline entry) as stored after
        the attempt, or None if another attempt had already finished it."""
        try:
            self._media().bind_signature(binding)
        except (Conflict, NotFound, InvalidInput) as refused:
            log.warning("media refused binding %s to %s: %s", binding.media_id,
                        binding.complaint_id, refused.message)
            return self._finish_bind(binding, refused=refused.message)
        except Exception as exc:  # noqa: BLE001 - media down or slow: retry later
            log.warning("binding %s to %s failed (%s); will retry", binding.media_id,
                        binding.complaint_id, exc)
            return self._bind_failed(binding, exc)
        return self._finish_bind(binding)

    def _finish_bind(self, binding, refused=None):
        now = self.clock.now()
        with self.db.transaction() as conn:
            complaint = repository.get_complaint(conn, binding.complaint_id, for_update=True)
            current = repository.get_binding(conn, binding.media_id, for_update=True)
            if current is None or current.state != "pending":
                return None
            if refused is None:
                complaint, current, entry = domain.signature_bound(complaint, current, now)
            else:
                complaint, current, entry = domain.signature_refused(complaint, current, refused,
                                                                     now)
            repository.update_complaint(conn, complaint)
            repository.save_binding(conn, current)
            repository.add_timeline(conn, complaint.id, [entry])
        return complaint, current, entry

    def _bind_failed(self, binding, exc):
        attempts = binding.attempts + 1
        error = exc.message if isinstance(exc, CCRMError) else f"{type(exc).__name__}: {exc}"
        with self.db.transaction() as conn:
            complaint = repository.get_complaint(conn, binding.complaint_id)
            current = repository.get_binding(conn, binding.media_id, for_update=True)
            if current is None or current.state != "pending":
                return None
            current = replace(current, attempts=attempts, last_error=error[:500],
                              next_attempt_at=system_now() + domain.retry_delay(attempts))
            repository.save_binding(conn, current)
        return complaint, current, None

