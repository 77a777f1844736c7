"""Claims (Art. 34) and major-complaint meetings (Art. 33). Pure."""
from datetime import timedelta
from decimal import Decimal

import pytest

from services.dispatch import claims, meetings
from services.dispatch.tests.casework import NOW, media, routed_case, staff
from shared.contracts.dispatch.forms import (
    ClaimDecisionForm,
    ClaimForm,
    ClaimReportForm,
    MeetingForm,
    MinutesForm,
)
from shared.errors import Conflict, Forbidden, InvalidInput
from shared.validation import load_input as load

REPORT = "M-GZ-" + "c" * 32
MINUTES = "M-GZ-" + "d" * 32
MEDIA = {REPORT: media(REPORT, "report"), MINUTES: media(MINUTES, "minutes")}


def claim_form(amount="5000.00", description="漏水损坏家具，要求赔偿"):
    return load(ClaimForm(), {"amount_claimed": amount, "description": description})


def decision(decision="approve", amount_granted="3000", note=None):
    return load(ClaimDecisionForm(), {"decision": decision, "amount_granted": amount_granted,
                                      "note": note})


@pytest.fixture
def case(demo_directory):
    return routed_case(demo_directory, project_id="GZ-P01", category="sales_contract")


@pytest.fixture
def who(demo_directory):
    return lambda person_id: staff(demo_directory, person_id)


def raised(case, who, by="rcgz-mkt-head"):
    return claims.raise_claim(case, who(by), claim_form(), NOW, f"{case.id}-CL1").result


def reported(case, who, at=NOW):
    return claims.report_claim(case, raised(case, who), who("rcgz-mkt-head"),
                               load(ClaimReportForm(), {"report_text": "经核实，同意部分赔偿"}),
                               at, MEDIA).result


def test_raising_a_claim(case, who):
    outcome = claims.raise_claim(case, who("p01-spec-1"), claim_form(), NOW, f"{case.id}-CL1")
    claim = outcome.result
    assert (claim.status, claim.amount_claimed, claim.head_person_id) == (
        "raised", Decimal("5000.00"), "rcgz-mkt-head")
    assert claim.report_due_at == NOW + timedelta(days=3)
    [(event_type, data)] = outcome.events
    assert event_type == "claim.raised"
    assert (data["amount_claimed"], data["head_person_id"], data["major"]) == (
        Decimal("5000.00"), "rcgz-mkt-head", False)


@pytest.mark.parametrize("person_id", ["rcgz-mkt-head", "p01-spec-2", "centre-staff-1"])
def test_the_department_the_desk_or_the_centre_may_raise_a_claim(case, who, person_id):
    assert raised(case, who, person_id).raised_by == person_id


@pytest.mark.parametrize("person_id", ["rcgz-eng-head", "p03-spec-1", "hr-1"])
def test_others_may_not_raise_a_claim(case, who, person_id):
    with pytest.raises(Forbidden):
        raised(case, who, person_id)


@pytest.mark.parametrize("amount, fragment", [
    ("0", "more than 0"), ("-5", "more than 0"), ("1.005", "2 decimals"), ("abc", "amount"),
])
def test_bad_amounts_are_refused(amount, fragment):
    with pytest.raises(InvalidInput) as caught:
        claim_form(amount=amount)
    assert fragment in caught.value.fields["amount_claimed"][0]


def test_only_the_head_of_the_first_department_reports(case, who):
    claim = raised(case, who)
    form = load(ClaimReportForm(), {"report_text": "报告"})
    for other in ("rcgz-vp-mkt", "rcgz-chairman", "p01-spec-1"):
        with pytest.raises(Forbidden):
            claims.report_claim(case, claim, who(other), form, NOW, MEDIA)
    outcome = claims.report_claim(case, claim, who("rcgz-mkt-head"), form, NOW, MEDIA)
    assert outcome.result.status == "reported" and outcome.events[0][1]["late"] is False
    with pytest.raises(Conflict):
        claims.report_claim(case, outcome.result, who("rcgz-mkt-head"), form, NOW, MEDIA)


def test_a_late_report_is_accepted_and_flagged(case, who):
    claim = reported(case, who, at=NOW + timedelta(days=3, seconds=1))
    assert claim.status == "reported"


def test_the_report_file_must_be_a_report(case, who):
    form = load(ClaimReportForm(), {"report_text": "报告", "report_media_id": MINUTES})
    with pytest.raises(InvalidInput):
        claims.report_claim(case, raised(case, who), who("rcgz-mkt-head"), form, NOW, MEDIA)


@pytest.mark.parametrize("person_id, as_", [("rcgz-vp-mkt", "supervising_leader"),
                                            ("rcgz-chairman", "chairman")])
def test_the_supervising_leader_or_the_chairman_decides_an_ordinary_claim(case, who, person_id,
                                                                         as_):
    outcome = claims.decide_claim(case, reported(case, who), who(person_id), decision(), NOW)
    claim = outcome.result
    assert (claim.status, claim.decided_as, claim.amount_granted) == ("decided", as_,
                                                                      Decimal("3000"))
    assert claim.file_due_at == NOW + timedelta(hours=24)
    assert outcome.events[0][1]["decision"] == "approve"


@pytest.mark.parametrize("person_id",
                         ["rcgz-mkt-head", "rcgz-vp-eng", "centre-gm", "pcgz-chairman"])
def test_nobody_else_decides(case, who, person_id):
    with pytest.raises(Forbidden):
        claims.decide_claim(case, reported(case, who), who(person_id), decision(), NOW)


