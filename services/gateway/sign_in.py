"""Sign-in by mobile number and a one-time SMS code (issue 14): the rules,
without I/O (`now` is handed in; the routes in routes/auth.py and the SQL in
sign_in_store.py do the rest).

- A code is 6 digits, lives `code_ttl` (5 min), one per number: a new request
  replaces the old one. Only a salted HMAC of it is kept.
- `max_failures` (5) wrong codes lock the number for `lock` (15 min); the
  answer says until when. A success or the lock's end clears the count.
- Asking for codes is limited per number (one every `resend_interval`, at most
  `codes_per_number` an hour) and per client address (`codes_per_address` an
  hour); trying codes per client address (`sessions_per_address` an hour).
  A refusal is 429 with a Retry-After.
- A number that is not in the directory (or whose person left) is answered
  exactly like a known one: a code row is kept (of a code nobody receives), so
  asking, trying and locking behave the same; only no SMS goes out.
"""
from __future__ import annotations

import hashlib
import hmac
import math
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

from shared.config import as_bool
from shared.errors import CCRMError

CODE_DIGITS = 6


@dataclass(frozen=True)
class SignInSettings:
    """The config's `AUTH:` section (minutes, hours and counts as named)."""

    code_ttl: timedelta = timedelta(minutes=5)
    max_failures: int = 5
    lock: timedelta = timedelta(minutes=15)
    session_ttl: timedelta = timedelta(hours=12)
    resend_interval: timedelta = timedelta(seconds=60)
    window: timedelta = timedelta(hours=1)
    codes_per_number: int = 5
    codes_per_address: int = 20
    sessions_per_address: int = 30
    pepper: str = ""
    trust_forwarded_for: bool = False

    @classmethod
    def from_config(cls, config: Mapping[str, Any] | None) -> SignInSettings:
        section = (config or {}).get("AUTH") or {}
        d = cls()

        def number(name: str, default: float) -> float:
            value = section.get(name)
            return default if value in (None, "") else float(value)

        return cls(
            code_ttl=timedelta(minutes=number("code_minutes", d.code_ttl / timedelta(minutes=1))),
            max_failures=int(number("max_failures", d.max_failures)),
            lock=timedelta(minutes=number("lock_minutes", d.lock / timedelta(minutes=1))),
            session_ttl=timedelta(hours=number("session_hours",
                                               d.session_ttl / timedelta(hours=1))),
            resend_interval=timedelta(seconds=number(
                "resend_seconds", d.resend_interval.total_seconds())),
            codes_per_number=int(number("codes_per_number_per_hour", d.codes_per_number)),
            codes_per_address=int(number("codes_per_address_per_hour", d.codes_per_address)),
            sessions_per_address=int(number("sign_ins_per_address_per_hour",
                                            d.sessions_per_address)),
            pepper=str(section.get("code_pepper") or ""),
            trust_forwarded_for=as_bool(section.get("trust_forwarded_for") or False))


# -- the 429 answer ------------------------------------------------------------------------


class Throttled(CCRMError):
    """429: too many requests, or the number is locked. SPEC §10's body plus
    `retry_after` (seconds, also the Retry-After header) and `locked_until`."""

    status = 429
    code = "too_many_requests"

    def __init__(self, message: str, retry_after: timedelta,
                 fields: dict[str, Any] | None = None,
                 locked_until: datetime | None = None) -> None:
        super().__init__(message, fields)
        self.retry_after = max(1, math.ceil(retry_after.total_seconds()))
        self.locked_until = locked_until
        if locked_until is not None:
            self.code = "locked"

    def to_body(self) -> dict[str, Any]:
        body = super().to_body()
        body["error"]["retry_after"] = self.retry_after
        if self.locked_until is not None:
            body["error"]["locked_until"] = self.locked_until.isoformat()
        return body


def local_text(value: datetime, zone: tzinfo) -> str:
    """`11月27日 10:42` in the group's zone."""
    local = value.astimezone(zone)
    return f"{local.month}月{local.day}日 {local.hour:02d}:{local.minute:02d}"


def locked(until: datetime, now: datetime, zone: tzinfo) -> Throttled:
    message = (f"验证码错误次数过多，该号码已锁定至 {local_text(until, zone)}，请届时再试 "
               f"(too many wrong codes: this number is locked until "
               f"{until.astimezone(zone).isoformat()})")
    return Throttled(message, until - now, {"mobile": [message]},
                     locked_until=until.astimezone(zone))


def too_many(wait: timedelta, per_number: bool) -> Throttled:
    seconds = max(1, math.ceil(wait.total_seconds()))
    shown = f"{seconds} 秒" if seconds < 120 else f"{math.ceil(seconds / 60)} 分钟"
    message = f"操作过于频繁，请 {shown}后再试 (too many requests: try again in {seconds} s)"
    return Throttled(message, wait, {"mobile": [message]} if per_number else None)


# -- rate limits ---------------------------------------------------------------------------


