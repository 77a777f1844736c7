"""sla's own metrics (shared.metrics): how many armed timers are due and not
fired yet (read at scrape time on the shared clock), and how late each timer
fired (fired_at - due_at, observed by the engine's hook after each batch)."""
from services.sla import repository
from shared import metrics

TIMERS_DUE = "ccrm_timers_due"
STATEMENT_TIMEOUT_MS = 1000


def lag_observer(service):
    """The engine's `on_timers_fired` hook."""
    histogram = metrics.timer_lag_seconds.labels(service)

    def observe(lags):
        for seconds in lags:
            histogram.observe(max(seconds, 0.0))
    return observe


def register_timers_due(service, database, clock):
    def read():
        now = clock.now()
        with database.transaction() as conn:
            conn.execute(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}")
            return repository.due_not_fired(conn, now)
    metrics.register_reading(TIMERS_DUE, "Armed timers due on the shared clock, not yet fired",
                             service, read)


def unregister_timers_due(service):
    metrics.unregister_reading(TIMERS_DUE, service)
