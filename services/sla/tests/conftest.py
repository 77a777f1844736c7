"""Fixtures of the sla integration tests: the service in a real container on
the test database and vhost, the simulation clock, and the producers."""
import pytest

from services.sla.service import SlaService
from services.sla.tests.producers import Producers
from shared.clock import SimulationClock


@pytest.fixture
def sla_config(ccrm_config):
    # Small pools: the test database server is shared with other suites.
    return dict(ccrm_config, SMS={"provider": "record"}, DB_POOL_SIZE=3)


@pytest.fixture
def sim_clock(clean_database):
    """The shared simulation clock the containers read (clock.settings)."""
    return SimulationClock(clean_database, cache_seconds=0)


@pytest.fixture
def producers(clean_database, rabbit_config):
    made = Producers(clean_database, rabbit_config["AMQP_URI"])
    yield made
    made.close()


@pytest.fixture
def start_sla(container_factory, sla_config, clean_database):
    def start():
        container = container_factory(SlaService, sla_config)
        container.start()
        return container
    return start
