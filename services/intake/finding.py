"""Finding complaints (SPEC §10, issue 14): the list and its export, over the
service layer's dependencies (services.intake.steps.Steps).

Who sees what follows intake's access rules (services.intake.access): the
centre and the admin everything, a desk specialist their projects, the
people and units dispatch routed a complaint to (complaint.routed, kept in
intake's own copy) that complaint. The rows carry the names beside the ids:
project, recorder, holder and handler from the directory (cached), the
department, category, channel and state labels in zh-CN.

`overdue` is not intake's to answer: the completion deadline is sla's
(min of the order's time and the time agreed at the visit, which intake
never hears of). The gateway resolves `overdue=true` into `ids` for now.
"""
from __future__ import annotations

from typing import Any

from services.intake import listing, repository, views
from services.intake.access import Actor
from services.intake.listing import Where
from services.intake.steps import Steps
from shared import roles
from shared.contracts.intake import forms
from shared.errors import Forbidden, InvalidInput
from shared.paging import page_answer

EXPORT_MAX_ROWS = 10_000


def list_query(steps: Steps, actor: Actor, filters: Any) -> tuple[dict[str, Any], Where]:
    """The loaded filters and the list's WHERE for this actor."""
    query = forms.load(forms.ListFilters(), dict(filters or {}))
    if query["project_id"] is not None and not actor.may_see(query["project_id"]):
        raise Forbidden(f"无权查看项目 {query['project_id']} 的投诉 (not your project)")
    visible = None if actor.sees_all else listing.Visibility(
        tuple(sorted(actor.project_ids)), actor.person_id, actor.unit_id)
    return query, listing.conditions(
        query, steps.zone, visible,
        holder_id=actor.person_id if query["assigned_to_me"] else None,
        callbacks_for=roles.CENTRE_STAFF in actor.roles, now=steps.clock.now())


def list_complaints(steps: Steps, actor: Actor, filters: Any) -> dict[str, Any]:
    """{"items", "total", "limit", "offset"} (and page, page_size when asked by page)."""
    query, where = list_query(steps, actor, filters)
    with steps.db.transaction() as conn:
        items, total = repository.list_complaints(
            conn, where, listing.order_by(query["sort"]), query["limit"], query["offset"])
    names = steps.directory.names() if items else listing.Names()
    return page_answer(views.dump_list_items(items, steps.zone, names), total, query)


def export_complaints(steps: Steps, actor: Actor, filters: Any,
                      max_rows: int | None = None) -> dict[str, Any]:
    """Every row of the filtered list (its paging ignored), at most `max_rows`
    (EXPORT_MAX_ROWS): more is refused with the count, never cut short silently."""
    max_rows = EXPORT_MAX_ROWS if max_rows is None else max_rows
    query, where = list_query(steps, actor, filters)
    with steps.db.transaction() as conn:
        items, total = repository.list_complaints(
            conn, where, listing.order_by(query["sort"]), max_rows + 1)
    if total > max_rows:
        raise InvalidInput({"filters": [
            f"导出最多 {max_rows} 条，当前筛选结果 {total} 条，请缩小筛选范围 "
            f"(at most {max_rows} rows can be exported; {total} match: narrow the filters)"]})
    names = steps.directory.names() if items else listing.Names()
    return {"items": views.dump_export_rows(items, steps.zone, names), "total": total,
            "max_rows": max_rows}
