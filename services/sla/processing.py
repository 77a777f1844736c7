"""The sla engine: applies events, fires due timers (timer_loop.py), runs the
daily jobs (timer_loop.py) and sends notifications (sending.py), each in one
transaction with its outbox events. The nameko service calls these; so do the
benchmark and the tests.

Locking: an event locks its complaint (advisory lock + row lock), then reads
its timers. The firing loop claims due timers with FOR UPDATE SKIP LOCKED and
then the complaints of those timers with SKIP LOCKED too: a timer whose
complaint an event is changing right now waits for the next round. Nobody
waits on a lock while holding one the other wants, so there is no deadlock,
and two loops never fire one timer twice.
"""
import json
import logging
import time
from datetime import datetime, timedelta

from marshmallow import ValidationError

from services.sla import decision_store, domain, organisation, repository
from services.sla.incoming import INCOMING, ORGANISATION_EVENTS, load_incoming
from services.sla.model import Event
from services.sla.sending import NotificationSender
from services.sla.timer_loop import TimerLoop
from shared.events.envelope import load_envelope
from shared.inbox import consume_with

log = logging.getLogger(__name__)

SCHEMA = "sla"
CLOCK_SKEW = timedelta(minutes=5)
DIRECTORY_CACHE_SECONDS = 5.0
DIRECTORY_CHECK_SECONDS = 300
DIRECTORY_RETRY_SECONDS = 30
_UNREAD = object()


