"""Rankings and assessments (service layer, SPEC §5, Art. 16, 38, 39): the
pure computations of `rankings` over the read-models, and the frozen
rankings of a closed month. The quarterly analysis is `quarterly`'s."""
from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from services.penalty import months, rankings, readmodel
from services.penalty.access import RANKING_READERS, Actor, require
from services.penalty.context import Penalty
from services.penalty.repository import closes as close_store
from services.penalty.repository import reports as report_store
from shared.errors import Conflict

Json = dict[str, Any]


def month_rankings(ctx: Penalty, actor: Actor, month: str) -> Json:
    """Companies and projects, specialists (with their bottom-ten months) and
    desks of a month; a running month is ranked so far (`complete` false); a
    closed month answers its frozen, published snapshot (Art. 38)."""
    require(actor, RANKING_READERS, "查看排名")
    months.parse_month(month)
    start, _ = months.month_bounds(month, ctx.zone)
    now = ctx.now()
    if now < start:
        raise Conflict(f"{month} 尚未开始，无排名 (the month has not started)")
    with ctx.db.connection() as conn:
        frozen = close_store.published_rankings(conn, month)
        if frozen is not None:
            return _frozen(frozen, ctx)
        return dict(_compute(ctx, conn, month, now), frozen=False, published_at=None)


def _frozen(row: Mapping[str, Any], ctx: Penalty) -> Json:
    return dict(row["data"], frozen=True,
                published_at=row["published_at"].astimezone(ctx.zone).isoformat())


def _compute(ctx: Penalty, conn: Any, month: str, now: datetime) -> Json:
    start, end = months.month_bounds(month, ctx.zone)
    rule = ctx.rulebook.at(min(now, months.last_instant(end)), ctx.zone) \
        .sanctions["bottom_ten"]
    size = int(rule.settings["size"])
    inputs = readmodel.ranking_inputs(conn, start, end)
    units, projects = readmodel.units(conn), readmodel.projects(conn)
    people = readmodel.all_people(conn)
    history: dict[str, dict[str, int]] = {}
    ranked = rankings.specialist_ranking(inputs["ratings"], people, start, end, size,
                                         int(rule.settings.get("min_ranked", size + 1)))
    if ranked["bottom_ten"]:
        window = [months.previous_month(months.previous_month(month)),
                  months.previous_month(month)]
        history = report_store.bottom_ten_months(conn, ranked["bottom_ten"], window)
    for entry in ranked["entries"]:
        entry["bottom_ten_months"] = sorted(history.get(entry["person_id"], {})) + (
            [month] if entry["bottom_ten"] else [])
    return {"month": month, "complete": now >= end,
            "companies": rankings.company_rankings(
                inputs["complaints"], inputs["applications"], inputs["reopens"], units,
                projects, start, end),
            "specialists": ranked,
            "desks": rankings.desk_assessment(inputs["complaints"], inputs["applications"],
                                              inputs["outcomes"], projects, start, end)}


def publish_rankings(ctx: Penalty, month: str, now: datetime) -> Json:
    """Art. 38: at the month's close its rankings are frozen (stored once)
    and published (`rankings.published`); a second close changes nothing."""
    with ctx.db.transaction() as conn:
        report_store.lock(conn, f"penalty:rankings:{month}")
        frozen = close_store.published_rankings(conn, month)
        if frozen is not None:
            return _frozen(frozen, ctx)
        data = json.loads(json.dumps(_compute(ctx, conn, month, now), default=str))
        close_store.publish_rankings(conn, month, now, data)
        ctx.outbox.add(conn, "rankings.published", {
            "month": month, "published_at": now, "companies": data["companies"],
            "specialists": data["specialists"], "desks": data["desks"]}, occurred_at=now)
    return dict(data, frozen=True, published_at=now.astimezone(ctx.zone).isoformat())
