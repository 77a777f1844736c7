"""Monthly rankings and assessments (SPEC §5, Art. 16, 38, 39), pure.

Computed from penalty's local read-models of intake, dispatch and sla events
(complaints, closure applications, reception ratings, deadline outcomes).

- Companies (regional and property) and their projects (Art. 38): on-time
  completion rate (complaints whose completion deadline fell in the month,
  share whose closure was applied by it), handling efficiency (median hours
  from the order's signature to the closure application, for applications
  made in the month), customer satisfaction (mean closure survey score of
  the month). A complaint counts for the property company when its first
  responsible department is the property company, else for the regional one.
  The composite rank is the sum of the three ranks (a missing metric ranks
  last).
- Specialists by reception rating (Art. 16), with the bottom ten.
- Service desks (Art. 39): on-the-spot resolution rate, completion rate,
  and the desk's own deadlines met (order submission, closure check,
  callback after a blocked visit).
"""
from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

# A read-model row (readmodel.ranking_inputs) and a ranking entry (JSON-able).
Row = Mapping[str, Any]
Entry = dict[str, Any]
Applications = Mapping[str, Sequence[Row]]

DESK_RULES = ("order_submit", "closure_verify", "blocked_callback")


def _in(moment: datetime | None, start: datetime, end: datetime) -> bool:
    return moment is not None and start <= moment < end


def _ratio(part: int, whole: int) -> str | None:
    if not whole:
        return None
    return str((Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), ROUND_HALF_UP))


def _round(value: float | Decimal | None, places: str = "0.01") -> str | None:
    return None if value is None else str(Decimal(value).quantize(Decimal(places), ROUND_HALF_UP))


def company_of(complaint: Row) -> str | None:
    if complaint.get("department") == "property":
        return complaint.get("property_company_id")
    return complaint.get("region_company_id")


def completed_at(complaint_id: str, applications: Applications) -> datetime | None:
    """The closure application that stands (the latest not rejected)."""
    standing = [a for a in applications.get(complaint_id, ()) if a.get("rejected_at") is None
                and a.get("applied_at") is not None]
    return max((a["applied_at"] for a in standing), default=None)


def _metrics(complaints: Iterable[Row], applications: Applications, start: datetime,
             end: datetime) -> Entry:
    due = on_time = 0
    hours: list[float] = []
    scores: list[int] = []
    for c in complaints:
        done = completed_at(c["id"], applications)
        if _in(c.get("completion_due_at"), start, end):
            due += 1
            if done is not None and done <= c["completion_due_at"]:
                on_time += 1
        if _in(done, start, end) and c.get("signed_at") is not None:
            hours.append((done - c["signed_at"]).total_seconds() / 3600)
        for a in applications.get(c["id"], ()):
            if _in(a.get("verified_at"), start, end) and a.get("satisfaction") is not None:
                scores.append(a["satisfaction"])
    return {"due": due, "on_time": on_time, "on_time_rate": _ratio(on_time, due),
            "completed": len(hours),
            "efficiency_median_hours": _round(statistics.median(hours)) if hours else None,
            "surveys": len(scores),
            "satisfaction_mean": _round(Decimal(sum(scores)) / len(scores)) if scores else None}


def _composite(entries: list[Entry]) -> list[Entry]:
    """Rank each metric (best first), sum the ranks; a missing value ranks last."""
    keys = (("on_time_rate", True), ("efficiency_median_hours", False),
            ("satisfaction_mean", True))
    n = len(entries)
    for key, higher_better in keys:
        valued = sorted((e for e in entries if e[key] is not None),
                        key=lambda e: (-Decimal(e[key]) if higher_better else Decimal(e[key]),
                                       e["id"]))
        ranks = {e["id"]: i + 1 for i, e in enumerate(valued)}
        for e in entries:
            e.setdefault("ranks", {})[key] = ranks.get(e["id"], n)
    for e in entries:
        e["score"] = sum(e["ranks"].values())
    entries.sort(key=lambda e: (e["score"], -Decimal(e["on_time_rate"] or -1), e["id"]))
    for i, e in enumerate(entries):
        e["rank"] = i + 1
    return entries


