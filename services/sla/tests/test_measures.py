"""Art. 42 (issue 13): the quarterly analysis arms `systemic_measures` for
each head of each department it names, one deadline per department; penalty's
`measures.filed` meets them at `filed_at` (in time: met, the warning not yet
sent is cancelled, nobody is escalated to), or settles the miss (late: the
escalation to the GM stays, or is raised then if the deadline had not fired)."""
from datetime import timedelta

import pytest

from services.sla.model import ARMED, CANCELLED, MET, MISSED
from services.sla.organisation import on_analysis_issued, on_measures_filed
from services.sla.rules import Settings
from services.sla.tests.helpers import GM, Timeline, at, event
from services.sla.tests.producers import scalar, wait_until
from services.sla.tests.test_service_integration import FakeDispatch, rows_of
from shared.events.registry import schema_for
from shared.outbox import Outbox, relay_once

ISSUED = at("10:00", day=1, month=12)
DUE = ISSUED + timedelta(days=15)
Q = "2026-Q4"
ENG, MKT = "rc-gz.engineering", "rc-gz.marketing"
BOTH = "rcgz-head-both"          # heads engineering and marketing
MKT2 = "rcgz-mkt-head"           # marketing's second head


def department(code, unit_id, heads):
    return {"company_id": "rc-gz", "company_name": "广州地区公司", "department": code,
            "department_name": code, "unit_id": unit_id, "unit_name": code,
            "head_person_ids": heads, "heads": [{"person_id": h, "name": None} for h in heads],
            "complaint_count": 3, "categories": ["delivery_delay_quality"], "reasons": [],
            "why": "同类投诉3件", "named_at": ISSUED.isoformat(),
            "measures_due_at": DUE.isoformat()}


def analysis_data(departments, revision=1, issued=ISSUED):
    """analysis.issued's data as penalty publishes it (JSON)."""
    return {"quarter": Q, "revision": revision, "issued_at": issued.isoformat(),
            "complaint_count": 6, "criteria": {"category_min": 3, "repeat_room_above": 2},
            "by_category_project": [], "repeat_rooms": [], "departments": departments}


def analysis(departments, revision=1, issued=ISSUED):
    return event("analysis.issued", analysis_data(departments, revision, issued), issued,
                 complaint_id=None)


def filed_data(unit_id, code, by, heads, at_):
    """measures.filed's data as penalty publishes it (JSON)."""
    return {"quarter": Q, "unit_id": unit_id, "department": code, "company_id": "rc-gz",
            "analysis_revision": 1, "head_person_id": by, "head_person_ids": heads,
            "filed_by_name": "一把手", "filed_at": at_.isoformat(), "due_at": DUE.isoformat(),
            "late": at_ > DUE, "text": "建立交付前质量联检制度", "media_ids": []}


def filed(unit_id, code, by, heads, at_):
    return event("measures.filed", filed_data(unit_id, code, by, heads, at_), at_,
                 complaint_id=None)


def analysed(departments=None):
    t = Timeline()
    t.now = ISSUED
    t.store(on_analysis_issued(analysis(departments or [
        department("engineering", ENG, [BOTH]), department("marketing", MKT, [BOTH, MKT2])]),
        [], ISSUED, t.settings))
    return t


def apply_filed(t, ev, fire_first=True):
    if fire_first:
        t.advance_to(ev.occurred_at)
    t.now = max(t.now, ev.occurred_at)
    timers = [x for x in t.timers.values() if x.key.startswith(f"analysis:{Q}:")]
    out = on_measures_filed(ev, timers, t.now, t.settings, t.directory)
    t.store(out)
    return out


def measures(t, unit_id, head):
    return t.timers[f"analysis:{Q}:{unit_id}:{head}"]


def warnings_of(t, key):
    return [x for x in t.timers.values()
            if x.rule == "deadline_warning" and x.details.get("target") == key]


def test_one_deadline_per_department_and_head_each_warned_a_day_before():
    t = analysed()
    keys = sorted(x.key for x in t.timers.values() if x.rule == "systemic_measures")
    assert keys == [f"analysis:{Q}:{ENG}:{BOTH}", f"analysis:{Q}:{MKT}:{BOTH}",
                    f"analysis:{Q}:{MKT}:{MKT2}"]
    timer = measures(t, ENG, BOTH)
    assert timer.due_at == DUE and timer.person_id == BOTH
    [warning] = warnings_of(t, timer.key)
    assert warning.due_at == DUE - timedelta(days=1)
    # A revision naming them again arms nothing new.
    again = on_analysis_issued(analysis([department("engineering", ENG, [BOTH])], revision=2,
                                        issued=ISSUED + timedelta(days=3)),
                               list(t.timers.values()), ISSUED + timedelta(days=3), t.settings)
    assert again.arm == []


