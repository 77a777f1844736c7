"""Shared test data of the intake tests: people and projects of the demo
organisation (data/organisation/demo.yaml), a valid recording form, and a
complaint taken through the order's steps by the pure rules (recorded,
drafted, submitted, reviewed, signed)."""
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from services.intake import order
from services.intake.access import Actor
from shared import roles
from shared.contracts.intake import forms, vocabulary
from shared.events.envelope import build_envelope

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)   # 10:00 in Shanghai
PROJECT = "GZ-P01"
OTHER_PROJECT = "GZ-P03"

SPECIALIST = {"person_id": "p01-spec-1", "roles": [roles.SPECIALIST], "project_ids": [PROJECT]}
SPECIALIST_2 = {"person_id": "p01-spec-2", "roles": [roles.SPECIALIST], "project_ids": [PROJECT]}
OTHER_SPECIALIST = {"person_id": "p03-spec-1", "roles": [roles.SPECIALIST],
                    "project_ids": [OTHER_PROJECT]}
DEPUTY = {"person_id": "centre-deputy-gm", "roles": [roles.CENTRE_DEPUTY_GM], "project_ids": []}
GM = {"person_id": "centre-gm", "roles": [roles.CENTRE_GM], "project_ids": []}
STAFF = {"person_id": "centre-staff-1", "roles": [roles.CENTRE_STAFF], "project_ids": []}
HR = {"person_id": "hr-1", "roles": [roles.HR], "project_ids": []}

PROJECT_RECORD = {"id": PROJECT, "name": "恒大御景半岛", "city_tier": "capital",
                  "region_company": {"id": "rc-gz"}, "property_company": {"id": "pc-gz"}}


def form(now=NOW, **changes):
    """A valid recording as JSON would carry it (times as ISO text)."""
    data = {
        "project_id": PROJECT, "room": "3-2-1801", "customer_name": "王小明",
        "customer_phone": "13812345678", "channel": "phone",
        "demand": "客厅天花板漏水，要求一周内修复。", "category": "maintenance_repair",
        "requested_completion_at": (now + timedelta(days=7)).isoformat(),
        "contact_ended_at": (now - timedelta(minutes=5)).isoformat(),
        "resolved_on_spot": False,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not ...}


def signature_media(media_id="M-GZ-" + "a" * 32, **changes):
    """The media service's description of an unbound desk signature."""
    media = {"id": media_id, "kind": "signature", "complaint_id": None, "binding": None,
             "sha256": "b" * 64, "content_type": "image/png"}
    media.update(changes)
    return media


# -- the order's steps, pure -----------------------------------------------------------------------

ZONE = ZoneInfo("Asia/Shanghai")
SPEC, SPEC2 = Actor.from_dict(SPECIALIST), Actor.from_dict(SPECIALIST_2)
OTHER = Actor.from_dict(OTHER_SPECIALIST)
DEP, BOSS, STAFFER = Actor.from_dict(DEPUTY), Actor.from_dict(GM), Actor.from_dict(STAFF)
MIN = timedelta(minutes=1)
CID = "C-GZ-2026-000001"


def loaded(now=NOW, **changes):
    return forms.load(forms.RecordForm(now=now), form(now, **changes))


def recorded(channel="visit", now=NOW, on_spot=False, actor=SPEC, token="t" * 43, **changes):
    media = signature_media() if channel in vocabulary.SIGNED_AT_DESK else None
    data = loaded(now, channel=channel, resolved_on_spot=on_spot,
                  customer_signature_media_id=media["id"] if media else None, **changes)
    return order.record(CID, "GZ", data, actor, PROJECT_RECORD, now, signature_media=media,
                         link_token=None if media else token, zone=ZONE)


def drafted(now=NOW):
    return recorded(now=now).complaint


def submitted(now=NOW):
    return order.submit(drafted(now), SPEC, now + MIN, "centre-deputy-gm").complaint


def reviewed(now=NOW):
    return order.review(submitted(now), DEP, "approve", None, now + 2 * MIN,
                         gm_id="centre-gm").complaint


def signed(now=NOW):
    return order.sign(reviewed(now), BOSS, "approve", None, now + 3 * MIN).complaint


def assert_events_match_schemas(outcome):
    for event_type, data in outcome.events:
        build_envelope(event_type, data, producer="intake", region="GZ", occurred_at=NOW,
                       complaint_id=outcome.complaint.id)
