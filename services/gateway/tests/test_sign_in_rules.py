"""The sign-in rules without I/O (services/gateway/sign_in.py)."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.gateway.sign_in import (
    NumberState,
    SignInSettings,
    code_hash,
    issue_code,
    locked,
    new_code,
    try_code,
    wait_for_code,
    wait_for_window,
)

NOW = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
MOBILE = "15902010001"
SETTINGS = SignInSettings()


def issued(code="123456", person="p01-spec-1", state=None, at=NOW):
    return issue_code(state, MOBILE, person, code, "salt", at, SETTINGS)


def test_codes_are_six_digits_and_kept_only_as_a_keyed_salted_hash():
    codes = {new_code() for _ in range(200)}
    assert all(len(c) == 6 and c.isdigit() for c in codes) and len(codes) > 150
    state = issued()
    assert state.code_hash == code_hash("123456", MOBILE, "salt") != "123456"
    assert code_hash("123456", MOBILE, "salt", "pepper") != state.code_hash
    assert code_hash("123456", "15902010002", "salt") != state.code_hash
    assert state.code_expires_at == NOW + timedelta(minutes=5)


def test_the_right_code_signs_in_once_and_clears_the_count():
    state = issued()
    wrong = try_code(state, MOBILE, "000000", NOW, SETTINGS)
    assert (wrong.outcome, wrong.left, wrong.state.failures) == ("wrong", 4, 1)
    right = try_code(wrong.state, MOBILE, "123456", NOW, SETTINGS)
    assert (right.outcome, right.person_id, right.state.failures) == ("ok", "p01-spec-1", 0)
    assert try_code(right.state, MOBILE, "123456", NOW, SETTINGS).outcome == "none"


def test_a_code_expires_after_five_minutes_and_a_new_one_replaces_the_old():
    state = issued()
    assert try_code(state, MOBILE, "123456", NOW + timedelta(minutes=5),
                    SETTINGS).outcome == "expired"
    newer = issued("654321", state=state, at=NOW + timedelta(minutes=1))
    assert try_code(newer, MOBILE, "123456", NOW + timedelta(minutes=1),
                    SETTINGS).outcome == "wrong"
    assert try_code(newer, MOBILE, "654321", NOW + timedelta(minutes=1),
                    SETTINGS).outcome == "ok"


def test_the_fifth_wrong_code_locks_the_number_until_the_lock_ends():
    state = issued()
    for left in (4, 3, 2, 1):
        verdict = try_code(state, MOBILE, "000000", NOW, SETTINGS)
        assert (verdict.outcome, verdict.left) == ("wrong", left)
        state = verdict.state
    verdict = try_code(state, MOBILE, "000000", NOW, SETTINGS)
    assert verdict.outcome == "locked" and verdict.state.locked_until == NOW + timedelta(minutes=15)
    assert verdict.state.code_hash is None             # the code is gone with the lock
    later = NOW + timedelta(minutes=10)
    assert try_code(verdict.state, MOBILE, "123456", later, SETTINGS).outcome == "locked"
    after = verdict.state.current(NOW + timedelta(minutes=15))
    assert after.locked_until is None and after.failures == 0


def test_an_unknown_number_never_signs_in_but_counts_like_a_known_one():
    state = issued(person=None)
    assert try_code(state, MOBILE, "123456", NOW, SETTINGS).outcome == "wrong"
    assert try_code(None, MOBILE, "123456", NOW, SETTINGS).outcome == "none"


def test_the_lock_says_until_when_in_the_groups_zone():
    error = locked(NOW + timedelta(minutes=15), NOW, ZoneInfo("Asia/Shanghai"))
    body = error.to_body()["error"]
    assert error.status == 429 and body["code"] == "locked" and body["retry_after"] == 900
    assert "锁定至 11月10日 10:15" in body["message"]
    assert body["locked_until"] == "2026-11-10T10:15:00+08:00"


def test_rate_limits_slide_and_say_how_long_to_wait():
    times = [NOW - timedelta(minutes=m) for m in (50, 40, 30, 20, 10)]
    assert wait_for_window(times, 5, timedelta(hours=1), NOW) == timedelta(minutes=10)
    assert wait_for_window(times, 6, timedelta(hours=1), NOW) is None
    assert wait_for_window(times, 5, timedelta(minutes=45), NOW) is None
    refused = wait_for_code([NOW - timedelta(seconds=20)], [], SETTINGS, NOW)
    assert refused is not None and refused.retry_after == 40 and "mobile" in refused.fields
    by_address = wait_for_code([], [NOW - timedelta(minutes=1)] * 20, SETTINGS, NOW)
    assert by_address is not None and not by_address.fields
    assert by_address.retry_after == 59 * 60


def test_settings_come_from_the_auth_section():
    settings = SignInSettings.from_config({"AUTH": {
        "code_minutes": "3", "max_failures": 3, "lock_minutes": 30, "session_hours": 8,
        "resend_seconds": "", "trust_forwarded_for": "true", "code_pepper": "p"}})
    assert settings.code_ttl == timedelta(minutes=3) and settings.max_failures == 3
    assert settings.lock == timedelta(minutes=30) and settings.session_ttl == timedelta(hours=8)
    assert settings.resend_interval == timedelta(seconds=60)
    assert settings.trust_forwarded_for and settings.pepper == "p"
    assert SignInSettings.from_config(None) == SignInSettings()
    assert NumberState(MOBILE).current(NOW) == NumberState(MOBILE)
