"""SPEC §4 rows order_submit, order_sign, handler_notified (Art. 14, 18, 19):
pure domain, worked examples on a timeline that fires timers at their due time."""
from datetime import timedelta

from services.sla.tests.helpers import (
    CID,
    DEPUTY,
    GM,
    HANDLER,
    SPECIALIST,
    Timeline,
    at,
    facts,
    holder,
    routed,
)
from shared import roles


def received(t, contact="10:00"):
    t.apply("complaint.received", facts(contact_ended_at=at(contact), resolved_on_spot=False,
                                        signature_media_id=None), at(contact))


def submit(t, when, contact="10:00", **extra):
    s = at(when)
    t.apply("order.submitted", facts(
        "order_submitted", contact_ended_at=at(contact), first_submitted_at=s, resubmitted=False,
        holders=[holder(SPECIALIST, roles.SPECIALIST, at(contact), s),
                 holder(DEPUTY, roles.CENTRE_DEPUTY_GM, s)], **extra), s)


def test_order_submit_missed_by_12_minutes_charged_to_the_specialist():
    """Contact ended 10:00, submitted 10:42: due 10:30, missed by 12 min."""
    t = Timeline()
    received(t)
    armed = t.of("deadline.armed", rule="order_submit")
    assert armed[0]["due_at"] == at("10:30") and armed[0]["person_id"] == SPECIALIST
    submit(t, "10:42")
    missed = t.of("deadline.missed", rule="order_submit")
    # Announced at 10:30 while not done, then final with the whole lateness.
    assert [(m["final"], m["late_seconds"], m["done_at"]) for m in missed] == [
        (False, 0, None), (True, 12 * 60, at("10:42"))]
    assert all(m["person_id"] == SPECIALIST and m["role"] == roles.SPECIALIST for m in missed)
    assert missed[-1]["article"] == "14, 18"
    assert t.timer("order_submit").state == "missed" and t.timer("order_submit").settled


def test_order_submit_in_time_is_met():
    t = Timeline()
    received(t)
    submit(t, "10:29")
    assert t.of("deadline.met", rule="order_submit")[0]["done_at"] == at("10:29")
    assert not t.of("deadline.missed", rule="order_submit")


def test_order_submit_one_second_late_is_late():
    t = Timeline()
    received(t)
    s = at("10:30:01")
    # The event reaches sla before the loop fired the 10:30 deadline.
    t.apply("order.submitted", facts("order_submitted", first_submitted_at=s, resubmitted=False,
                                     holders=[holder(SPECIALIST, roles.SPECIALIST, at("10:00"), s),
                                              holder(DEPUTY, roles.CENTRE_DEPUTY_GM, s)]), s,
            fire_first=False)
    [missed] = t.of("deadline.missed", rule="order_submit")
    assert missed["late_seconds"] == 1 and missed["final"]


def test_order_sign_lateness_split_between_deputy_gm_and_gm():
    """Submitted 10:20 (due 11:20); the deputy GM reviews at 11:35 and the GM
    signs at 11:50: each is charged for their own 15 minutes."""
    t = Timeline()
    received(t)
    submit(t, "10:20")
    spec = holder(SPECIALIST, roles.SPECIALIST, at("10:00"), at("10:20"))
    deputy = holder(DEPUTY, roles.CENTRE_DEPUTY_GM, at("10:20"), at("11:35"))
    t.apply("order.reviewed", facts("order_reviewed", first_submitted_at=at("10:20"),
                                    reviewed_at=at("11:35"),
                                    holders=[spec, deputy, holder(GM, roles.CENTRE_GM,
                                                                  at("11:35"))]), at("11:35"))
    # At 11:20 the deputy GM held it: the open miss named them.
    [open_miss] = t.of("deadline.missed", rule="order_sign", final=False)
    assert open_miss["person_id"] == DEPUTY and open_miss["done_at"] is None
    t.apply("order.signed", facts("order_signed", first_submitted_at=at("10:20"),
                                  reviewed_at=at("11:35"), signed_at=at("11:50"),
                                  department_overridden=False,
                                  holders=[spec, deputy, holder(GM, roles.CENTRE_GM, at("11:35"),
                                                                at("11:50"))]), at("11:50"))
    final = t.of("deadline.missed", rule="order_sign", final=True)
    assert [(m["person_id"], m["role"], m["late_seconds"]) for m in final] == [
        (DEPUTY, roles.CENTRE_DEPUTY_GM, 15 * 60), (GM, roles.CENTRE_GM, 15 * 60)]
    assert final[0]["holder_intervals"] == [
        {"from": at("11:20"), "to": at("11:35"), "late_seconds": 900}]
    assert {m["timer_id"] for m in final} == {t.timer("order_sign").id}


