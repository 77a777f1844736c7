"""Finding complaints through intake's RPC (issue 14): free text over the id,
the customer's name and phone and the room; filters; sort; limit / offset
with the total; names beside the ids; the export's bound; and the access
rules (a desk finds only its projects' complaints, whatever it types)."""
from datetime import timedelta

import pytest

from services.intake import finding
from services.intake.tests.helpers import DEPUTY, GM, NOW, OTHER_SPECIALIST, SPECIALIST, STAFF, form
from services.intake.tests.test_service_integration import error_of

pytestmark = pytest.mark.integration


@pytest.fixture
def recorded(intake, demo_directory):
    ids = [intake.record_complaint(SPECIALIST, form())["id"],
           intake.record_complaint(SPECIALIST, form(
               customer_name="Li_Lei 100%", customer_phone="020-12345678", room="5-1-0502",
               channel="letter", category="leasing"))["id"],
           intake.record_complaint(OTHER_SPECIALIST, form(
               project_id="GZ-P03", customer_name="赵先生", customer_phone="13700002222",
               room="8-8-0808"))["id"]]
    return ids


def found(intake, actor, **filters):
    return [c["id"] for c in intake.list_complaints(actor, filters)["items"]]


def test_free_text_finds_by_phone_name_room_and_id(intake, recorded):
    first, second, third = recorded
    assert found(intake, STAFF, q="138 1234 5678") == [first]
    assert found(intake, STAFF, q="+86 13812345678") == [first]
    assert found(intake, STAFF, q="12345678", sort="id") == [first, second]  # mobile, landline
    assert found(intake, STAFF, q="王小") == [first]
    assert found(intake, STAFF, q="li_lei") == [second]        # any case
    assert found(intake, STAFF, q="_") == [second]             # a wildcard taken literally
    assert found(intake, STAFF, q="100%") == [second]
    assert found(intake, STAFF, q="0808") == [third]
    assert found(intake, STAFF, q=third.lower()) == [third]
    assert found(intake, STAFF, q="' OR 1=1 --") == []
    # a desk finds only its own projects' complaints
    assert found(intake, OTHER_SPECIALIST, q="王小明") == []
    assert found(intake, SPECIALIST, q="赵先生") == []


def test_filters_sort_and_pages_with_the_total(intake, recorded):
    first, second, third = recorded
    assert found(intake, STAFF, channel="letter") == [second]
    assert found(intake, STAFF, category="leasing", status="order_drafted") == [second]
    assert found(intake, STAFF, project_id="GZ-P03") == [third]
    assert found(intake, STAFF, sort="id") == [first, second, third]
    assert found(intake, STAFF, sort="-id") == [third, second, first]
    assert found(intake, STAFF, **{"from": "2026-11-27", "to": "2026-11-27"}, sort="id") == \
        recorded
    assert found(intake, STAFF, to="2026-11-26") == []
    page = intake.list_complaints(STAFF, {"limit": 2, "offset": 2, "sort": "id"})
    assert (page["total"], page["limit"], page["offset"]) == (3, 2, 2)
    assert [c["id"] for c in page["items"]] == [third] and "page" not in page
    old = intake.list_complaints(STAFF, {"page": 2, "page_size": 2, "sort": "id"})
    assert (old["page"], old["page_size"], old["offset"]) == (2, 2, 2)
    assert error_of(intake.list_complaints, STAFF, {"from": "2026-12-01", "to": "2026-11-01"}
                    ).fields == {"to": ["结束日期不能早于开始日期 (to must not be before from)"]}


def test_rows_carry_names_beside_the_ids(intake, recorded):
    row = next(c for c in intake.list_complaints(STAFF, {})["items"] if c["id"] == recorded[0])
    assert row["project_id"] == "GZ-P01" and row["project_name"]
    assert row["recorded_by"] == "p01-spec-1" and row["recorded_by_name"]
    assert row["holder_name"] == row["recorded_by_name"]          # the order waits on her
    assert (row["state_label"], row["category_label"], row["channel_label"]) == (
        "督办单待提交", "维保修类", "来电")
    assert row["customer_phone"] == "13812345678"


def test_the_export_has_every_row_and_refuses_more_than_its_bound(intake, recorded,
                                                                   monkeypatch):
    rows = intake.export_complaints(STAFF, {"limit": 1, "sort": "id"})
    assert [r["id"] for r in rows["items"]] == recorded and rows["total"] == 3
    assert rows["items"][0]["demand"] and rows["max_rows"] == finding.EXPORT_MAX_ROWS
    assert intake.export_complaints(OTHER_SPECIALIST, {})["total"] == 1
    monkeypatch.setattr(finding, "EXPORT_MAX_ROWS", 2)
    refused = error_of(intake.export_complaints, STAFF, {})
    assert refused.status == 400 and "3" in refused.fields["filters"][0]
    assert intake.export_complaints(STAFF, {"channel": "letter"})["total"] == 1


def test_due_today_finds_the_signed_orders_asked_for_today_in_the_groups_zone(intake,
                                                                            demo_directory):
    """NOW is 10:00 on Nov 27 in Shanghai (02:00 UTC): today ends at 16:00 UTC."""
    def signed(requested):
        cid = intake.record_complaint(SPECIALIST, form(requested_completion_at=requested))["id"]
        intake.submit_order(SPECIALIST, cid)
        intake.review_order(DEPUTY, cid, "approve", None)
        intake.sign_order(GM, cid, "approve", None)
        return cid

    this_evening = signed("2026-11-27T23:30:00+08:00")
    this_afternoon = signed((NOW + timedelta(hours=5)).isoformat())
    signed("2026-11-28T00:10:00+08:00")          # tomorrow there, though still Nov 27 in UTC
    intake.record_complaint(SPECIALIST, form(    # today, but the order is not signed yet
        requested_completion_at="2026-11-27T20:00:00+08:00"))
    page = intake.list_complaints(STAFF, {"due": "today", "sort": "requested_completion_at"})
    assert [c["id"] for c in page["items"]] == [this_afternoon, this_evening]
    assert page["total"] == 2
    assert intake.list_complaints(STAFF, {"due": "today", "status": "received"})["total"] == 0
    assert intake.list_complaints(OTHER_SPECIALIST, {"due": "today"})["total"] == 0
    assert error_of(intake.list_complaints, STAFF, {"due": "yesterday"}).fields["due"]