def test_filed_in_time_meets_the_department_s_deadlines_and_nobody_is_escalated():
    t = analysed()
    out = apply_filed(t, filed(MKT, "marketing", MKT2, [BOTH, MKT2], ISSUED + timedelta(days=10)))
    for head in (BOTH, MKT2):
        timer = measures(t, MKT, head)
        assert (timer.state, timer.done_at, timer.settled) == (MET, ISSUED + timedelta(days=10),
                                                               True)
        assert [w.state for w in warnings_of(t, timer.key)] == [CANCELLED]
    assert sorted(e["person_id"] for e in (x.data for x in out.events
                                           if x.type == "deadline.met")) == [BOTH, MKT2]
    # The head of both has still engineering's to file: it alone is warned and escalated.
    assert measures(t, ENG, BOTH).state == ARMED
    t.advance_to(DUE + timedelta(minutes=1))
    warned = [m for m in t.messages if m.template == "deadline_warning"]
    assert [m.recipient_person_id for m in warned] == [BOTH]
    [raised] = t.of("escalation.raised", rule="systemic_measures")
    assert raised["person_id"] == BOTH and raised["to_person_ids"] == [GM]
    assert measures(t, MKT, BOTH).state == MET


def test_filed_late_the_miss_and_its_escalation_stay():
    t = analysed([department("engineering", ENG, [BOTH])])
    t.advance_to(DUE + timedelta(hours=1))
    [raised] = t.of("escalation.raised", rule="systemic_measures")
    assert raised["to_person_ids"] == [GM]
    assert [m.recipient_person_id for m in t.messages if m.template == "escalation"] == [GM]
    assert (measures(t, ENG, BOTH).state, measures(t, ENG, BOTH).settled) == (MISSED, False)
    late = DUE + timedelta(days=2)
    apply_filed(t, filed(ENG, "engineering", BOTH, [BOTH], late))
    timer = measures(t, ENG, BOTH)
    assert (timer.state, timer.settled, timer.done_at) == (MISSED, True, late)
    assert timer.late_seconds == 2 * 86400
    assert [m["final"] for m in t.of("deadline.missed", rule="systemic_measures")] == [
        False, True]
    assert len(t.of("escalation.raised")) == 1 and not t.of("deadline.met")


def test_filed_late_before_the_deadline_fired_is_escalated_then():
    """The clock moved past the deadline and the filing reached sla before the
    firing loop ran: the miss is still escalated to the GM, once."""
    t = analysed([department("engineering", ENG, [BOTH])])
    late = DUE + timedelta(minutes=5)
    apply_filed(t, filed(ENG, "engineering", BOTH, [BOTH], late), fire_first=False)
    timer = measures(t, ENG, BOTH)
    assert (timer.state, timer.settled, timer.late_seconds) == (MISSED, True, 300)
    assert t.of("escalation.raised", rule="systemic_measures")[0]["to_person_ids"] == [GM]
    t.advance_to(DUE + timedelta(days=1))
    assert len(t.of("escalation.raised")) == 1


def test_a_deadline_armed_per_head_before_the_unit_was_in_the_key_still_works():
    """Timers armed by the old `analysis:<quarter>:<head>` keys: a revision
    naming the same department arms no second deadline, and the filing meets
    the old one."""
    t = Timeline()
    t.now = ISSUED
    old = department("engineering", ENG, [BOTH])
    del old["unit_id"]
    t.store(on_analysis_issued(analysis([old]), [], ISSUED, t.settings))
    assert [x.key for x in t.timers.values() if x.rule == "systemic_measures"] == [
        f"analysis:{Q}:{BOTH}"]
    revised = on_analysis_issued(
        analysis([department("engineering", ENG, [BOTH]), department("marketing", MKT, [BOTH])],
                 revision=2, issued=ISSUED + timedelta(days=2)),
        list(t.timers.values()), ISSUED + timedelta(days=2), Settings())
    assert [x.key for x in revised.arm if x.rule == "systemic_measures"] == [
        f"analysis:{Q}:{MKT}:{BOTH}"]
    apply_filed(t, filed(ENG, "engineering", BOTH, [BOTH], ISSUED + timedelta(days=4)))
    assert t.timers[f"analysis:{Q}:{BOTH}"].state == MET


