"""Fixtures of the penalty integration tests: the service (with media) on
the real broker, database and S3 server; other services' events published
the way they publish them (their Outbox rows relayed by relay_once)."""
import time

import pytest
from nameko.standalone.rpc import ServiceRpcProxy

from services.dispatch.load_directory import load_organisation
from services.media.service import MediaService
from services.penalty.service import PenaltyService
from services.penalty.tests.helpers import at
from shared.clock import SimulationClock
from shared.config import REPO_ROOT
from shared.contracts.penalty.views import ANSWERS, answer_errors
from shared.outbox import EventPublisher, Outbox, relay_once

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
NOW = at("2026-12-01 00:05")       # November has just ended
GM = {"person_id": "centre-gm", "name": "周明华", "roles": ["centre_gm"], "kind": "person"}
HR = {"person_id": "hr-1", "name": "刘丽娟", "roles": ["hr"], "kind": "person"}
SPEC = {"person_id": "p01-spec-1", "name": "李思琪", "roles": ["specialist"], "kind": "person"}
SPEC2 = {"person_id": "p01-spec-2", "name": "王梓涵", "roles": ["specialist"], "kind": "person"}


class Bus:
    """Publishes events as their producer does: an outbox row in the
    producer's schema, then the relay."""

    def __init__(self, database, publisher):
        self.database = database
        self.publisher = publisher

    def publish(self, producer, event_type, data, occurred_at=NOW, complaint_id=None):
        with self.database.transaction() as conn:
            envelope = Outbox(producer, producer, "GZ").add(
                conn, event_type, data, occurred_at=occurred_at, complaint_id=complaint_id)
        relay_once(self.database, producer, self.publisher)
        return envelope

    def republish(self, producer, envelope):
        """The same message again (a relay that crashed before marking it)."""
        with self.database.transaction() as conn:
            conn.execute(f"UPDATE {producer}.outbox SET published_at = NULL WHERE event_id = %s",
                         (envelope.event_id,))
        relay_once(self.database, producer, self.publisher)

    def fired_through(self, mark=NOW):
        """sla's mark: every timer due at or before `mark` has fired."""
        envelope = self.publish("sla", "timers.fired_through", {"fired_through": mark},
                                occurred_at=mark)
        self.applied(envelope)
        return envelope

    def load_directory(self, now=NOW):
        load_organisation(self.database, DEMO_FILE, now=now,
                          outbox=Outbox("dispatch", "dispatch", "GZ"))
        relay_once(self.database, "dispatch", self.publisher)

    def applied(self, *envelopes, timeout=15):
        """Wait until penalty has applied these events (its inbox has them)."""
        ids = [e.event_id for e in envelopes]
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            with self.database.connection() as conn:
                n = conn.execute("SELECT count(*) AS n FROM penalty.inbox WHERE event_id = ANY(%s)",
                                 (ids,)).fetchone()["n"]
            if n == len(ids):
                return
            time.sleep(0.05)
        raise AssertionError(f"penalty did not apply {ids} in {timeout}s")

    def wait_directory(self, timeout=15):
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            with self.database.connection() as conn:
                if conn.execute("SELECT 1 FROM penalty.directory_state").fetchone():
                    return
            time.sleep(0.05)
        raise AssertionError("directory.loaded not applied")


@pytest.fixture
def penalty_config(ccrm_config, s3_config):
    # A small pool: the PostgreSQL server is shared with other test runs.
    return dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10, DB_POOL_SIZE=3)


@pytest.fixture
def running(penalty_config, clean_database, rabbit_config, runner_factory):
    # runner_factory last: its containers are killed before the vhost is deleted.
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    runner = runner_factory(penalty_config, PenaltyService, MediaService)
    runner.start()
    publisher = EventPublisher(rabbit_config["AMQP_URI"], confirm_timeout=5)
    bus = Bus(clean_database, publisher)
    bus.load_directory()
    bus.wait_directory()
    bus.fired_through(NOW)          # sla has fired everything due by now (November ended)
    yield bus
    publisher.close()


class ContractChecked:
    """The service's RPC proxy, checking every answer against the contract's
    view of its method (shared.contracts.penalty.views): each integration
    test that calls penalty is also a contract test of what it answers."""

    def __init__(self, proxy):
        self.proxy = proxy

    def __getattr__(self, method):
        call = getattr(self.proxy, method)

        def checked(*args, **kwargs):
            answer = call(*args, **kwargs)
            if method in ANSWERS:
                errors = answer_errors(method, answer)
                assert not errors, f"{method} answered outside its contract view: {errors}"
            return answer
        return checked


@pytest.fixture
def penalty(penalty_config, running):
    with ServiceRpcProxy("penalty", penalty_config) as proxy:
        yield ContractChecked(proxy)


def lines(database, **where):
    clauses = " AND ".join(f"{k} = %({k})s" for k in where) or "true"
    with database.connection() as conn:
        return conn.execute(f"SELECT * FROM penalty.deductions WHERE {clauses} ORDER BY seq",
                            where).fetchall()
