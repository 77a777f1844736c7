"""The overdue board's data (routes/web.py) asks each service once, whatever
the number of overdue complaints: intake's list (by pages), sla's overdue
list, dispatch's routing of all of them (`routing_overview`). The services
are recording proxies behind the real typed clients; a board that asked
dispatch once per complaint (the N+1 it did before) fails here."""
from datetime import UTC, datetime

import pytest

from services.gateway.auth import Principal
from services.gateway.routes.web import WebRoutes
from shared import roles
from shared.clock import FixedClock

NOW = datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
GM = Principal("gm-1", "总经理", roles=frozenset(roles.CENTRE))


class Recording:
    """A service proxy: records each call and answers with `answers[method]`."""

    def __init__(self, service_name, answers):
        self.service_name = service_name
        self.answers = answers
        self.calls = []

    def __getattr__(self, method):
        def call(*args, **kwargs):
            self.calls.append((method, args, kwargs))
            answer = self.answers[method]
            return answer(*args, **kwargs) if callable(answer) else answer
        return call


def complaint(n):
    return {"id": f"C-GZ-2026-{n:06d}", "project_id": "GZ-P01", "room": None,
            "category": "sales_contract", "category_label": "营销签约类",
            "handler_id": "h-1", "escalation_level": None}


class Board(WebRoutes):
    def __init__(self, count, dispatch_down=False):
        complaints = [complaint(n) for n in range(1, count + 1)]

        def page(actor, filters):
            size, number = filters["page_size"], filters["page"]
            return {"items": complaints[(number - 1) * size:number * size],
                    "total": len(complaints)}

        def overdue(complaint_ids, limit=None, offset=0):
            return {"items": [{"complaint_id": i, "days_overdue": 3, "tier": 1,
                               "completion_due_at": "2026-12-05T10:00:00+08:00",
                               "handler_person_id": "h-1"} for i in complaint_ids]}

        def routings(ids):
            if dispatch_down:
                raise ConnectionError("dispatch is not there")
            return [{"complaint_id": i, "completion_due_at": None,
                     "routing": {"company_id": "rc-gz", "company_name": "广州公司",
                                 "department": "marketing", "department_name": "营销部",
                                 "handler": {"person_id": "h-1", "name": "冯晓东"}}}
                    for i in ids]

        self.clock = FixedClock(NOW)
        self.intake = Recording("intake", {"list_complaints": page})
        self.sla = Recording("sla", {"list_overdue": overdue})
        self.dispatch = Recording("dispatch", {
            "routing_overview": routings,
            "get_complaint_view": lambda *a, **k: pytest.fail("asked one complaint at a time")})

    def rpc_timeout(self):
        return 2

    def board(self):
        return WebRoutes.web_overdue_board.__wrapped__(self, None, principal=GM, payload={})


@pytest.mark.parametrize("count", [1, 7, 250])
def test_the_board_asks_each_service_once_whatever_the_count(count):
    board = Board(count)
    answer = board.board()
    assert len(answer["items"]) == count
    assert all(item["department_name"] == "营销部" and item["handler_name"] == "冯晓东"
               for item in answer["items"])
    assert [c[0] for c in board.sla.calls] == ["list_overdue"]
    [(method, args, _)] = board.dispatch.calls
    assert method == "routing_overview" and sorted(args[0]) == [
        complaint(n)["id"] for n in range(1, count + 1)]
    assert len(board.intake.calls) == -(-count // 100)      # its pages, not its complaints


def test_the_board_still_shows_when_dispatch_does_not_answer():
    board = Board(3, dispatch_down=True)
    items = board.board()["items"]
    assert len(items) == 3 and all(i["department_name"] is None for i in items)
    assert all(i["handler_id"] == "h-1" for i in items)
