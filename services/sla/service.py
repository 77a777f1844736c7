"""The sla service: every deadline and daily job of SPEC §4 (ARCHITECTURE, Time).

Entrypoints only. Events from intake, dispatch and penalty (its quarterly
analysis) are applied once each (inbox) by the engine; a short timer loop
fires the timers that fell due and runs the daily jobs' slots; another sends
the SMS queued in `sla.notifications`. All time is the shared clock's.
"""
import logging
from zoneinfo import ZoneInfo

import eventlet
from nameko.dependency_providers import Config
from nameko.extensions import DependencyProvider
from nameko.timer import timer

import shared  # noqa: F401  (psycopg wait function first)
from services.sla import metrics as sla_metrics
from services.sla import notification_repository, repository, sign_in, sms_receipts, views
from services.sla.organisation import directory_from_dispatch
from services.sla.outbox import BatchOutbox
from services.sla.processing import SlaEngine
from services.sla.rules import Settings
from services.sla.sms import SmsProvider
from shared import roles
from shared.clock import ClockProvider, clock_from_config
from shared.consumer import event_handler
from shared.contracts.dispatch import DispatchClient
from shared.contracts.sla import (
    DeadlinesView,
    ErrorView,
    NotificationFilters,
    NotificationPage,
    OverduePage,
    OverdueQuery,
    ReceiptsRecorded,
)
from shared.db import Database, database_url
from shared.errors import CCRMError, Forbidden
from shared.observability import Observability
from shared.outbox import OutboxRelay, outbox_backlog
from shared.rpc import RpcProxy, rpc
from shared.validation import load_input

log = logging.getLogger(__name__)

TICK_SECONDS = 0.2          # the firing loop: due timers wait at most this long
DELIVER_SECONDS = 1.0       # the SMS loop
DIRECTORY_TICK_SECONDS = 5   # the first check a few seconds after start (reply queue ready)
DIRECTORY_RPC_SECONDS = 3


class EngineProvider(DependencyProvider):
    """One `SlaEngine` per container (its caches outlive a worker)."""

    def setup(self):
        config = self.container.config
        self.database = Database(database_url(config, "sla"),
                                 size=int(config.get("DB_POOL_SIZE", 8)))
        outbox = BatchOutbox("sla", "sla", config.get("REGION_CODE", "GZ"),
                        ZoneInfo(config.get("TIME_ZONE", "Asia/Shanghai")))
        self.engine = SlaEngine(self.database, outbox, Settings.from_config(config))
        self.engine.on_timers_fired = sla_metrics.lag_observer(self.container.service_name)

    def start(self):
        # ccrm_timers_due is "due" on the service's own shared clock.
        clock = next((d.clock for d in self.container.dependencies
                      if isinstance(d, ClockProvider)), None)
        sla_metrics.register_timers_due(
            self.container.service_name, self.database,
            clock or clock_from_config(self.container.config, self.database))

    def stop(self):
        sla_metrics.unregister_timers_due(self.container.service_name)
        self.database.close()

    kill = stop

    def get_dependency(self, worker_ctx):
        return self.engine


def _rpc(**kwargs):
    return rpc(expected_exceptions=(CCRMError,), **kwargs)


