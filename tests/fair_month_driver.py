"""The people of issue 13's month (tests/test_fair_month.py) acting through
the gateway's HTTP API, and the running clock that stops at every timer on
the way."""
import time
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from services.media.tests import samples
from services.sla.calendar import latest_slot
from services.sla.incoming import INCOMING
from services.sla.rules import DAILY_JOBS, Settings
from shared.config import REPO_ROOT

ZONE = ZoneInfo("Asia/Shanghai")
DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
PEOPLE = {"spec": "p01-spec-1", "spec2": "p01-spec-2", "deputy": "centre-deputy-gm",
          "gm": "centre-gm", "staff": "centre-staff-1", "admin": "admin-1", "hr": "hr-1",
          "finance": "fin-1", "prop": "pcgz-head", "mkt": "rcgz-mkt-head",
          "chairman": "pcgz-chairman"}
START = "2026-11-02 07:00"
# Daily slots the clock stops at (every job's time; 00:00 on the 1st too).
SLOTS = ((8, 30), (9, 0), (9, 30), (18, 30))
# What penalty charges from (sla's events it consumes).
CHARGED_FROM = ("deadline.missed", "deadline.met", "deadline.withdrawn", "deadline.cancelled",
                "overdue.accrued", "overdue.withdrawn", "overdue.sanction_due")


def at(text):
    return datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZONE)


def until(probe, what, timeout=30.0):
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"not reached in {timeout}s: {what}")


class Api:
    def __init__(self, base, token):
        self.base, self.token = base, token

    def call(self, method, path, json=None, **kwargs):
        return requests.request(method, self.base + path, json=json, timeout=30,
                                headers={"Authorization": f"Bearer {self.token}"}, **kwargs)

    def get(self, path, **params):
        response = self.call("GET", path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path, json=None):
        response = self.call("POST", path, json=json)
        assert response.status_code in (200, 201), f"{path}: {response.text}"
        return response.json()

    def upload(self, kind, complaint_id=None):
        content, name = (samples.PDF, "f.pdf") if kind in ("material", "minutes") \
            else (samples.PNG, "f.png")
        data = {"kind": kind, **({"complaint_id": complaint_id} if complaint_id else {})}
        response = self.call("POST", "/api/media", data=data,
                             files={"file": (name, content, "application/octet-stream")})
        assert response.status_code == 201, response.text
        return response.json()["id"]


