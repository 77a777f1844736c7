"""Fixtures on the real servers: a migrated test database, a per-test config
pointing at nameko's throwaway RabbitMQ vhost, and helpers to read events."""
import json
import os
import uuid

import kombu
import psycopg
import pytest

from shared.config import load_config
from shared.db import Database, admin_dsn
from shared.migrate import SCHEMAS, migrate

# One database per test run, so two runs on one machine never share state.
TEST_DSN = os.environ.get("CCRM_TEST_DATABASE_URL",
                          "postgresql://postgres@127.0.0.1:5432/ccrm_test") + f"_{os.getpid()}"


@pytest.fixture(scope="session")
def test_dsn():
    """A fresh, migrated database for this test run, dropped at its end."""
    name = TEST_DSN.rsplit("/", 1)[1]
    with psycopg.connect(admin_dsn(TEST_DSN), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    migrate(TEST_DSN)
    yield TEST_DSN
    with psycopg.connect(admin_dsn(TEST_DSN), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def database(test_dsn):
    db = Database(test_dsn, size=6)
    yield db
    db.close()


@pytest.fixture
def clean_database(test_dsn, database):
    """Empty every service table (not the migrations' records) before a test."""
    with database.transaction() as conn:
        tables = conn.execute(
            """SELECT schemaname, tablename FROM pg_tables
               WHERE schemaname = ANY(%s) AND tablename <> 'schema_migrations'""",
            (list(SCHEMAS),)).fetchall()
        if tables:
            names = ", ".join(f'"{t["schemaname"]}"."{t["tablename"]}"' for t in tables)
            conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        conn.execute("INSERT INTO clock.settings (id, offset_us) VALUES (1, 0) "
                     "ON CONFLICT (id) DO UPDATE SET offset_us = 0")
    return database


@pytest.fixture
def ccrm_config(rabbit_config, test_dsn, tmp_path):
    """The deployment config for one test: its own vhost, the test database,
    simulation mode, and a clock that is never cached."""
    config = load_config()
    config.update(rabbit_config)
    config.update({
        "DATABASE_URL": test_dsn,
        "SIMULATION": True,
        "CLOCK_CACHE_SECONDS": 0,
        "HEARTBEAT": 10,
    })
    return config


class EventSubscriber:
    """A plain kombu consumer bound like another group system would be (SPEC §7)."""

    def __init__(self, amqp_uri, exchanges, routing_key="#"):
        self.connection = kombu.Connection(amqp_uri)
        self.queue = kombu.Queue(
            f"test-subscriber-{uuid.uuid4().hex[:8]}", durable=False, auto_delete=False,
            bindings=[kombu.binding(kombu.Exchange(name, type="topic", durable=True),
                                    routing_key=routing_key) for name in exchanges])
        self.queue(self.connection.channel()).declare()
        self.received = []

    def drain(self, timeout=0.2):
        with self.connection.SimpleQueue(self.queue) as simple:
            while True:
                try:
                    message = simple.get(timeout=timeout)
                except simple.Empty:
                    return self.received
                body = message.body
                self.received.append(json.loads(body) if isinstance(body, (str, bytes))
                                     else message.payload)
                message.ack()

    def wait_for(self, predicate, timeout=10.0):
        """Drain until `predicate(received)` holds; never waits on a deadline."""
        import time
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            self.drain(timeout=0.1)
            if predicate(self.received):
                return self.received
        seen = [e["type"] for e in self.received]
        raise AssertionError(f"events not seen in {timeout}s; got {seen}")

    def close(self):
        self.connection.release()


@pytest.fixture
def subscriber_factory(rabbit_config):
    made = []

    def make(*exchanges, routing_key="#"):
        sub = EventSubscriber(rabbit_config["AMQP_URI"], exchanges, routing_key)
        made.append(sub)
        return sub

    yield make
    for sub in made:
        sub.close()