def company_rankings(complaints: Iterable[Row], applications: Applications,
                     reopens: Iterable[Row], units: Mapping[str, Row],
                     projects: Mapping[str, Row], start: datetime,
                     end: datetime) -> dict[str, list[Entry]]:
    by_company: dict[str, list[Row]] = {}
    by_project: dict[tuple[str, str], list[Row]] = {}
    for c in complaints:
        company = company_of(c)
        if company is None:
            continue
        by_company.setdefault(company, []).append(c)
        by_project.setdefault((company, c["project_id"]), []).append(c)
    reopened: dict[str, int] = {}
    for r in reopens:
        if _in(r["reopened_at"], start, end):
            reopened[r["complaint_id"]] = reopened.get(r["complaint_id"], 0) + 1
    out: dict[str, list[Entry]] = {"region_company": [], "property_company": []}
    for company, members in by_company.items():
        unit = units.get(company) or {}
        kind = unit.get("kind") or ("property_company" if any(
            c.get("property_company_id") == company for c in members) else "region_company")
        entry = dict(_metrics(members, applications, start, end), id=company,
                     name=unit.get("name") or company,
                     reopened=sum(reopened.get(c["id"], 0) for c in members))
        project_entries = []
        for (owner, project_id), project_members in by_project.items():
            if owner != company:
                continue
            project_entries.append(dict(
                _metrics(project_members, applications, start, end), id=project_id,
                name=(projects.get(project_id) or {}).get("name") or project_id,
                reopened=sum(reopened.get(c["id"], 0) for c in project_members)))
        entry["projects"] = _composite(project_entries)
        out.setdefault(kind, []).append(entry)
    return {kind: _composite(entries) for kind, entries in out.items()}


def specialist_ranking(ratings: Iterable[Row], people: Mapping[str, Row], start: datetime,
                       end: datetime, size: int = 10, min_ranked: int = 11) -> dict[str, Any]:
    """Mean reception score of the month (Art. 16), best first; the bottom
    `size` are named only when more than `size` specialists were rated."""
    scores: dict[str, list[int]] = {}
    for rating in ratings:
        if _in(rating["rated_at"], start, end) and rating.get("specialist_id"):
            scores.setdefault(rating["specialist_id"], []).append(rating["score"])
    entries: list[Entry] = [
        {"person_id": pid, "name": (people.get(pid) or {}).get("name"), "ratings": len(values),
         "mean": Decimal(sum(values)) / len(values)}
        for pid, values in scores.items()]
    entries.sort(key=lambda e: (-e["mean"], -e["ratings"], e["person_id"]))
    bottom = set()
    if len(entries) >= min_ranked:
        bottom = {e["person_id"] for e in entries[-size:]}
    for i, e in enumerate(entries):
        e["rank"] = i + 1
        e["mean"] = _round(e["mean"])
        e["bottom_ten"] = e["person_id"] in bottom
    return {"ranked": len(entries), "entries": entries,
            "bottom_ten": [e["person_id"] for e in entries if e["bottom_ten"]]}


def desk_assessment(complaints: Iterable[Row], applications: Applications,
                    outcomes: Iterable[Row], projects: Mapping[str, Row], start: datetime,
                    end: datetime) -> list[Entry]:
    desks: dict[str, Entry] = {}

    def desk(project_id: str) -> Entry:
        return desks.setdefault(project_id, {
            "project_id": project_id,
            "name": (projects.get(project_id) or {}).get("name") or project_id,
            "received": 0, "resolved_on_spot": 0, "due": 0, "completed": 0,
            "deadlines": 0, "deadlines_met": 0})

    project_of = {}
    for c in complaints:
        project_of[c["id"]] = c["project_id"]
        if _in(c.get("recorded_at"), start, end):
            d = desk(c["project_id"])
            d["received"] += 1
            d["resolved_on_spot"] += bool(c.get("resolved_on_spot"))
        if _in(c.get("completion_due_at"), start, end):
            d = desk(c["project_id"])
            d["due"] += 1
            done = completed_at(c["id"], applications)
            d["completed"] += done is not None and done < end
    for o in outcomes:
        if o["rule"] in DESK_RULES and _in(o["due_at"], start, end) \
                and o.get("complaint_id") in project_of and o["outcome"] in ("met", "missed"):
            d = desk(project_of[o["complaint_id"]])
            d["deadlines"] += 1
            d["deadlines_met"] += o["outcome"] == "met"
    out = []
    for d in desks.values():
        d["on_spot_rate"] = _ratio(d["resolved_on_spot"], d["received"])
        d["completion_rate"] = _ratio(d["completed"], d["due"])
        d["deadlines_met_rate"] = _ratio(d["deadlines_met"], d["deadlines"])
        out.append(d)
    return sorted(out, key=lambda d: d["project_id"])
