"""The timer loop's two jobs (a part of SlaEngine): fire the timers that fell
due, and run each daily job's latest slot once (see docs/sla.md).

The firing loop claims due timers with FOR UPDATE SKIP LOCKED, then their
complaints with SKIP LOCKED too: a timer whose complaint an event is changing
right now waits for the next round, and two loops never fire one timer twice.
"""
import logging
import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time

from services.sla import repository
from services.sla.calendar import latest_slot, next_slot_day
from services.sla.firing import fire
from services.sla.jobs import run_job
from services.sla.model import Outcome
from services.sla.rules import DAILY_JOBS

log = logging.getLogger(__name__)

FIRST_RUN_CATCH_UP = timedelta(hours=1)
# `timers.fired_through`: the mark is rounded down to this step (a clock that
# simply runs moves it once a quarter hour, not every tick) and published at
# most once per this many seconds of real time while it moves.
FIRED_THROUGH_STEP = timedelta(minutes=15)
FIRED_THROUGH_EVERY_SECONDS = 2.0


class TimerLoop:
    """Needs the engine's `db`, `settings`, `directory(conn)`, `store(...)`,
    `_last_now`, `_jobs_done` and `on_timers_fired`."""

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
            # The deadlines the warnings and hourly notices among them follow.
            followed = repository.timers_by_keys(
                conn, {t.details["target"] for t in timers if t.details.get("target")})
            total, fired, lags = Outcome(), 0, []
            for timer in timers:
                complaint = None
                if timer.complaint_id is not None:
                    complaint = complaints.get(timer.complaint_id)
                    if complaint is None:
                        continue
                target = followed.get(timer.details.get("target") or "")
                outcome = fire(timer, complaint, now, self.settings, directory,
                               related=[target] if target is not None else [])
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
        self.publish_fired_through(now)
        return ran

    # -- how far sla has fired (penalty closes a month only behind it) -------------------

    def publish_fired_through(self, now):
        """After the round's firing and daily jobs: announce `timers.fired_through`
        when the mark moved (see fired_through_mark), at most every
        FIRED_THROUGH_EVERY_SECONDS. Returns the mark published, or None."""
        last = getattr(self, "_fired_through", None)
        if time.monotonic() - getattr(self, "_fired_through_sent", -1e9) \
                < FIRED_THROUGH_EVERY_SECONDS:
            return None
        with self.db.transaction() as conn:
            earliest = conn.execute("SELECT min(due_at) AS due FROM sla.timers "
                                    "WHERE state = 'armed'").fetchone()["due"]
            mark = fired_through_mark(now, earliest)
            # Moved either way: a simulation clock set back moves the mark back too.
            if last is not None and mark == last:
                return None
            self.outbox.add(conn, "timers.fired_through", {"fired_through": mark},
                            occurred_at=now)
        self._fired_through, self._fired_through_sent = mark, time.monotonic()
        return mark

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


def fired_through_mark(now, earliest_armed_due, step=FIRED_THROUGH_STEP):
    """Every timer due at or before the mark has fired: just before the
    earliest armed timer still due (or `now` if none is), rounded down to
    `step` (a whole number of steps since the epoch, so local quarter hours
    and midnights are marks)."""
    mark = now
    if earliest_armed_due is not None and earliest_armed_due <= now:
        mark = earliest_armed_due - timedelta(microseconds=1)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    steps = (mark - epoch) // step
    return (epoch + steps * step).astimezone(now.tzinfo)


def _end_of(day, settings):
    return datetime.combine(day, clock_time(23, 59, 59), tzinfo=settings.zone)
