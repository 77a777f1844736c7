"""A complaint's whole life driven through the gateway's HTTP API, as the
people of the demo organisation would: record (with the customer's desk
signature) -> the order's approval chain (sign) -> the handler's visit ->
progress -> closure application -> verification, review and approval.

Used by the fault test (`python -m scripts.fault_test`) and the load benchmark
(`python -m benchmarks.complaint_life`). Standard library + requests only.

Every call that changes something carries an `Idempotency-Key`, and is
retried with the same key, on another gateway, while gateways or services are
down (connection refused, 502/503/504, "still being processed"). A state step
whose retry is refused because the first attempt did take effect (its answer
was lost with a killed process) is recognised from the complaint's page.
"""
import itertools
import json
import threading
import time
import uuid
from datetime import datetime, timedelta

import requests

from scripts.png import tiny_png

# What a person does, one label per HTTP call of a life (`clock`, the
# simulation clock read, is the driver's bookkeeping, not a person's click).
CALLS = ("record", "upload", "submit", "review", "sign", "visit", "progress", "apply",
         "verify", "review_closure", "approve", "page")
BOOKKEEPING_CALLS = ("clock",)
# The asynchronous hops a life waits on: the order's last signature -> the
# complaint routed (dispatch), the closure application -> intake's state.
HOPS = ("routed", "applied")
# The order of a complaint's states (services/intake/domain.py).
STATES = ("order_drafted", "order_submitted", "order_reviewed", "order_signed",
          "closure_applied", "closure_verified", "closure_reviewed", "closed")
STEPS = ("record", "sign", "routed", "visit", "progress", "apply", "close")
RETRY_STATUSES = {502, 503, 504}
PROJECT = "GZ-P01"
# Services cache the simulation clock for a moment while a test races it ahead
# (minutes per second): a time this far in the past is past for all of them.
CLOCK_SKEW = timedelta(minutes=30)


class GaveUp(Exception):
    """A call did not succeed within the driver's patience."""


class StepRefused(Exception):
    """The gateway refused a step for a reason a retry cannot fix."""

    def __init__(self, step, status, body):
        super().__init__(f"{step}: HTTP {status}: {body[:300]}")
        self.step, self.status, self.body = step, status, body


class People:
    """Tokens of the demo organisation (var/demo-tokens.json), by person id and role."""

    def __init__(self, entries):
        self.entries = list(entries)
        self.by_id = {e["person_id"]: e["token"] for e in self.entries}

    @classmethod
    def load(cls, path):
        with open(path, encoding="utf-8") as f:
            return cls(json.load(f))

    def first(self, role, project=None):
        for e in self.entries:
            if role in e["roles"] and (project is None or project in e.get("project_ids", [])):
                return e["person_id"]
        raise LookupError(f"no {role} in the tokens file")

    def token(self, person_id):
        return self.by_id[person_id]


class Gateways:
    """The gateways' base URLs, taken in turn; a failed call moves to the next."""

    def __init__(self, urls, patience=180.0, timeout=30.0):
        self.urls = list(urls)
        self._next = itertools.cycle(range(len(self.urls)))
        self._lock = threading.Lock()
        self.patience, self.timeout = patience, timeout
        self.retries = 0
        self._local = threading.local()

    def _session(self):
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
        return session

    def _url(self):
        with self._lock:
            return self.urls[next(self._next)]

    def call(self, method, path, token, json_body=None, files=None, data=None, key=None):
        """(status, parsed body) of the first answer that is not a transient failure."""
        started = time.monotonic()
        headers = {"Authorization": f"Bearer {token}"}
        if key is not None:
            headers["Idempotency-Key"] = key
        delay = 0.2
        while True:
            try:
                response = self._session().request(
                    method, self._url() + path, json=json_body, files=files, data=data,
                    headers=headers, timeout=self.timeout)
                transient = (response.status_code in RETRY_STATUSES
                             or (response.status_code == 409 and "正在处理" in response.text))
                if not transient:
                    return response.status_code, _parsed(response)
                why = f"HTTP {response.status_code}"
            except requests.RequestException as exc:
                why = type(exc).__name__
            with self._lock:
                self.retries += 1
            if time.monotonic() - started > self.patience:    # read each time: may be cut
                raise GaveUp(f"{method} {path}: still failing after {self.patience:.0f}s ({why})")
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def _parsed(response):
    try:
        return response.json()
    except ValueError:
        return {"raw": response.text[:500]}