def test_measures_for_no_deadline_are_recorded():
    t = analysed([department("engineering", ENG, [BOTH])])
    out = apply_filed(t, filed("pc-gz", "property", "pcgz-head", ["pcgz-head"],
                               ISSUED + timedelta(days=1)))
    assert out.problems[0][0] == "unknown_deadline" and not out.events


# -- through the broker: penalty's events reach sla's running container ------------------------

@pytest.mark.integration
def test_penalty_s_events_meet_one_department_and_the_other_is_escalated(
        start_sla, container_factory, sla_config, producers, sim_clock, clean_database):
    """The analysis names engineering and marketing; the head of both files
    engineering's measures on day 10 (met, its warning cancelled); marketing's
    are due on day 15, escalated to the GM, and filed on day 16 (a miss
    that stays, announced final)."""
    sim_clock.set(ISSUED)
    container_factory(FakeDispatch, sla_config).start()       # the directory: the GM
    start_sla()
    wait_until(lambda: scalar(clean_database, "SELECT version FROM sla.directory") == 3,
               what="the directory")
    publish = penalty_publisher(clean_database, producers)
    publish("analysis.issued", analysis_data([
        department("engineering", ENG, [BOTH]), department("marketing", MKT, [BOTH])]), ISSUED)
    keys = {ENG: f"analysis:{Q}:{ENG}:{BOTH}", MKT: f"analysis:{Q}:{MKT}:{BOTH}"}
    wait_until(lambda: len(rows_of(clean_database, "SELECT key FROM sla.timers WHERE rule = "
                                                   "'systemic_measures'")) == 2, what="armed")

    sim_clock.set(ISSUED + timedelta(days=10))
    publish("measures.filed", filed_data(ENG, "engineering", BOTH, [BOTH],
                                         ISSUED + timedelta(days=10)), ISSUED + timedelta(days=10))
    wait_until(lambda: state_of(clean_database, keys[ENG]) == "met", what="engineering met")
    assert rows_of(clean_database, "SELECT state FROM sla.timers WHERE rule = "
                                   f"'deadline_warning' AND key LIKE '{keys[ENG]}:%'") == [
        {"state": "cancelled"}]

    sim_clock.set(DUE - timedelta(hours=23))              # the warning a day before
    wait_until(lambda: rows_of(clean_database, "SELECT 1 FROM sla.notifications WHERE "
                                               "template = 'deadline_warning'"), what="warned")
    sim_clock.set(DUE + timedelta(minutes=1))
    wait_until(lambda: state_of(clean_database, keys[MKT]) == "missed", what="marketing missed")
    sent = wait_until(lambda: rows_of(clean_database, "SELECT recipient_person_id AS who, "
                                                      "template FROM sla.notifications WHERE "
                                                      "template IN ('escalation', "
                                                      "'deadline_warning')"))
    assert sorted((r["who"], r["template"]) for r in sent) == [(GM, "escalation"),
                                                               (BOTH, "deadline_warning")]
    sim_clock.set(DUE + timedelta(days=1))
    publish("measures.filed", filed_data(MKT, "marketing", BOTH, [BOTH], DUE + timedelta(days=1)),
            DUE + timedelta(days=1))
    wait_until(lambda: rows_of(clean_database, "SELECT 1 FROM sla.timers WHERE key = "
                                               f"'{keys[MKT]}' AND settled AND done_at IS NOT "
                                               "NULL"), what="marketing's miss final")
    row = rows_of(clean_database, f"SELECT state, late_seconds FROM sla.timers WHERE key = "
                                  f"'{keys[MKT]}'")[0]
    assert (row["state"], row["late_seconds"]) == ("missed", 86400)
    assert scalar(clean_database, "SELECT count(*) FROM sla.notifications WHERE template = "
                                  "'escalation'") == 1
    assert rows_of(clean_database, "SELECT kind, message FROM sla.event_errors") == []


def penalty_publisher(database, producers):
    outbox = Outbox("penalty", "penalty", "GZ")

    def publish(event_type, data, occurred_at):
        with database.transaction() as conn:      # JSON in, penalty's objects out
            outbox.add(conn, event_type, schema_for(event_type).load(data),
                       occurred_at=occurred_at)
        while relay_once(database, "penalty", producers.publisher):
            pass
    return publish


def state_of(database, key):
    rows = rows_of(database, f"SELECT state FROM sla.timers WHERE key = '{key}'")
    return rows[0]["state"] if rows else None
