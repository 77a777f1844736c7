"""The customer's side (SPEC §8; Art. 13, 16): one-time links, the
customer's signature through a link, and the reception rating.

Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime, timedelta, tzinfo
from typing import Any

from services.intake.access import Actor, require_desk_specialist
from services.intake.model import (
    Complaint,
    Link,
    Outcome,
    Rating,
    TimelineEntry,
    Who,
    event_data,
    new_link,
    record_hash,
)
from services.intake.signature import check_signature_media, new_binding
from shared import roles
from shared.categories import CATEGORIES
from shared.contracts.intake.vocabulary import (
    SIG_BINDING,
    SIG_PENDING,
    STEP_RATING,
    STEP_RECORD_SIGNATURE,
)
from shared.errors import Conflict, InvalidInput, NotFound


def check_link(link: Link | None, now: datetime, step: str | None = None) -> Link:
    if link is None:
        raise NotFound("链接不存在 (unknown link)")
    if link.used_at is not None:
        raise Conflict("该链接已使用，不能再次使用 (this link was already used)")
    if link.revoked_at is not None:
        raise Conflict("该链接已失效，请使用最新收到的短信链接 "
                       "(this link was replaced by a newer one or withdrawn)")
    if link.expires_at <= now:
        raise Conflict("该链接已过期，请联系客服专员 (this link has expired)")
    if step is not None and link.step != step:
        raise Conflict("该链接不能用于此操作 (this link is for another step)")
    return link


def sign_by_link(complaint: Complaint, link: Link | None, media: Mapping[str, Any] | None,
                 now: datetime, *, rating_token: str, link_ttl: timedelta,
                 zone: tzinfo | None = None) -> Outcome:
    """The customer signs the record through the one-time link (phone/letter)."""
    c = complaint
    link = check_link(link, now, STEP_RECORD_SIGNATURE)
    if link.complaint_id != c.id:
        raise NotFound("链接不存在 (unknown link)")
    if c.signature_status != SIG_PENDING:
        raise Conflict(f"投诉 {c.id} 已签名 (already signed)")
    media = check_signature_media(media, "signature_media_id", complaint_id=c.id)
    new = replace(c, signature_status=SIG_BINDING, signature_media_id=media["id"], updated_at=now)
    rating_link = new_link(rating_token, new, STEP_RATING, now, link_ttl)
    entry = TimelineEntry(now, None, "customer", "customer_signed", c.state, c.state,
                          c.order_round, details={"signature_media_id": media["id"],
                                                  "via": "link"})
    outcome = Outcome(new, [entry], [("complaint.signed", event_data(
        new, None, "customer", zone, signature_media_id=media["id"], via="link",
        record_sha256=record_hash(new), rating_link_path=rating_link.path,
        customer_phone=new.customer_phone))])
    outcome.used_link = replace(link, used_at=now)
    outcome.new_links.append(rating_link)
    outcome.binding = new_binding(new, None, now)
    return outcome


def rate(complaint: Complaint, score: Any, comment: str | None, now: datetime, *,
         existing: Rating | None, via: str, actor: Actor | None = None,
         link: Link | None = None, zone: tzinfo | None = None) -> Outcome:
    """Reception rating 1-5 (Art. 16), once per order round: from the
    specialist's terminal (handed to the customer) or the customer's link."""
    c = complaint
    who: Who
    if via == "terminal":
        if actor is None:
            raise ValueError("a rating from the terminal needs the specialist")
        require_desk_specialist(actor, c.project_id, "登记接待评价")
        rated_by, who = actor.person_id, (actor.person_id, roles.SPECIALIST)
    else:
        link = check_link(link, now, STEP_RATING)
        if link.complaint_id != c.id:
            raise NotFound("链接不存在 (unknown link)")
        if link.order_round != c.order_round:
            # a round's rating link rates that round's reception only
            raise Conflict("该评价链接属于此前一轮处理，已失效 "
                           "(this link rates an earlier round of the complaint)")
        rated_by, who = None, (None, "customer")
    if existing is not None:
        raise Conflict(f"投诉 {c.id} 的接待已评价，不能重复评价 (reception already rated)")
    if not isinstance(score, int) or isinstance(score, bool) or not 1 <= score <= 5:
        raise InvalidInput({"score": ["评分须为 1 到 5 的整数 (score 1-5)"]})
    comment = comment if (comment or "").strip() else None
    rating = Rating(c.id, c.order_round, c.specialist_id, score, comment, via, rated_by, now)
    entry = TimelineEntry(now, *who, "reception_rated", c.state, c.state, c.order_round,
                          note=comment, details={"score": score, "via": via})
    outcome = Outcome(replace(c, updated_at=now), [entry], [("complaint.reception_rated",
                      event_data(c, *who, zone, score=score, comment=comment, via=via,
                                 rated_specialist_id=c.specialist_id))])
    outcome.rating = rating
    if link is not None:
        outcome.used_link = replace(link, used_at=now)
    return outcome


def customer_view(complaint: Complaint, link: Link, project_name: str) -> dict[str, Any]:
    """What the customer sees when opening a link: no one else's data."""
    c = complaint
    return {"complaint_id": c.id, "project_id": c.project_id, "project_name": project_name,
            "room": c.room, "demand": c.demand, "category": c.category,
            "category_label": CATEGORIES.get(c.category, c.category),
            "recorded_at": c.recorded_at, "step": link.step, "expires_at": link.expires_at}
