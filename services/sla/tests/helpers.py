"""Test data for the sla tests: event data as the producers publish it (JSON,
ISO times), loaded through sla's own consumer schemas, and `Timeline`, an
in-memory run of the pure domain (arm / fire in due order / store) with the
same rules the engine's repository follows."""
import itertools
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from services.sla import domain
from services.sla.firing import fire
from services.sla.incoming import load_incoming
from services.sla.jobs import run_job
from services.sla.model import ARMED, Directory, Event, Person
from services.sla.rules import Settings
from shared import roles

ZONE = ZoneInfo("Asia/Shanghai")
CID = "C-GZ-2026-000123"
SPECIALIST = "p01-spec-1"
DEPUTY = "centre-deputy-gm"
GM = "centre-gm"
STAFF = "centre-staff-1"
HANDLER = {"person_id": "pcgz-head", "name": "物业公司一把手", "mobile": "13800000011"}
LEADERS = [{"person_id": "pcgz-vp-eng", "name": "分管工程", "mobile": "13800000012",
            "role": "supervising_leader"},
           {"person_id": "pcgz-vp-quality", "name": "分管品质", "mobile": "13800000013",
            "role": "supervising_leader"}]
CHAIRMAN = {"person_id": "pcgz-chairman", "name": "物业公司董事长", "mobile": "13800000014"}

_ids = itertools.count(1)


def at(clock, day=27, month=11, year=2026):
    """A Shanghai time: at("10:42") is 2026-11-27 10:42 +08:00."""
    hour, minute = (int(x) for x in clock.split(":")[:2])
    second = int(clock.split(":")[2]) if clock.count(":") == 2 else 0
    return datetime(year, month, day, hour, minute, second, tzinfo=ZONE)


def iso(value):
    return value.isoformat() if value is not None else None


def directory():
    people = {p.id: p for p in (
        Person(GM, "中心总经理", "13900000001", (roles.CENTRE_GM,)),
        Person(DEPUTY, "中心副总经理", "13900000002", (roles.CENTRE_DEPUTY_GM,)),
        Person(STAFF, "中心客服", "13900000003", (roles.CENTRE_STAFF,)),
        Person(SPECIALIST, "客服专员甲", "13900000004", (roles.SPECIALIST,)),
    )}
    return Directory(people, {"GZ-P01": "恒大御景半岛"}, 1)


def holder(person_id, role, start, end=None):
    return {"person_id": person_id, "role": role, "from": iso(start), "to": iso(end)}


def facts(state="order_drafted", *, contact_ended_at=None, round_started_at=None,
          first_submitted_at=None, submitted_at=None, reviewed_at=None, signed_at=None,
          holders=None, order_round=1, requested_completion_at=None, complaint_id=CID,
          **extra):
    """The ComplaintFacts every intake event carries (shared/events/intake.py)."""
    contact_ended_at = contact_ended_at or at("10:00")
    data = {
        "complaint_id": complaint_id, "project_id": "GZ-P01", "region_company_id": "rc-gz",
        "property_company_id": "pc-gz", "category": "maintenance_repair", "channel": "visit",
        "room": "3-2-1801", "state": state, "order_round": order_round,
        "specialist_id": SPECIALIST, "recorded_by": SPECIALIST,
        "recorded_at": iso(contact_ended_at + timedelta(minutes=2)),
        "contact_ended_at": iso(contact_ended_at),
        "round_started_at": iso(round_started_at or contact_ended_at),
        "requested_completion_at": iso(requested_completion_at or at("18:00", day=30)),
        "submitted_at": iso(submitted_at or first_submitted_at),
        "first_submitted_at": iso(first_submitted_at), "reviewed_at": iso(reviewed_at),
        "signed_at": iso(signed_at), "department": None, "department_reason": None,
        "escalation_level": None, "reopen_count": order_round - 1, "signature_status": "signed",
        "holders": holders if holders is not None else [
            holder(SPECIALIST, roles.SPECIALIST, contact_ended_at)],
        "actor_id": SPECIALIST, "actor_role": roles.SPECIALIST,
    }
    data.update(extra)
    return data


def event(event_type, data, occurred_at, complaint_id=CID, producer=None):
    """An event as sla's consumer sees it after loading its data."""
    return Event(event_type, f"00000000-0000-4000-8000-{next(_ids):012d}", occurred_at,
                 complaint_id, load_incoming(event_type, data), producer or "test")


def routed(signed_at, *, requested=None, handler=None, leaders=None, routed_at=None,
           major=False):
    return {"project_id": "GZ-P01", "category": "maintenance_repair", "department": "property",
            "department_overridden": False, "override_reason": None, "unit_id": "pc-gz",
            "handler": handler or HANDLER, "leaders": LEADERS if leaders is None else leaders,
            "chairman": CHAIRMAN, "cooperating_departments": ["engineering"], "major": major,
            "signed_at": iso(signed_at),
            "requested_completion_at": iso(requested or at("18:00", day=30)),
            "routed_at": iso(routed_at or signed_at)}