def test_order_sign_rejection_keeps_the_clock_and_charges_each_holder_their_own_minutes():
    """Due 11:20. Deputy holds to 11:30 and rejects; the specialist holds it
    11:30-11:40; the deputy again 11:40-11:45; the GM signs at 11:55."""
    t = Timeline()
    received(t)
    submit(t, "10:20")
    holders = [holder(SPECIALIST, roles.SPECIALIST, at("10:00"), at("10:20")),
               holder(DEPUTY, roles.CENTRE_DEPUTY_GM, at("10:20"), at("11:30")),
               holder(SPECIALIST, roles.SPECIALIST, at("11:30"), at("11:40")),
               holder(DEPUTY, roles.CENTRE_DEPUTY_GM, at("11:40"), at("11:45")),
               holder(GM, roles.CENTRE_GM, at("11:45"), at("11:55"))]
    t.apply("order.signed", facts("order_signed", first_submitted_at=at("10:20"),
                                  submitted_at=at("11:40"), reviewed_at=at("11:45"),
                                  signed_at=at("11:55"), holders=holders,
                                  department_overridden=False), at("11:55"))
    final = {m["person_id"]: m for m in t.of("deadline.missed", rule="order_sign", final=True)}
    assert {p: m["late_seconds"] for p, m in final.items()} == {
        DEPUTY: 900, SPECIALIST: 600, GM: 600}
    assert len(final[DEPUTY]["holder_intervals"]) == 2
    assert sum(m["late_seconds"] for m in final.values()) == 35 * 60   # 11:20 -> 11:55


def test_order_sign_in_time_is_met_by_the_gm():
    t = Timeline().signed_order(submitted="10:20", reviewed="10:40", signed="11:10")
    [met] = t.of("deadline.met", rule="order_sign")
    assert met["person_id"] == GM and met["done_at"] == at("11:10")


def test_handler_notified_at_once_when_routed():
    t = Timeline().signed_order(signed="10:50")
    [sms] = [m for m in t.messages if m.template == "order_dispatched"]
    assert sms.recipient_person_id == HANDLER["person_id"] and sms.mobile == HANDLER["mobile"]
    assert sms.text.startswith("【恒大售后】")
    assert (f"客户投诉督办令 {CID}（恒大御景半岛，房号3-2-1801）已签发，"
            "请于1小时内上门回访") in sms.text
    notified = t.timer("handler_notified")
    assert notified.state == "met" and notified.person_id == HANDLER["person_id"]
    # A duplicated routing sends nothing more.
    t.apply("complaint.routed", routed(at("10:50")), at("10:51"))
    assert len([m for m in t.messages if m.template == "order_dispatched"]) == 1


def test_a_duplicated_intake_event_changes_nothing():
    t = Timeline()
    received(t)
    submit(t, "10:42")
    before = (list(t.events), dict(t.timers))
    submit(t, "10:42")
    assert t.events == before[0] and t.timers == before[1]


def test_an_older_snapshot_arriving_late_changes_nothing():
    t = Timeline().signed_order()
    before = (len(t.events), t.complaint)
    # order.submitted (10:20) delivered again after order.signed
    submit(t, "10:20")
    assert len(t.events) == before[0] and t.complaint.signed_at == before[1].signed_at


def test_resolved_on_the_spot_arms_nothing():
    t = Timeline()
    t.apply("complaint.received", facts("closed", resolved_on_spot=True, signature_media_id=None,
                                        holders=[]), at("10:00"))
    assert t.timers == {} and t.complaint.closed


def test_reopened_complaint_starts_a_new_round_from_the_reopen():
    t = Timeline().signed_order()
    t.apply("complaint.closed", t.facts("closed", closed_at=at("12:00", day=28).isoformat(),
                                        application_id=None, by=GM, satisfaction=None),
            at("12:00", day=28))
    reopened = at("09:00", day=29)
    t.apply("complaint.reopened", facts("order_drafted", order_round=2, round_started_at=reopened,
                                        reason="客户再次投诉",
                                        holders=[holder(SPECIALIST, roles.SPECIALIST, reopened)]),
            reopened)
    submit_round2 = [x for x in t.timers.values() if x.rule == "order_submit"
                     and x.order_round == 2]
    assert submit_round2[0].due_at == reopened + timedelta(minutes=30)
    assert t.complaint.order_round == 2 and not t.complaint.closed
