"""Validation of what intake is given: each bad input of issue 3 is refused
field by field, in zh-CN; hostile text is kept verbatim as text."""
from datetime import timedelta

import pytest

from services.intake.tests.helpers import NOW, form
from shared.contracts.intake import forms
from shared.errors import InvalidInput


def load(data, now=NOW):
    return forms.load(forms.RecordForm(now=now), data)


def errors_of(data, schema=None):
    with pytest.raises(InvalidInput) as caught:
        forms.load(schema or forms.RecordForm(now=NOW), data)
    return caught.value.fields


def test_a_valid_recording_loads():
    data = load(form(customer_phone=" 138 1234 5678 ", room=" 3-2-1801 "))
    assert data["customer_phone"] == "13812345678" and data["room"] == "3-2-1801"
    assert data["requested_completion_at"] == NOW + timedelta(days=7)
    assert data["customer_signature_media_id"] is None and data["resolved_on_spot"] is False


@pytest.mark.parametrize("phone", ["12345", "23812345678", "1381234567x", "138-1234-5678-9",
                                   "+1 415 555 0100", 13812345678])
def test_bad_phone(phone):
    assert "customer_phone" in errors_of(form(customer_phone=phone))


@pytest.mark.parametrize("field", ["project_id", "room", "customer_name", "customer_phone",
                                   "channel", "demand", "category", "requested_completion_at",
                                   "contact_ended_at"])
def test_every_recorded_field_is_required(field):
    messages = errors_of(form(**{field: ...}))
    assert messages[field] == ["必填 (required)"]


@pytest.mark.parametrize("room", ["", "   ", None])
def test_room_must_be_given(room):
    assert "room" in errors_of(form(room=room))


def test_requested_time_in_the_past_and_contact_end_in_the_future():
    messages = errors_of(form(requested_completion_at=(NOW - timedelta(minutes=1)).isoformat(),
                              contact_ended_at=(NOW + timedelta(hours=1)).isoformat()))
    assert "须晚于当前时间" in messages["requested_completion_at"][0]
    assert "不能晚于当前时间" in messages["contact_ended_at"][0]


@pytest.mark.parametrize("value, message", [
    ("2026-11-27T10:00:00", "时区"), ("tomorrow", "ISO 8601"), ("2026-13-01T00:00:00+08:00", "ISO"),
    (1764201600, "ISO"),
])
def test_times_must_be_iso_with_an_offset(value, message):
    assert message in errors_of(form(contact_ended_at=value))["contact_ended_at"][0]


def test_unknown_fields_are_refused():
    messages = errors_of(form(state="order_signed", recorded_by="centre-gm"))
    assert messages == {"state": ["不允许的字段 (unknown field)"],
                        "recorded_by": ["不允许的字段 (unknown field)"]}


@pytest.mark.parametrize("field, limit", [("demand", 2000), ("customer_name", 50), ("room", 40),
                                          ("project_id", 50)])
def test_absurd_lengths_are_refused(field, limit):
    assert load(form(**{field: "房" * limit}))[field] == "房" * limit
    assert f"最多 {limit} 个字符" in errors_of(form(**{field: "房" * (limit + 1)}))[field][0]


def test_sql_and_script_are_kept_verbatim_as_text():
    demand = "'); DROP TABLE intake.complaints; --\n<script>alert('x')</script>  "
    name = "Robert'); DELETE FROM intake.timeline;--"
    data = load(form(demand=demand, customer_name=name))
    assert data["demand"] == demand and data["customer_name"] == name


@pytest.mark.parametrize("text", ["a\x00b", "a\x1bb", "a\x07"])
def test_control_characters_are_refused(text):
    assert "控制字符" in errors_of(form(demand=text))["demand"][0]


def test_new_lines_only_in_multi_line_text():
    assert load(form(demand="第一行\n第二行\t完"))["demand"] == "第一行\n第二行\t完"
    assert "customer_name" in errors_of(form(customer_name="王\n小明"))


@pytest.mark.parametrize("field, value", [("channel", "email"), ("category", "noise"),
                                          ("category", "MAINTENANCE_REPAIR"), ("channel", 1)])
def test_codes_must_be_known(field, value):
    assert field in errors_of(form(**{field: value}))


def test_the_signature_follows_the_channel():
    assert "customer_signature_media_id" in errors_of(form(channel="visit"))
    assert "customer_signature_media_id" in errors_of(form(channel="mobile",
                                                           customer_signature_media_id=None))
    assert "customer_signature_media_id" in errors_of(form(channel="letter",
                                                           customer_signature_media_id="M-GZ-1"))
    assert load(form(channel="visit", customer_signature_media_id="M-GZ-" + "a" * 32))


def test_resolved_on_spot_is_a_boolean():
    assert "resolved_on_spot" in errors_of(form(resolved_on_spot="maybe"))


def test_every_problem_is_reported_at_once():
    messages = errors_of(form(customer_phone="1", room="", channel="fax",
                              requested_completion_at=(NOW - timedelta(days=1)).isoformat()))
    assert {"customer_phone", "room", "channel", "requested_completion_at"} <= set(messages)


