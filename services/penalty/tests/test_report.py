"""The monthly report: per person and rule with totals, deterministic bytes,
and what changed when a late line arrived."""
import csv
import hashlib
import io
import time
from decimal import Decimal

import openpyxl

from services.penalty import report
from services.penalty.views import report_from_snapshot

ROWS = [
    {"person_id": "p01-spec-1", "person_name": "李思琪", "unit_name": "GZ-P01 售后服务中心",
     "rule": "order_submit", "article": "14, 18", "lines": 2, "amount": Decimal("400.00"),
     "bonus_percent_pending": Decimal(0), "flags": []},
    {"person_id": "rcgz-mkt-head", "person_name": "冯晓东", "unit_name": "营销部",
     "rule": "overdue", "article": "36", "lines": 10, "amount": Decimal("1300.00"),
     "bonus_percent_pending": Decimal(0), "flags": []},
    {"person_id": "rcgz-mkt-head", "person_name": "冯晓东", "unit_name": "营销部",
     "rule": "visit", "article": "22, 35", "lines": 1, "amount": Decimal("2000.00"),
     "bonus_percent_pending": Decimal(0), "flags": []},
    {"person_id": "gone-1", "person_name": None, "unit_name": None, "rule": "visit",
     "article": "22, 35", "lines": 1, "amount": Decimal(0), "bonus_percent_pending": Decimal(20),
     "flags": ["bonus_unknown", "person_not_in_directory"]},
]


def test_totals_per_person_and_rule():
    built = report.build("2026-11", list(reversed(ROWS)))
    assert [p.person_id for p in built.people] == ["gone-1", "p01-spec-1", "rcgz-mkt-head"]
    head = built.people[2]
    assert (head.lines, head.amount) == (11, Decimal("3300.00"))
    assert built.line_count == 14 and built.total_amount == Decimal("3700.00")
    totals = built.totals()
    assert totals["by_rule"]["visit"] == {"lines": 2, "amount": "2000.00"}
    assert totals["bonus_percent_pending"] == "20.00" and totals["people"] == 3


def test_csv_lists_every_rule_a_subtotal_per_person_and_the_grand_total():
    content = report.render_csv(report.build("2026-11", ROWS))
    assert content.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][0] == "月份 month"
    body = [(r[1], r[4], r[7], r[8]) for r in rows[1:]]
    assert body == [
        ("gone-1", "visit", "1", "0.00"), ("gone-1", "小计 subtotal", "1", "0.00"),
        ("p01-spec-1", "order_submit", "2", "400.00"),
        ("p01-spec-1", "小计 subtotal", "2", "400.00"),
        ("rcgz-mkt-head", "overdue", "10", "1300.00"), ("rcgz-mkt-head", "visit", "1", "2000.00"),
        ("rcgz-mkt-head", "小计 subtotal", "11", "3300.00"),
        ("", "总计 total", "14", "3700.00")]
    assert "奖金未知待折算" in rows[1][10] and "已不在组织架构" in rows[1][10]


def test_the_same_month_gives_the_same_bytes():
    built = report.build("2026-11", ROWS)
    first = (report.render_csv(built), report.render_xlsx(built))
    time.sleep(1.1)    # zip entries would carry the time of writing, to the second
    second = (report.render_csv(report.build("2026-11", list(reversed(ROWS)))),
              report.render_xlsx(report.build("2026-11", ROWS)))
    assert [hashlib.sha256(f).hexdigest() for f in first] == \
        [hashlib.sha256(f).hexdigest() for f in second]


def test_the_xlsx_holds_the_same_table_with_numbers():
    workbook = openpyxl.load_workbook(io.BytesIO(report.render_xlsx(report.build("2026-11", ROWS))))
    sheet = workbook["扣罚明细"]
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=2)]
    assert values[-1][4] == "总计 total" and values[-1][8] == 3700
    summary = [[c.value for c in row] for row in workbook["按规则汇总"].iter_rows(min_row=2)]
    assert summary == [["order_submit", "督办令报批超时", 2, 400],
                       ["overdue", "投诉处理超期", 10, 1300], ["visit", "未按时上门回访", 2, 2000]]
    assert workbook.properties.creator == "CCRM"


def test_a_report_is_rebuilt_from_its_snapshot_to_the_same_bytes():
    built = report.build("2026-11", ROWS)
    again = report_from_snapshot(built.snapshot())
    assert report.render_xlsx(again) == report.render_xlsx(built)
    assert report.render_csv(again) == report.render_csv(built)


def test_the_diff_says_what_a_late_line_changed():
    before = report.build("2026-11", ROWS).snapshot()
    late = [dict(r) for r in ROWS]
    late[0].update(lines=3, amount=Decimal("500.00"))
    late.append({"person_id": "centre-gm", "person_name": "周明华", "unit_name": "中心",
                 "rule": "order_sign", "article": "14, 18", "lines": 1,
                 "amount": Decimal("100.00"), "bonus_percent_pending": Decimal(0), "flags": []})
    after = report.build("2026-11", late).snapshot()
    changes = report.diff(before, after)
    assert changes["lines_added"] == 2 and changes["amount_change"] == "200.00"
    assert changes["changes"] == [
        {"person_id": "centre-gm", "rule": "order_sign", "lines_before": 0, "lines_after": 1,
         "amount_before": "0.00", "amount_after": "100.00"},
        {"person_id": "p01-spec-1", "rule": "order_submit", "lines_before": 2, "lines_after": 3,
         "amount_before": "400.00", "amount_after": "500.00"}]
    assert "新增 2 笔" in changes["summary"] and "+200.00" in changes["summary"]
    assert report.diff(after, after)["changes"] == []
