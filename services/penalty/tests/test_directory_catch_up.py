"""A first start on a new broker: directory.loaded went out before penalty's
queue existed, so penalty reads the directory from dispatch by RPC."""
import time

from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.penalty.service import PenaltyService
from services.penalty.tests.conftest import DEMO_FILE, NOW
from shared.clock import SimulationClock
from shared.outbox import Outbox


def test_penalty_catches_up_on_a_directory_it_never_heard_of(penalty_config, clean_database,
                                                             rabbit_config, runner_factory):
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    with clean_database.transaction() as conn:   # published long ago, to nobody
        conn.execute("UPDATE dispatch.outbox SET published_at = now()")
    runner = runner_factory(penalty_config, DispatchService, PenaltyService)
    runner.start()
    limit = time.monotonic() + 45   # a few 5 s rounds on a busy machine
    row = None
    while time.monotonic() < limit and row is None:
        with clean_database.connection() as conn:
            row = conn.execute("SELECT version FROM penalty.directory_state").fetchone()
        time.sleep(0.1)
    assert row == {"version": 1}
    with clean_database.connection() as conn:
        bonus = conn.execute("SELECT bonus FROM penalty.people WHERE id = 'centre-gm'").fetchone()
    assert str(bonus["bonus"]) == "15000.00"