def wait_for_window(times: Sequence[datetime], limit: int, window: timedelta,
                    now: datetime) -> timedelta | None:
    """How long until one more request fits `limit` per `window` (sliding),
    given the earlier requests' `times`; None when it fits now."""
    recent = sorted(t for t in times if t > now - window)
    if len(recent) < limit:
        return None
    if limit <= 0:
        return window
    return recent[-limit] + window - now


def wait_for_code(number_times: Sequence[datetime], address_times: Sequence[datetime],
                  settings: SignInSettings, now: datetime) -> Throttled | None:
    """The refusal of a new code for this number from this address, or None."""
    if number_times:
        since_last = now - max(number_times)
        if since_last < settings.resend_interval:
            return too_many(settings.resend_interval - since_last, per_number=True)
    wait = wait_for_window(number_times, settings.codes_per_number, settings.window, now)
    if wait is not None:
        return too_many(wait, per_number=True)
    wait = wait_for_window(address_times, settings.codes_per_address, settings.window, now)
    return None if wait is None else too_many(wait, per_number=False)


def wait_for_attempt(address_times: Sequence[datetime], settings: SignInSettings,
                     now: datetime) -> Throttled | None:
    wait = wait_for_window(address_times, settings.sessions_per_address, settings.window, now)
    return None if wait is None else too_many(wait, per_number=False)


# -- codes ---------------------------------------------------------------------------------


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def new_salt() -> str:
    return secrets.token_hex(16)


def code_hash(code: str, mobile: str, salt: str, pepper: str = "") -> str:
    """HMAC-SHA256 of the code with its number and salt (keyed by the optional
    `AUTH.code_pepper`): the database never holds the digits."""
    message = f"{salt}:{mobile}:{code}".encode()
    return hmac.new(pepper.encode("utf-8"), message, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class NumberState:
    """A number's row of gateway.sign_in_numbers."""

    mobile: str
    person_id: str | None = None
    code_hash: str | None = None
    code_salt: str | None = None
    code_issued_at: datetime | None = None
    code_expires_at: datetime | None = None
    failures: int = 0
    locked_until: datetime | None = None

    def current(self, now: datetime) -> NumberState:
        """As of `now`: a lock that has ended is gone, with its count."""
        if self.locked_until is not None and self.locked_until <= now:
            return replace(self, locked_until=None, failures=0)
        return self

    def locked_at(self, now: datetime) -> bool:
        return self.locked_until is not None and self.locked_until > now


def issue_code(state: NumberState | None, mobile: str, person_id: str | None, code: str,
               salt: str, now: datetime, settings: SignInSettings) -> NumberState:
    """The number's state with `code` as its one active code (the old one gone);
    the wrong tries so far still count."""
    base = (state or NumberState(mobile)).current(now)
    return replace(base, person_id=person_id,
                   code_hash=code_hash(code, mobile, salt, settings.pepper), code_salt=salt,
                   code_issued_at=now, code_expires_at=now + settings.code_ttl)


@dataclass(frozen=True)
class Verdict:
    """What a tried code gives: `ok` (sign in `person_id`), `wrong` (`left`
    tries), `locked` (until `state.locked_until`), `expired` or `none` (no
    code to try); `state` is the number's new row."""

    outcome: str
    state: NumberState
    person_id: str | None = None
    left: int = 0


def try_code(state: NumberState | None, mobile: str, code: str, now: datetime,
             settings: SignInSettings) -> Verdict:
    if state is None:
        return Verdict("none", NumberState(mobile))
    state = state.current(now)
    if state.locked_at(now):
        return Verdict("locked", state)
    if state.code_hash is None or state.code_salt is None or state.code_expires_at is None:
        return Verdict("none", state)
    if state.code_expires_at <= now:
        return Verdict("expired", replace(state, code_hash=None, code_salt=None))
    right = hmac.compare_digest(
        state.code_hash, code_hash(code, mobile, state.code_salt, settings.pepper))
    if right and state.person_id is not None:
        used = replace(state, code_hash=None, code_salt=None, failures=0, locked_until=None)
        return Verdict("ok", used, person_id=state.person_id)
    failures = state.failures + 1
    if failures >= settings.max_failures:
        locked_state = replace(state, failures=failures, locked_until=now + settings.lock,
                               code_hash=None, code_salt=None)
        return Verdict("locked", locked_state)
    return Verdict("wrong", replace(state, failures=failures),
                   left=settings.max_failures - failures)


# -- the words of the answers --------------------------------------------------------------

CODE_SENT = "如该手机号已登记，验证码已发送，{minutes} 分钟内有效 (if the number is registered, " \
            "a code was sent: valid for {minutes} min)"
WRONG = "验证码错误，还可尝试 {left} 次 (wrong code: {left} tries left)"
EXPIRED = "验证码已过期，请重新获取 (the code has expired: ask for a new one)"
NO_CODE = "请先获取验证码 (ask for a code first)"