class Month:
    """The people's actions, and the clock moved like a running one."""

    def __init__(self, api, database):
        self.api, self.db = api, database
        self.now = at(START)
        self.ids = {}            # complaint key (A..J) -> id
        self.settings = Settings()

    # -- the clock ---------------------------------------------------------------------

    def run_to(self, text):
        """Move the clock to `text`, stopping at every armed timer and daily slot
        on the way, each time until sla has fired all that is due."""
        target = at(text)
        assert target >= self.now, f"the clock goes forward only ({text})"
        while True:
            stop = min(filter(None, (self._next_timer(target), self._next_slot(target))),
                       default=None)
            if stop is None:
                break
            self._set(stop)
        self._set(target)

    def _set(self, when):
        self.api["admin"].post("/api/admin/clock", {"now": when.isoformat()})
        self.now = when
        self.settle()

    def _next_timer(self, target):
        with self.db.connection() as conn:
            return conn.execute("SELECT min(due_at) AS due FROM sla.timers WHERE state = 'armed' "
                                "AND due_at > %s AND due_at <= %s",
                                (self.now, target)).fetchone()["due"]

    def _next_slot(self, target):
        day = self.now.date()
        while True:
            times = [(0, 0)] + list(SLOTS) if day.day == 1 else list(SLOTS)
            for hour, minute in times:
                slot = datetime(day.year, day.month, day.day, hour, minute, tzinfo=ZONE)
                if self.now < slot <= target:
                    return slot
                if slot > target:
                    return None
            day += timedelta(days=1)

    def settle(self):
        """sla has applied every event sent to it, fired every timer due and run
        every daily slot up to now."""
        slots = [(job, latest_slot(job, self.now, self.settings)[0]) for job in DAILY_JOBS]
        types = list(INCOMING)

        def settled():
            with self.db.connection() as conn:
                unapplied = conn.execute(
                    """SELECT count(*) AS n FROM (
                         SELECT event_id, routing_key FROM intake.outbox
                         UNION ALL SELECT event_id, routing_key FROM dispatch.outbox
                         UNION ALL SELECT event_id, routing_key FROM penalty.outbox) o
                       WHERE o.routing_key = ANY(%s) AND NOT EXISTS (
                         SELECT 1 FROM sla.inbox i WHERE i.event_id = o.event_id)""",
                    (types,)).fetchone()["n"]
                due = conn.execute("SELECT count(*) AS n FROM sla.timers WHERE state = 'armed' "
                                   "AND due_at <= %s", (self.now,)).fetchone()["n"]
                ran = conn.execute("SELECT count(*) AS n FROM sla.daily_jobs WHERE "
                                   "(job, slot) IN (SELECT * FROM unnest(%s::text[], %s::date[]))",
                                   ([j for j, _ in slots], [d for _, d in slots])).fetchone()["n"]
            return unapplied == 0 and due == 0 and ran == len(slots)
        until(settled, f"sla settled at {self.now}")

    def penalty_caught_up(self):
        def caught_up():
            with self.db.connection() as conn:
                return conn.execute(
                    """SELECT count(*) AS n FROM sla.outbox o WHERE o.routing_key = ANY(%s)
                       AND NOT EXISTS (SELECT 1 FROM penalty.inbox i
                                       WHERE i.event_id = o.event_id)""",
                    (list(CHARGED_FROM),)).fetchone()["n"] == 0
        until(caught_up, "penalty has every deadline event")

    # -- acts ---------------------------------------------------------------------------

    def act(self, when, who, path, body=None):
        """At `when`, `who` posts to the complaint's (or another) route; sla has
        applied what it caused before the clock moves on."""
        self.run_to(when)
        answer = self.api[who].post(path, body)
        self.settle()
        return answer

    def record(self, key, when, who="spec", *, category="maintenance_repair",
               requested="2026-11-30 17:00", channel="visit", on_spot=False):
        self.run_to(when)
        signature = self.api[who].upload("signature") if channel == "visit" else None
        body = {"project_id": "GZ-P01", "room": f"{ord(key) - 64}-1-{1800 + ord(key)}",
                "customer_name": "王小明", "customer_phone": "13812345678",
                "channel": channel, "demand": "客厅天花板漏水，要求尽快修复。",
                "category": category, "requested_completion_at": at(requested).isoformat(),
                "contact_ended_at": at(when).isoformat(), "resolved_on_spot": on_spot,
                "customer_signature_media_id": signature}
        self.ids[key] = self.api[who].post("/api/complaints", body)["id"]
        self.settle()
        return self.ids[key]

    def path(self, key, tail):
        return f"/api/complaints/{self.ids[key]}/{tail}"

    def order(self, key, submit, review, sign):
        self.act(submit, "spec", self.path(key, "order/submit"))
        self.act(review, "deputy", self.path(key, "order/review"), {"decision": "approve"})
        self.act(sign, "gm", self.path(key, "order/sign"), {"decision": "approve",
                                                            "reason": "同意"})
        until(lambda: self._timer(key, "visit"), f"{key} routed")

    def visit(self, key, when, agreed, who="prop"):
        self.run_to(when)
        cid = self.ids[key]
        answer = self.api[who].post(self.path(key, "visits"), {
            "outcome": "done", "visited_at": at(when).isoformat(), "plan": "更换防水层并复查",
            "agreed_completion_at": at(agreed).isoformat(),
            "customer_signature_media_id": self.api[who].upload("signature", cid),
            "photo_media_ids": []})
        self.settle()
        return answer

    def progress(self, key, when, who):
        return self.act(when, who, self.path(key, "progress"), {"note": "今日已安排施工队处理"})

    def close(self, key, applied, who="prop"):
        self.run_to(applied)
        cid = self.ids[key]
        self.api[who].post(self.path(key, "closure/apply"), {
            "material_media_ids": [self.api[who].upload("material", cid)],
            "customer_signature_media_id": self.api[who].upload("signature", cid)})
        self.settle()
        verify = (at(applied) + timedelta(minutes=10)).strftime("%Y-%m-%d %H:%M")
        self.act(verify, "spec", self.path(key, "closure/verify"),
                 {"satisfaction": 5, "comment": "客户确认已处理"})
        self.act(verify, "deputy", self.path(key, "closure/review"), {"decision": "approve"})
        self.act(verify, "gm", self.path(key, "closure/approve"),
                 {"decision": "approve", "reason": "同意结案"})

    def _timer(self, key, rule):
        with self.db.connection() as conn:
            return conn.execute("SELECT * FROM sla.timers WHERE complaint_id = %s AND rule = %s",
                                (self.ids[key], rule)).fetchone()

    # -- what was sent and charged --------------------------------------------------------

    def notifications(self):
        items, page = [], 1
        while True:
            got = self.api["admin"].get("/api/notifications", page=page, page_size=200)
            items += got["items"]
            if len(items) >= got["total"]:
                return items
            page += 1

    def key_of(self, complaint_id):
        return next(k for k, v in self.ids.items() if v == complaint_id)