class SlaEngine(TimerLoop, NotificationSender):
    def __init__(self, database, outbox, settings):
        self.db = database
        self.outbox = outbox
        self.settings = settings
        self._directory = None
        self._directory_read = 0.0
        self._jobs_done = {}     # job -> latest slot known done (saves a query per tick)
        self._last_now = None
        self._next_directory_check = 0.0
        # Hook (the service's metrics): called after a firing batch commits
        # with fired_at - due_at, in seconds, of each timer it fired.
        self.on_timers_fired = None

    # -- directory (cached briefly: escalations and messages read it) -----------------

    def directory(self, conn, version=_UNREAD):
        """The directory copy, reread when its version changed: a copy cached
        while a new one was being stored (the firing loop reading as
        directory.loaded commits) is never kept for stale. `version`: the
        stored version if the caller read it already."""
        cached = self._directory
        if cached is not None and time.monotonic() - self._directory_read <= \
                DIRECTORY_CACHE_SECONDS and cached.version == (
                    repository.directory_version(conn, lock=False) if version is _UNREAD
                    else version):
            return cached
        self._directory = repository.load_directory(conn)
        self._directory_read = time.monotonic()
        return self._directory

    # -- events -------------------------------------------------------------------------

    def handle(self, payload, handler, now):
        """Apply one delivered event once; returns what happened
        (applied, duplicate, ignored, parked, invalid)."""
        try:
            envelope = load_envelope(payload)
        except (ValidationError, ValueError, TypeError) as exc:
            with self.db.transaction() as conn:
                repository.record_error(
                    conn, now, "invalid", "recorded",
                    f"事件信封无效 (invalid envelope): {exc}", body=_body(payload),
                    event_id=_get(payload, "event_id"), event_type=_get(payload, "type"))
            log.error("invalid event envelope: %s", exc)
            return "invalid"
        if envelope["type"] not in INCOMING:
            return "ignored"
        # The statement that records the event also takes the complaint's
        # lock and reads the directory's version: two statements fewer.
        complaint_id = envelope.get("complaint_id")
        locks = complaint_id and envelope["type"] not in ORGANISATION_EVENTS
        columns = repository.DIRECTORY_VERSION_COLUMN + (
            ", " + repository.COMPLAINT_LOCK_COLUMN if locks else "")
        outcome = consume_with(
            self.db, SCHEMA, handler, envelope, columns,
            {"key": repository.complaint_lock_key(complaint_id)},
            lambda conn, first: self._apply(conn, envelope, _body(payload), now,
                                            first=dict(first, locked=bool(locks))))
        return "duplicate" if outcome is None else outcome

    def _apply(self, conn, envelope, body, now, parked_id=None, first=None):
        """`first`: what the event's inbox statement read (`locked`: the
        complaint's advisory lock is held; `directory_version`)."""
        event_type, complaint_id = envelope["type"], envelope.get("complaint_id")
        ref = {"event_id": envelope["event_id"], "event_type": event_type,
               "producer": envelope.get("producer"), "complaint_id": complaint_id}
        try:
            data = load_incoming(event_type, envelope["data"])
        except ValidationError as exc:
            self._error(conn, now, "invalid", f"事件内容无效 (invalid data): {exc.messages}",
                        ref, body, parked_id)
            return "invalid"
        event = Event(event_type, str(envelope["event_id"]), envelope["occurred_at"],
                      complaint_id, data, envelope.get("producer") or "")
        if parked_id is None and event.occurred_at > now + CLOCK_SKEW:
            self._error(conn, now, "clock_skew",
                        f"事件发生时间 {event.occurred_at.isoformat()} 晚于本服务时钟 "
                        f"{now.isoformat()} (the event is from the future: clock set back?)",
                        ref, None)
        parked_here = True      # events may be parked that wait for what this one provides
        if event_type in ORGANISATION_EVENTS:
            outcome = self._organisation_event(conn, event, now)
        elif not complaint_id:
            self._error(conn, now, "invalid", "事件缺少 complaint_id (no complaint_id)", ref, body,
                        parked_id)
            return "invalid"
        else:
            complaint = repository.lock_complaint(
                conn, complaint_id, advisory=not (first and first["locked"]))
            timers, parked_here = repository.timers_and_parked(conn, complaint_id)
            timers = timers if complaint else []
            outcome = domain.apply_event(event, complaint, timers, now, self.settings,
                                         self.directory(conn, *(
                                             (first["directory_version"],) if first else ())))
        if outcome.park is not None:
            park = outcome.park
            if parked_id is None:
                repository.record_error(conn, now, park.kind, "parked", park.message,
                                        waiting_for=park.waiting_for, body=body, **ref)
                log.warning("parked %s %s: %s", event_type, envelope["event_id"], park.message)
            else:
                repository.mark_parked(conn, parked_id, now, "parked", park.waiting_for,
                                       park.message)
            return "parked"
        with conn.pipeline():     # the decision's writes without a round trip each
            self.store(conn, outcome, now)
        for kind, message in outcome.problems:
            self._error(conn, now, kind, message, ref, None)
        if parked_id is not None:
            repository.mark_parked(conn, parked_id, now, "applied")
            log.info("applied parked event %s (%s)", envelope["event_id"], event_type)
        # An event is parked under its complaint's lock, which this one holds:
        # none parked for the complaint (read after the lock) and tokens all
        # naming it, so no parked event can wait for them: no query.
        if outcome.provides and (parked_here or not all(
                complaint_id in token for token in outcome.provides)):
            self._retry_parked(conn, outcome.provides, now)
        return "applied"

    def _retry_parked(self, conn, tokens, now):
        for row in repository.parked_waiting_for(conn, tokens):
            envelope = load_envelope(row["body"])
            self._apply(conn, envelope, row["body"], now, parked_id=row["id"])

    def directory_check_due(self):
        return time.monotonic() >= self._next_directory_check

    def directory_checked(self, ok):
        """Next check of dispatch's directory version: in 5 min, 30 s after a failure."""
        self._next_directory_check = time.monotonic() + (
            DIRECTORY_CHECK_SECONDS if ok else DIRECTORY_RETRY_SECONDS)

    def directory_version(self):
        with self.db.connection() as conn:
            return repository.directory_version(conn, lock=False)

    def apply_directory(self, data, now, source):
        """A directory obtained another way than its event (see
        organisation.directory_from_dispatch): applied like directory.loaded."""
        event = Event("directory.loaded", source, now, None,
                      load_incoming("directory.loaded", data), "dispatch")
        with self.db.transaction() as conn:
            outcome = self._organisation_event(conn, event, now)
            self.store(conn, outcome, now)
            for kind, message in outcome.problems:
                if kind != "stale":
                    repository.record_error(conn, now, kind, "recorded", message,
                                            event_type=event.type, producer="dispatch")
        return outcome.directory is not None

    def _organisation_event(self, conn, event, now):
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('sla:organisation'))")
        if event.type == "directory.loaded":
            outcome = organisation.on_directory_loaded(
                event, repository.directory_version(conn),
                repository.open_timers_of_rule(conn, "rotation"), now, self.settings)
            if outcome.directory is not None:
                self._directory = None   # read the new one next time
            return outcome
        if event.type == "notification.requested":
            return organisation.on_notification_requested(event, self.directory(conn), now,
                                                          self.settings)
        timers = repository.timers_by_key_prefix(conn, f"analysis:{event.data['quarter']}:")
        if event.type == "measures.filed":
            return organisation.on_measures_filed(event, timers, now, self.settings,
                                                  self.directory(conn))
        return organisation.on_analysis_issued(event, timers, now, self.settings)

    def _error(self, conn, now, kind, message, ref, body, parked_id=None):
        log.warning("%s: %s (%s %s)", kind, message, ref.get("event_type"), ref.get("event_id"))
        if parked_id is not None:
            repository.mark_parked(conn, parked_id, now, "recorded", message=message)
            return
        repository.record_error(conn, now, kind, "recorded", message, body=body, **ref)

    # -- storing a decision -----------------------------------------------------------

    def store(self, conn, outcome, now):
        armed = {t.id for t in outcome.arm}
        decision_store.write(conn, self.outbox, outcome.complaint, outcome.arm, [
            (emit.type, local_times(emit.data, self.settings.zone), emit.occurred_at,
             emit.complaint_id,
             emit.data["timer_id"] if emit.type == "deadline.armed"
             and emit.data["timer_id"] in armed else None)
            for emit in outcome.events], outcome.update, outcome.messages, now)
        if outcome.directory is not None:
            repository.save_directory(conn, outcome.directory, now)

def local_times(value, zone):
    """Times in events carry the group's offset (SPEC §7: 10:42+08:00), not UTC."""
    if isinstance(value, datetime):
        return value.astimezone(zone)
    if isinstance(value, dict):
        return {k: local_times(v, zone) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [local_times(v, zone) for v in value]
    return value


def _get(payload, key):
    return payload.get(key) if isinstance(payload, dict) else None


def _body(payload):
    if isinstance(payload, (bytes, str)):
        try:
            return json.loads(payload)
        except ValueError:
            return {"raw": payload if isinstance(payload, str) else payload.decode("utf-8",
                                                                                  "replace")}
    return payload