def test_not_an_object():
    with pytest.raises(InvalidInput) as caught:
        forms.load(forms.RecordForm(now=NOW), ["a"])
    assert "_body" in caught.value.fields


def test_decisions():
    assert forms.load(forms.DecisionForm(), {"decision": "approve"})["reason"] is None
    assert "reason" in errors_of({"decision": "reject"}, forms.DecisionForm())
    assert "reason" in errors_of({"decision": "reject", "reason": "  "}, forms.DecisionForm())
    assert "decision" in errors_of({"decision": "maybe"}, forms.DecisionForm())
    assert "department_reason" in errors_of({"decision": "approve", "department": "engineering"},
                                            forms.SignForm())
    assert "department" in errors_of({"decision": "approve", "department": "hr",
                                      "department_reason": "x"}, forms.SignForm())
    assert "department" in errors_of({"decision": "reject", "reason": "r",
                                      "department": "engineering", "department_reason": "x"},
                                     forms.SignForm())


@pytest.mark.parametrize("score", [0, 6, "5", 4.5, None, True])
def test_rating_scores(score):
    assert "score" in errors_of({"score": score}, forms.RatingForm())


def test_list_filters():
    loaded = forms.load(forms.ListFilters(), {"page": "2", "page_size": "100",
                                                  "assigned_to_me": "true"})
    assert (loaded["page"], loaded["page_size"], loaded["assigned_to_me"]) == (2, 100, True)
    assert "page_size" in errors_of({"page_size": "101"}, forms.ListFilters())
    assert "page" in errors_of({"page": "0"}, forms.ListFilters())
    assert "state" in errors_of({"state": "lost"}, forms.ListFilters())


def test_callback_forms():
    loaded = forms.load(forms.CallbackForm(), {"outcome": "reached"})
    assert loaded == {"outcome": "reached", "callback_at": None, "note": None}
    at = forms.load(forms.CallbackForm(), {"outcome": "declined",
                                               "callback_at": "2026-11-27T10:30:00+08:00"})
    assert at["callback_at"] == NOW + timedelta(minutes=30)
    assert "outcome" in errors_of({}, forms.CallbackForm())
    assert "outcome" in errors_of({"outcome": "busy"}, forms.CallbackForm())
    assert "callback_at" in errors_of({"outcome": "reached", "callback_at": "2026-11-27T10:30"},
                                      forms.CallbackForm())
    assert "note" in errors_of({"outcome": "reached", "note": "x" * 2001}, forms.CallbackForm())


@pytest.mark.parametrize("data, field", [
    ({}, "satisfaction"), ({"satisfaction": None}, "satisfaction"),
    ({"satisfaction": 0}, "satisfaction"), ({"satisfaction": "5"}, "satisfaction"),
    ({"satisfaction": 6}, "satisfaction"), ({"decision": "reject"}, "reason"),
    ({"decision": "reject", "reason": " "}, "reason"), ({"decision": "later"}, "decision"),
    ({"satisfaction": 5, "score": 5}, "score"),
])
def test_verification_forms_refuse(data, field):
    assert field in errors_of(data, forms.VerifyForm())


def test_verification_forms_load():
    assert forms.load(forms.VerifyForm(), {"satisfaction": 5, "comment": "好"}) == {
        "satisfaction": 5, "comment": "好", "decision": "approve", "reason": None}
    rejected = forms.load(forms.VerifyForm(), {"decision": "reject", "reason": "未修好"})
    assert rejected["satisfaction"] is None and rejected["reason"] == "未修好"


@pytest.mark.parametrize("given, field", [
    ({"from": "2026-11-30", "to": "2026-11-01"}, "to"), ({"from": "27/11/2026"}, "from"),
    ({"to": "2026-02-30"}, "to"), ({"limit": "0"}, "limit"), ({"limit": "101"}, "limit"),
    ({"limit": "x"}, "limit"), ({"offset": "-1"}, "offset"), ({"limit": "5", "page_size": "5"},
                                                               "page_size"),
    ({"offset": "5", "page": "2"}, "page"), ({"status": "closed", "state": "received"}, "status"),
    ({"status": "lost"}, "status"), ({"sort": "customer_name"}, "sort"), ({"channel": "fax"},
                                                                         "channel"),
    ({"department_id": "hr"}, "department_id"), ({"q": "x" * 101}, "q"), ({"q": "a\x00b"}, "q"),
    ({"ids": "C-1"}, "ids"), ({"nonsense": "1"}, "nonsense"),
])
def test_each_list_filter_is_checked_on_its_own(given, field):
    assert field in errors_of(given, forms.ListFilters())


def test_list_paging_takes_limit_and_offset_and_the_old_page_names():
    loaded = forms.load(forms.ListFilters(), {"limit": "50", "offset": "100", "status": "closed"})
    assert (loaded["limit"], loaded["offset"], loaded["state"]) == (50, 100, "closed")
    old = forms.load(forms.ListFilters(), {"page": "3", "page_size": "10"})
    assert (old["limit"], old["offset"]) == (10, 20)
    assert (forms.load(forms.ListFilters(), {})["limit"], forms.load(forms.ListFilters(), {})[
        "sort"]) == (20, "-recorded_at")
