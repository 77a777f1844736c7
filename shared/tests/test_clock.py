from datetime import UTC, datetime, timedelta, timezone

import pytest

from shared.clock import FixedClock, SimulationClock, SystemClock
from shared.errors import Forbidden, InvalidInput


def test_simulation_clock_is_shared_through_the_database(clean_database):
    one = SimulationClock(clean_database, cache_seconds=0)
    other = SimulationClock(clean_database, cache_seconds=0)
    target = datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    one.set(target, by="admin")
    assert abs(other.now() - target) < timedelta(seconds=2)
    other.advance(timedelta(minutes=90))
    assert abs(one.now() - (target + timedelta(minutes=90))) < timedelta(seconds=2)
    assert one.local_now().utcoffset() == timedelta(hours=8)


def test_naive_time_is_refused(clean_database):
    with pytest.raises(InvalidInput):
        SimulationClock(clean_database).set(datetime(2026, 12, 1, 9, 30))


def test_production_clock_cannot_be_moved():
    with pytest.raises(Forbidden):
        SystemClock().advance(timedelta(hours=1))


def test_fixed_clock_moves_only_when_told():
    start = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
    clock = FixedClock(start)
    clock.advance(timedelta(minutes=30))
    assert clock.now() == start + timedelta(minutes=30)


def test_two_admins_advancing_at_once_both_count(clean_database):
    import eventlet
    clocks = [SimulationClock(clean_database, cache_seconds=0) for _ in range(2)]
    before = clocks[0].now()
    pool = eventlet.GreenPool()
    for clock in clocks * 5:
        pool.spawn(clock.advance, timedelta(hours=1), "admin")
    pool.waitall()
    gained = clocks[1].now() - before
    assert timedelta(hours=10) <= gained < timedelta(hours=10, seconds=5)