class Timings:
    """Seconds each step took (first try to success), by step."""

    def __init__(self):
        self._lock = threading.Lock()
        self.by_step = {step: [] for step in STEPS}

    def add(self, step, seconds):
        with self._lock:
            self.by_step.setdefault(step, []).append(seconds)


def backoff(first, cap):
    """Pauses between polls: `first` s, doubling, then `cap` s each time
    (backoff(0.01, 0.2): 0.01, 0.02, 0.04, 0.08, 0.16, 0.2, 0.2, ...)."""
    delay = first
    while True:
        yield min(delay, cap)
        delay = min(delay * 2, cap)


class ComplaintLife:
    """One complaint from recording to closure; `progress` says how far it got.

    `calls`: (label, seconds) of every HTTP call, by what the person does
    (CALLS; `clock` is the driver's own bookkeeping), retries included, in
    order. `hops`: {hop: (upper, lower)} seconds from the call that set an
    asynchronous step going (the order's last signature, the closure
    application) to the first page showing its effect: at most `upper` (the
    end of the first GET that showed it), at least `lower` (the start of the
    last GET that did not). The waits poll after `first_poll` s, doubling up
    to `poll` s (default: every `poll` s, as the fault test always did)."""

    def __init__(self, gateways, people, tag, timings=None, project=PROJECT, poll=0.2,
                 wait_seconds=180.0, first_poll=None):
        self.gw, self.people, self.tag = gateways, people, tag
        self.timings = timings or Timings()
        self.project, self.poll, self.wait_seconds = project, poll, wait_seconds
        self.first_poll = poll if first_poll is None else first_poll
        self.calls = []
        self.hops = {}
        self._set_going = None
        self.specialist = people.first("specialist", project)
        self.deputy = people.first("centre_deputy_gm")
        self.gm = people.first("centre_gm")
        self.staff = people.first("centre_staff")
        self.admin = people.first("admin")
        self.room = f"F-{tag}"
        self.complaint_id = None
        self.handler = None
        self.signed_at = None
        self.done_steps = []

    # -- the life --------------------------------------------------------------------

    def run(self, upto=STEPS[-1]):
        for step in STEPS:
            started = time.monotonic()
            getattr(self, f"_{step}")()
            self.timings.add(step, time.monotonic() - started)
            self.done_steps.append(step)
            if step == upto:
                return self

    def _record(self):
        signature = self._upload(self.specialist, "signature")
        now = self.now()
        form = {"project_id": self.project, "room": self.room, "customer_name": "王小明",
                "customer_phone": "13812345678", "channel": "visit",
                "demand": "客厅天花板漏水，要求一周内修复。", "category": "maintenance_repair",
                "requested_completion_at": (now + timedelta(days=7)).isoformat(),
                "contact_ended_at": (now - CLOCK_SKEW).isoformat(),
                "resolved_on_spot": False, "customer_signature_media_id": signature}
        body = self._post("record", self.specialist, "/api/complaints", form)
        self.complaint_id = body["id"]

    def _sign(self):
        cid = self.complaint_id
        self._state_step("submit", self.specialist, f"/api/complaints/{cid}/order/submit",
                         None, "order_submitted")
        self._state_step("review", self.deputy, f"/api/complaints/{cid}/order/review",
                         {"decision": "approve"}, "order_reviewed")
        self._state_step("sign", self.gm, f"/api/complaints/{cid}/order/sign",
                         {"decision": "approve", "reason": "同意"}, "order_signed")
        self._set_going = time.monotonic()

    def _routed(self):
        page = self._wait_for("routed", lambda p: p.get("handler_id") and p.get("dispatch")
                              and p["dispatch"].get("state") == "routed")
        self.handler = page["responsibility"]["handler"]["person_id"]
        self.signed_at = datetime.fromisoformat(page["dispatch"]["signed_at"])

    def _visit(self):
        cid, now = self.complaint_id, self.now()
        visited_at = max(now - CLOCK_SKEW, self.signed_at)
        body = {"outcome": "done", "visited_at": visited_at.isoformat(),
                "plan": "更换防水层并修补天花板",
                "agreed_completion_at": (now + timedelta(days=3)).isoformat(),
                "customer_signature_media_id": self._upload(self.handler, "signature", cid),
                "photo_media_ids": [self._upload(self.handler, "photo", cid, stage="before")]}
        self._post("visit", self.handler, f"/api/complaints/{cid}/visits", body)

    def _progress(self):
        self._post("progress", self.handler, f"/api/complaints/{self.complaint_id}/progress",
                   {"note": "防水层已更换，待干燥"})

    def _apply(self):
        cid = self.complaint_id
        body = {"material_media_ids": [self._upload(self.handler, "material", cid)],
                "customer_signature_media_id": self._upload(self.handler, "signature", cid)}
        status, answer = self._send("apply", self.handler, f"/api/complaints/{cid}/closure/apply",
                                    body)
        if status not in (200, 201) and not (status == 409 and self._page().get("closure")):
            raise StepRefused("apply", status, json.dumps(answer, ensure_ascii=False))
        self._set_going = time.monotonic()
        self._wait_for("applied", lambda p: p["state"] in STATES[STATES.index("closure_applied"):])

    def _close(self):
        cid = self.complaint_id
        self._state_step("verify", self.specialist, f"/api/complaints/{cid}/closure/verify",
                         {"satisfaction": 5, "comment": "客户确认已修好"}, "closure_verified")
        self._state_step("review_closure", self.deputy, f"/api/complaints/{cid}/closure/review",
                         {"decision": "approve"}, "closure_reviewed")
        self._state_step("approve", self.gm, f"/api/complaints/{cid}/closure/approve",
                         {"decision": "approve", "reason": "同意结案"}, "closed")

    # -- calls -------------------------------------------------------------------------

    def _call(self, label, method, path, token, **kwargs):
        """gateways.call, timed under `label` (first try to answer, retries included)."""
        started = time.monotonic()
        try:
            return self.gw.call(method, path, token, **kwargs)
        finally:
            self.calls.append((label, time.monotonic() - started))

    def now(self):
        status, body = self._call("clock", "GET", "/api/admin/clock",
                                  self.people.token(self.admin))
        if status != 200:
            raise StepRefused("clock", status, json.dumps(body, ensure_ascii=False))
        return datetime.fromisoformat(body["now"])

    def _send(self, label, person, path, body):
        return self._call(label, "POST", path, self.people.token(person), json_body=body,
                          key=str(uuid.uuid4()))

    def _post(self, step, person, path, body):
        status, answer = self._send(step, person, path, body)
        if status not in (200, 201):
            raise StepRefused(step, status, json.dumps(answer, ensure_ascii=False))
        return answer

    def _state_step(self, step, person, path, body, reached):
        """A step of intake's state machine; a refusal after the step did take
        effect (its first answer was lost) counts as done."""
        status, answer = self._send(step, person, path, body)
        if status in (200, 201):
            return answer
        if status in (400, 409) and self._at_least(self._page()["state"], reached):
            return None
        raise StepRefused(step, status, json.dumps(answer, ensure_ascii=False))

    @staticmethod
    def _at_least(state, reached):
        return state in STATES and STATES.index(state) >= STATES.index(reached)

    def _upload(self, person, kind, complaint_id=None, **fields):
        data = {"kind": kind, **fields}
        if complaint_id:
            data["complaint_id"] = complaint_id
        status, body = self._call("upload", "POST", "/api/media", self.people.token(person),
                                  data=data,
                                  files={"file": (f"{kind}.png", tiny_png(), "image/png")})
        if status != 201:
            raise StepRefused(f"upload {kind}", status, json.dumps(body, ensure_ascii=False))
        return body["id"]

    def _page(self):
        status, body = self._call("page", "GET", f"/api/complaints/{self.complaint_id}",
                                  self.people.token(self.staff))
        if status != 200:
            raise StepRefused("page", status, json.dumps(body, ensure_ascii=False))
        return body

    def _wait_for(self, what, check):
        """The first page that passes `check`, polled with a back-off; the hop
        from self._set_going (when set) to it goes into self.hops[what]."""
        limit = time.monotonic() + self.wait_seconds
        pauses = backoff(self.first_poll, self.poll)
        since, self._set_going = self._set_going, None
        lower = since
        while True:
            asked = time.monotonic()
            page = self._page()
            if check(page):
                if since is not None:
                    self.hops[what] = (time.monotonic() - since, lower - since)
                return page
            lower = asked
            if time.monotonic() > limit:
                raise GaveUp(f"{self.complaint_id}: not {what} after {self.wait_seconds:.0f}s "
                             f"(state {page.get('state')}, dispatch "
                             f"{(page.get('dispatch') or {}).get('state')})")
            time.sleep(next(pauses))