class SlaService:
    name = "sla"

    config = Config()
    observability = Observability("sla")
    clock = ClockProvider()
    engine = EngineProvider()
    relay = OutboxRelay("sla")
    sms = SmsProvider()
    dispatch = RpcProxy("dispatch")

    # -- events ----------------------------------------------------------------------

    @event_handler("intake", "#")
    def on_intake_event(self, payload):
        return self.engine.handle(payload, "sla.on_intake_event", self.clock.now())

    @event_handler("dispatch", "#")
    def on_dispatch_event(self, payload):
        return self.engine.handle(payload, "sla.on_dispatch_event", self.clock.now())

    @event_handler("penalty", "analysis.issued")
    def on_analysis_issued(self, payload):
        return self.engine.handle(payload, "sla.on_analysis_issued", self.clock.now())

    @event_handler("penalty", "measures.filed")
    def on_measures_filed(self, payload):
        return self.engine.handle(payload, "sla.on_measures_filed", self.clock.now())

    @event_handler("penalty", "notification.requested")
    def on_notification_requested(self, payload):
        return self.engine.handle(payload, "sla.on_notification_requested", self.clock.now())

    # -- loops -----------------------------------------------------------------------

    @timer(interval=TICK_SECONDS)
    def tick(self):
        now = self.clock.now()
        self.engine.check_clock(now)
        self.engine.fire_all_due(now, self._batch())
        self.engine.run_jobs(now)

    @timer(interval=DIRECTORY_TICK_SECONDS)
    def sync_directory(self):
        """directory.loaded reaches sla only if sla's queue existed when it was
        published: a directory loaded before sla first started would be
        missed. So sla also asks dispatch which version it has (every few
        minutes), and reads the directory by RPC when it is newer."""
        if not self.engine.directory_check_due():
            return False
        dispatch = DispatchClient(self.dispatch, DIRECTORY_RPC_SECONDS)
        try:
            with eventlet.Timeout(DIRECTORY_RPC_SECONDS):     # the three calls together
                health = dispatch.health()
                remote = (health.get("directory") or {}).get("version")
                if remote is None or remote <= (self.engine.directory_version() or 0):
                    self.engine.directory_checked(ok=True)
                    return False
                people = dispatch.list_people(include_inactive=True)
                projects = dispatch.list_projects()
        except (Exception, eventlet.Timeout) as exc:  # noqa: BLE001 - dispatch down: later
            log.info("directory sync skipped: dispatch did not answer (%s)", type(exc).__name__)
            self.engine.directory_checked(ok=False)
            return False
        applied = self.engine.apply_directory(
            directory_from_dispatch(health, people, projects), self.clock.now(),
            f"rpc:dispatch:{remote}")
        self.engine.directory_checked(ok=True)
        log.info("directory version %s read from dispatch by RPC", remote)
        return applied

    @timer(interval=DELIVER_SECONDS)
    def deliver(self):
        self.engine.send_all_due(self.sms, self.clock.now())

    def _batch(self):
        return self.engine.settings.batch_size

    # -- RPC -------------------------------------------------------------------------

    @_rpc()
    def list_timers(self, complaint_id):
        """The complaint's deadlines, each met or missed and by how much."""
        with self.engine.db.connection() as conn:
            timers = repository.timers_of(conn, str(complaint_id))
        shown = [views.timer_view(t) for t in timers if views.is_shown(t)]
        return DeadlinesView().dump({"complaint_id": complaint_id, "timers": shown})

    @_rpc()
    def list_notifications(self, actor, filters=None):
        """SMS and other messages with their delivery status: an admin sees
        all; anyone else only their own."""
        actor = actor or {}
        query = load_input(NotificationFilters, filters or {})   # None: no filters
        person = actor.get("person_id")
        if not person:
            raise Forbidden("调用者身份不明 (caller unknown)")
        admin = roles.ADMIN in (actor.get("roles") or ())
        if not admin and query["person_id"] not in (None, person):
            raise Forbidden("只能查看本人的通知 (you may only see your own notifications)")
        with self.engine.db.connection() as conn:
            rows, total = notification_repository.list_notifications(
                conn, query, None if admin else person)
        zone = self.clock.zone
        items = [dict(row, id=str(row["id"]), **{
            name: row[name].astimezone(zone) if row[name] else None
            for name in ("created_at", "next_attempt_at", "sent_at", "delivered_at",
                         "delivery_reported_at")}) for row in rows]
        return NotificationPage().dump({"items": items, "total": total,
                                                "page": query["page"],
                                                "page_size": query["page_size"]})

    @_rpc()
    def list_overdue(self, complaint_ids=None, limit=100, offset=0):
        """The complaints in work past their completion deadline, days and tier
        each (issue 13: the overdue board asks once, not once per complaint)."""
        query = load_input(OverdueQuery, {"complaint_ids": complaint_ids, "limit": limit,
                                          "offset": offset})
        now = self.clock.now()
        with self.engine.db.connection() as conn:
            complaints = repository.overdue_complaints(conn, now, query["complaint_ids"])
        return OverduePage().dump(views.overdue_page(
            complaints, now, self.engine.settings, query["limit"], query["offset"]))

    @_rpc()
    def send_sign_in_code(self, mobile, code, person_id=None, name=None, valid_minutes=5):
        """The gateway's sign-in code by SMS, sent now through the SMS gateway;
        recorded with the code masked (services/sla/sign_in.py)."""
        request = sign_in.load_request(mobile, code, person_id, name, valid_minutes)
        return sign_in.send_code(self.engine.db, self.engine.outbox, self.sms, request,
                                 self.engine.settings.sms_signature, self.clock.now())

    @_rpc()
    def record_sms_receipts(self, provider, body, token=None, signature=None):
        """Delivery receipts an SMS provider pushed to the gateway, verified
        and recorded on the messages (services/sla/sms_receipts.py)."""
        secrets = sms_receipts.ReceiptSecrets.from_config(self.config.get("SMS"))
        return ReceiptsRecorded().dump(sms_receipts.record_receipts(
            self.engine.db, secrets, str(provider), str(body), token, signature,
            self.clock.now()))

    @_rpc()
    def list_errors(self, state=None, limit=200):
        """Events sla could not apply (yet): parked, applied later, recorded."""
        with self.engine.db.connection() as conn:
            rows = repository.list_errors(conn, state, min(int(limit), 1000))
        return ErrorView(many=True).dump(rows)

    @_rpc()
    def health(self):
        try:
            now = self.clock.now()
            with self.engine.db.connection() as conn:
                counts = repository.health_counts(conn, now)
            backlog = outbox_backlog(self.engine.db, "sla")
        except Exception as exc:  # noqa: BLE001 - health reports, it does not raise
            message = exc.message if isinstance(exc, CCRMError) else f"{type(exc).__name__}: {exc}"
            return {"service": self.name, "status": "down", "error": message}
        status = "ok"
        problems = []
        if counts["directory_version"] is None:
            status = "degraded"
            problems.append(
                "组织架构尚未收到，升级与提醒无法送达中心人员 (no directory.loaded yet)")
        if counts["due_not_fired"] > 10 * self._batch():
            status = "degraded"
            problems.append("到期计时器积压 (due timers are piling up)")
        return {"service": self.name, "status": status, "problems": problems,
                "now": now.isoformat(), "sms_provider": self.sms.name,
                "outbox_backlog": backlog, "armed_timers": counts["armed_timers"],
                "due_not_fired": counts["due_not_fired"],
                "next_due_at": counts["next_due_at"].isoformat()
                if counts["next_due_at"] else None,
                "notifications_pending": counts["notifications_pending"],
                "parked_events": counts["parked_events"],
                "directory_version": counts["directory_version"]}