class Timeline:
    """The engine's behaviour in memory: one complaint's timers, events applied
    through `domain.apply_event`, timers fired in due order by `fire`."""

    def __init__(self, settings=None, directory_=None):
        self.settings = settings or Settings()
        self.directory = directory_ if directory_ is not None else directory()
        self.complaints = {}
        self.timers = {}          # key -> Timer
        self.events = []          # Emits, in order
        self.messages = []
        self.parked = []
        self.problems = []
        self.now = at("09:00")
        self.order_facts = {}

    # - applying

    def store(self, outcome):
        if outcome.complaint is not None:
            self.complaints[outcome.complaint.id] = outcome.complaint
        skipped = set()
        for timer in outcome.arm:
            if timer.key in self.timers:
                skipped.add(timer.id)
            else:
                self.timers[timer.key] = timer
        for timer in outcome.update:
            self.timers[timer.key] = timer
        self.events += [e for e in outcome.events
                        if not (e.type == "deadline.armed" and e.data["timer_id"] in skipped)]
        self.messages += outcome.messages
        self.problems += outcome.problems

    def apply(self, event_type, data, occurred_at=None, complaint_id=CID, fire_first=True):
        """Apply an event that happened at `occurred_at` (default: now); the
        clock first moves there, firing what fell due before it (unless
        `fire_first` is false: the event reached sla before the loop ran)."""
        occurred_at = occurred_at or self.now
        if occurred_at > self.now and fire_first:
            self.advance_to(occurred_at)
        ev = event(event_type, data, occurred_at, complaint_id)
        complaint = self.complaints.get(complaint_id)
        timers = [t for t in self.timers.values() if t.complaint_id == complaint_id]
        outcome = domain.apply_event(ev, complaint, timers, self.now, self.settings,
                                     self.directory)
        if outcome.park is not None:
            self.parked.append((ev, outcome.park))
        else:
            self.store(outcome)
        return outcome

    # - time

    def due(self, until):
        return sorted((t for t in self.timers.values() if t.state == ARMED and t.due_at <= until),
                      key=lambda t: (t.due_at, t.key))

    def advance_to(self, until):
        """Fire every timer due by `until`, each at its own due time (a loop
        that never lags), then stand at `until`."""
        while True:
            due = self.due(until)
            if not due:
                break
            timer = due[0]
            self.now = max(self.now, timer.due_at)
            complaint = self.complaints.get(timer.complaint_id)
            target = self.timers.get(timer.details.get("target") or "")
            self.store(fire(timer, complaint, self.now, self.settings, self.directory,
                            related=[target] if target is not None else []))
        self.now = max(self.now, until)

    def run_job(self, job, slot_day, slot_at):
        # As repository.open_complaints selects them.
        open_ = [c for c in self.complaints.values() if c.open and (
            c.routed or c.signature_status == "pending" or c.escalation_level is not None)]
        outcome = run_job(job, slot_day, slot_at, open_, self.directory, self.now,
                          self.settings)
        self.store(outcome)
        return outcome

    # - reading

    def of(self, event_type, **match):
        return [e.data for e in self.events if e.type == event_type
                and all(e.data.get(k) == v for k, v in match.items())]

    def sent(self, template, **match):
        """The messages of a template, as (recipient, text), matching params."""
        return [(m.recipient_person_id, m.text) for m in self.messages
                if m.template == template
                and all(m.params.get(k) == v for k, v in match.items())]

    def timer(self, rule, **match):
        found = [t for t in self.timers.values() if t.rule == rule
                 and all(getattr(t, k) == v if hasattr(t, k) else t.details.get(k) == v
                         for k, v in match.items())]
        assert len(found) == 1, f"{len(found)} {rule} timers match {match}"
        return found[0]

    @property
    def complaint(self):
        return self.complaints[CID]

    # - the usual path up to a signed, routed order

    def facts(self, state, **extra):
        """The facts intake's later events carry for the order signed here."""
        return facts(state, **dict(self.order_facts, **extra))

    def signed_order(self, *, contact="10:00", submitted="10:20", reviewed="10:40",
                     signed="10:50", requested=None, routed_data=None):
        """Received at `contact`, submitted, reviewed, signed and routed."""
        c0, s, r, g = at(contact), at(submitted), at(reviewed), at(signed)
        self.apply("complaint.received", facts(contact_ended_at=c0, resolved_on_spot=False,
                                               signature_media_id=None), c0)
        spec = holder(SPECIALIST, roles.SPECIALIST, c0, s)
        self.apply("order.submitted", facts("order_submitted", contact_ended_at=c0,
                                            first_submitted_at=s, resubmitted=False,
                                            holders=[spec, holder(DEPUTY, roles.CENTRE_DEPUTY_GM,
                                                                  s)]), s)
        deputy = holder(DEPUTY, roles.CENTRE_DEPUTY_GM, s, r)
        self.apply("order.reviewed", facts("order_reviewed", contact_ended_at=c0,
                                           first_submitted_at=s, reviewed_at=r,
                                           holders=[spec, deputy,
                                                    holder(GM, roles.CENTRE_GM, r)]), r)
        signed_holders = [spec, deputy, holder(GM, roles.CENTRE_GM, r, g)]
        self.order_facts = dict(contact_ended_at=c0, first_submitted_at=s, reviewed_at=r,
                                signed_at=g, holders=signed_holders,
                                requested_completion_at=requested)
        self.apply("order.signed", self.facts("order_signed", department_overridden=False), g)
        self.apply("complaint.routed", routed_data or routed(g, requested=requested), g)
        return self
