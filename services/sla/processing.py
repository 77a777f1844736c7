"""The sla engine: applies events, fires due timers, runs the daily jobs and
sends notifications, each in one transaction with its outbox events. The
nameko service calls these; so do the benchmark and the tests.

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
from datetime import datetime, time as clock_time, timedelta

from marshmallow import ValidationError

from services.sla import domain, organisation, repository
from services.sla.calendar import latest_slot, next_slot_day
from services.sla.firing import fire
from services.sla.jobs import run_job
from services.sla.model import Event, Outcome
from services.sla.rules import DAILY_JOBS
from services.sla.schemas import INCOMING, ORGANISATION_EVENTS, load_incoming
from services.sla.sms import SmsMessage
from shared.events.envelope import load_envelope
from shared.inbox import first_delivery

log = logging.getLogger(__name__)

SCHEMA = "sla"
CLOCK_SKEW = timedelta(minutes=5)
DIRECTORY_CACHE_SECONDS = 5.0
FIRST_RUN_CATCH_UP = timedelta(hours=1)
NOTIFY_BACKOFF_FIRST = timedelta(seconds=30)
NOTIFY_BACKOFF_MAX = timedelta(hours=1)
DIRECTORY_CHECK_SECONDS = 300
DIRECTORY_RETRY_SECONDS = 30


def notify_backoff(attempts):
    """30 s, 1 min, 2 min ... at most 1 h between attempts; never given up."""
    delay = NOTIFY_BACKOFF_FIRST * (2 ** max(attempts - 1, 0))
    return min(delay, NOTIFY_BACKOFF_MAX)


class SlaEngine:
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

    def directory(self, conn):
        if self._directory is None or time.monotonic() - self._directory_read > \
                DIRECTORY_CACHE_SECONDS:
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
        with self.db.transaction() as conn:
            if not first_delivery(conn, SCHEMA, handler, envelope["event_id"], envelope["type"]):
                return "duplicate"
            return self._apply(conn, envelope, _body(payload), now)

    def _apply(self, conn, envelope, body, now, parked_id=None):
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
        if event_type in ORGANISATION_EVENTS:
            outcome = self._organisation_event(conn, event, now)
        elif not complaint_id:
            self._error(conn, now, "invalid", "事件缺少 complaint_id (no complaint_id)", ref, body,
                        parked_id)
            return "invalid"
        else:
            complaint = repository.lock_complaint(conn, complaint_id)
            timers = repository.timers_of(conn, complaint_id) if complaint else []
            outcome = domain.apply_event(event, complaint, timers, now, self.settings,
                                         self.directory(conn))
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
        if outcome.provides:
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
        return organisation.on_analysis_issued(event, timers, now, self.settings)

    def _error(self, conn, now, kind, message, ref, body, parked_id=None):
        log.warning("%s: %s (%s %s)", kind, message, ref.get("event_type"), ref.get("event_id"))
        if parked_id is not None:
            repository.mark_parked(conn, parked_id, now, "recorded", message=message)
            return
        repository.record_error(conn, now, kind, "recorded", message, body=body, **ref)

    # -- storing a decision -----------------------------------------------------------

    def store(self, conn, outcome, now):
        if outcome.complaint is not None:
            repository.save_complaint(conn, outcome.complaint)
        inserted = repository.insert_timers(conn, outcome.arm)
        not_inserted = {t.id for t in outcome.arm} - inserted
        repository.update_timers(conn, outcome.update)
        self.outbox.add_many(conn, [
            (emit.type, local_times(emit.data, self.settings.zone), emit.occurred_at,
             emit.complaint_id)
            for emit in outcome.events
            # a deadline armed already (by another path) is not announced again
            if not (emit.type == "deadline.armed" and emit.data["timer_id"] in not_inserted)])
        repository.insert_notifications(conn, outcome.messages, now)
        if outcome.directory is not None:
            repository.save_directory(conn, outcome.directory, now)

    # -- the firing loop ----------------------------------------------------------------

    def check_clock(self, now):
        """A clock set backwards fires nothing twice (states, unique slots);
        it is recorded so operators see why nothing fires for a while."""
        last, self._last_now = self._last_now, now
        if last is not None and now < last - timedelta(seconds=1):
            with self.db.transaction() as conn:
                repository.record_error(
                    conn, now, "clock_backwards", "recorded",
                    f"时钟回拨：{last.isoformat()} -> {now.isoformat()} (the clock went back; "
                    "nothing fires twice)")
            log.warning("clock went backwards from %s to %s", last, now)

    def fire_due(self, now, limit=500):
        """Fire one batch of due timers: (claimed, fired). A timer whose
        complaint an event holds right now is left for the next round."""
        with self.db.transaction() as conn:
            timers = repository.claim_due(conn, now, limit)
            if not timers:
                return 0, 0
            complaints = repository.lock_complaints_skip(
                conn, {t.complaint_id for t in timers if t.complaint_id})
            directory = self.directory(conn)
            total, fired, lags = Outcome(), 0, []
            for timer in timers:
                complaint = None
                if timer.complaint_id is not None:
                    complaint = complaints.get(timer.complaint_id)
                    if complaint is None:
                        continue
                outcome = fire(timer, complaint, now, self.settings, directory)
                lags.extend((t.fired_at - t.due_at).total_seconds() for t in outcome.update
                            if t.id == timer.id and t.fired_at == now)
                total.merge(outcome)
                fired += 1
            with conn.pipeline():     # the batch's writes without a round trip each
                self.store(conn, total, now)
            for kind, message in total.problems:
                repository.record_error(conn, now, kind, "recorded", message)
        if lags and self.on_timers_fired is not None:
            self.on_timers_fired(lags)
        return len(timers), fired

    def fire_all_due(self, now, limit=500, max_seconds=2.0):
        """Fire batches while they come full (or for at most `max_seconds`)."""
        started, total = time.monotonic(), 0
        while True:
            claimed, fired = self.fire_due(now, limit)
            total += fired
            if claimed < limit or fired == 0 or time.monotonic() - started > max_seconds:
                return total

    # -- daily jobs ---------------------------------------------------------------------

    def run_jobs(self, now):
        """Run each daily job's latest slot once (see docs/sla.md)."""
        ran = []
        for job in DAILY_JOBS:
            day, slot_at = latest_slot(job, now, self.settings)
            if self._jobs_done.get(job) == day:
                continue
            with self.db.transaction() as conn:
                if self._run_slot(conn, job, day, slot_at, now):
                    ran.append((job, day))
            self._jobs_done[job] = day
        return ran

    def _run_slot(self, conn, job, day, slot_at, now):
        last = repository.last_slot(conn, job)
        if last is not None and last >= day:
            return False
        if last is None and slot_at < now - FIRST_RUN_CATCH_UP:
            # No history at all (first start): an old slot is not sent late.
            repository.claim_slot(conn, job, day, slot_at, now, "skipped",
                                  {"reason": "first start"})
            return False
        if last is not None:
            missed = next_slot_day(job, last)
            while missed < day:
                missed_at = latest_slot(job, _end_of(missed, self.settings), self.settings)[1]
                if job == "monthly_report":
                    # Every month's report is needed: a missed 1st still triggers.
                    if repository.claim_slot(conn, job, missed, missed_at, now, "done"):
                        self.store(conn, run_job(job, missed, missed_at, [], None, now,
                                                 self.settings), now)
                else:
                    # A stale reminder or summary helps nobody: recorded as skipped.
                    repository.claim_slot(conn, job, missed, missed_at, now, "skipped",
                                          {"reason": "service down at the slot"})
                missed = next_slot_day(job, missed)
        if not repository.claim_slot(conn, job, day, slot_at, now, "done"):
            return False
        complaints = repository.open_complaints(conn) if job != "monthly_report" else []
        outcome = run_job(job, day, slot_at, complaints, self.directory(conn), now,
                          self.settings)
        self.store(conn, outcome, now)
        for kind, message in outcome.problems:
            repository.record_error(conn, now, kind, "recorded", message)
        repository.set_slot_summary(conn, job, day, {
            "messages": len(outcome.messages), "events": [e.type for e in outcome.events]})
        log.info("daily job %s for %s: %d messages", job, day, len(outcome.messages))
        return True

    # -- notifications ------------------------------------------------------------------

    def send_all_due(self, gateway, now, limit=50, max_seconds=2.0):
        """Send batches while they come full (or for at most `max_seconds`)."""
        started, total = time.monotonic(), (0, 0)
        while True:
            sent, failed = self.send_notifications(gateway, now, limit)
            total = (total[0] + sent, total[1] + failed)
            if sent + failed < limit or time.monotonic() - started > max_seconds:
                return total

    def send_notifications(self, gateway, now, limit=20):
        """Send due notifications; returns (sent, failed)."""
        sent = failed = 0
        with self.db.transaction() as conn:
            for row in repository.claim_notifications(conn, now, limit):
                notification_id = str(row["id"])
                common = {"notification_id": notification_id,
                          "recipient_person_id": row["recipient_person_id"],
                          "template": row["template"], "complaint_id": row["complaint_id"],
                          "provider": gateway.name, "attempts": row["attempts"] + 1}
                if not row["mobile"]:
                    error = "收件人无手机号 (no mobile number for the recipient)"
                    repository.notification_failed(conn, notification_id, now, gateway.name,
                                                   error, None)
                    self.outbox.add(conn, "notification.failed", dict(
                        common, error=error, next_attempt_at=None), occurred_at=now,
                        complaint_id=row["complaint_id"])
                    failed += 1
                    continue
                result = gateway.send(SmsMessage(notification_id, row["mobile"],
                                                 row["template"], row["params"], row["text"]))
                if result.ok:
                    repository.notification_sent(conn, notification_id, now, gateway.name,
                                                  result.provider_id)
                    self.outbox.add(conn, "notification.sent", dict(
                        common, provider_id=result.provider_id, sent_at=now),
                        occurred_at=now, complaint_id=row["complaint_id"])
                    sent += 1
                else:
                    retry_at = now + notify_backoff(row["attempts"] + 1)
                    repository.notification_failed(conn, notification_id, now, gateway.name,
                                                   result.error, retry_at)
                    self.outbox.add(conn, "notification.failed", dict(
                        common, error=result.error, next_attempt_at=retry_at),
                        occurred_at=now, complaint_id=row["complaint_id"])
                    log.warning("SMS %s failed (attempt %s): %s", notification_id,
                                row["attempts"] + 1, result.error)
                    failed += 1
        return sent, failed


def local_times(value, zone):
    """Times in events carry the group's offset (SPEC §7: 10:42+08:00), not UTC."""
    if isinstance(value, datetime):
        return value.astimezone(zone)
    if isinstance(value, dict):
        return {k: local_times(v, zone) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [local_times(v, zone) for v in value]
    return value


def _end_of(day, settings):
    return datetime.combine(day, clock_time(23, 59, 59), tzinfo=settings.zone)


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