def test_a_major_complaints_claim_is_decided_by_the_chairman_only(demo_directory, who):
    major = routed_case(demo_directory, escalation_level="major")
    claim = raised(major, who)
    assert claim.major and claim.head_person_id == "rcgz-mkt-head"
    claim = claims.report_claim(major, claim, who("rcgz-mkt-head"),
                                load(ClaimReportForm(), {"report_text": "报告"}), NOW, MEDIA).result
    with pytest.raises(Forbidden) as caught:
        claims.decide_claim(major, claim, who("rcgz-vp-mkt"), decision(), NOW)
    assert "chairman" in caught.value.message
    assert claims.decide_claim(major, claim, who("rcgz-chairman"), decision(),
                               NOW).result.decided_as == "chairman"


def test_a_decision_needs_the_report_first_and_sound_amounts(case, who):
    with pytest.raises(Conflict):
        claims.decide_claim(case, raised(case, who), who("rcgz-vp-mkt"), decision(), NOW)
    claim = reported(case, who)
    leader = who("rcgz-vp-mkt")
    for bad in (decision(amount_granted=None), decision(amount_granted="5000.01"),
                decision("reject", amount_granted="10"), decision("reject", amount_granted=None)):
        with pytest.raises(InvalidInput):
            claims.decide_claim(case, claim, leader, bad, NOW)
    rejected = claims.decide_claim(case, claim, leader,
                                   decision("reject", amount_granted=None, note="不属实"), NOW)
    assert rejected.result.amount_granted is None and rejected.result.decision == "reject"


def test_filing_with_the_centre(case, who):
    claim = claims.decide_claim(case, reported(case, who), who("rcgz-vp-mkt"), decision(),
                                NOW).result
    with pytest.raises(Forbidden):
        claims.file_claim(case, claim, who("rcgz-vp-mkt"), NOW)
    late = NOW + timedelta(hours=25)
    outcome = claims.file_claim(case, claim, who("rcgz-mkt-head"), late)
    assert outcome.result.status == "filed"
    assert (outcome.events[0][0], outcome.events[0][1]["late"]) == ("claim.filed", True)
    with pytest.raises(Conflict):
        claims.file_claim(case, outcome.result, who("rcgz-mkt-head"), late)
    with pytest.raises(Conflict):
        claims.file_claim(case, reported(case, who), who("rcgz-mkt-head"), NOW)


# -- meetings (Art. 33) ----------------------------------------------------------------------------

def meeting_form(**changes):
    form = {"held_at": (NOW - timedelta(hours=1)).isoformat(), "responsible": "冯晓东（营销部）",
            "solution": "三日内与业主协商退款方案", "due_at": (NOW + timedelta(days=3)).isoformat(),
            "minutes_media_id": MINUTES}
    form.update(changes)
    return load(MeetingForm(), form)


def test_the_chairman_records_a_major_complaints_meeting_with_its_minutes(demo_directory, who):
    major = routed_case(demo_directory, escalation_level="group")
    outcome = meetings.record_meeting(major, who("rcgz-chairman"), meeting_form(), NOW,
                                      f"{major.id}-M1", MEDIA)
    meeting = outcome.result
    assert meeting.minutes_media_id == MINUTES and meeting.minutes_filed_at == NOW
    assert [t for t, _ in outcome.events] == ["meeting.held", "meeting.minutes_filed"]
    held, filed = (data for _, data in outcome.events)
    assert (held["chairman_person_id"], held["responsible"]) == (
        "rcgz-chairman", "冯晓东（营销部）")
    assert held["minutes_due_at"] == meeting.held_at + timedelta(hours=24)
    assert (filed["minutes_media_id"], filed["late"]) == (MINUTES, False)


def test_minutes_filed_later(demo_directory, who):
    major = routed_case(demo_directory, escalation_level="major", category="property_service")
    chairman = who("pcgz-chairman")
    meeting = meetings.record_meeting(major, chairman, meeting_form(minutes_media_id=None), NOW,
                                      "M1", MEDIA)
    assert [t for t, _ in meeting.events] == ["meeting.held"]
    later = NOW + timedelta(hours=30)
    filed = meetings.file_minutes(major, meeting.result, chairman,
                                  load(MinutesForm(), {"minutes_media_id": MINUTES}), later, MEDIA)
    assert filed.events[0][1]["late"] is True and filed.result.minutes_filed_at == later
    with pytest.raises(Conflict):
        meetings.file_minutes(major, filed.result, chairman,
                              load(MinutesForm(), {"minutes_media_id": MINUTES}), later, MEDIA)


def test_meetings_only_for_major_complaints_and_only_by_their_chairman(demo_directory, case, who):
    with pytest.raises(Conflict):
        meetings.record_meeting(case, who("rcgz-chairman"), meeting_form(), NOW, "M1", MEDIA)
    major = routed_case(demo_directory, escalation_level="major")
    for other in ("rcgz-mkt-head", "pcgz-chairman", "centre-gm"):
        with pytest.raises(Forbidden):
            meetings.record_meeting(major, who(other), meeting_form(), NOW, "M1", MEDIA)


def test_meeting_input_is_checked(demo_directory, who):
    major = routed_case(demo_directory, escalation_level="major")
    chairman = who("rcgz-chairman")
    with pytest.raises(InvalidInput) as caught:
        meetings.record_meeting(major, chairman, meeting_form(
            held_at=(NOW + timedelta(hours=1)).isoformat(),
            due_at=(NOW - timedelta(days=1)).isoformat(), minutes_media_id=REPORT), NOW, "M1",
            MEDIA)
    assert set(caught.value.fields) == {"held_at", "due_at", "minutes_media_id"}
