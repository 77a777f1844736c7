"""Penalty's SQL, by job: `lines` (the ledger and open misses), `cases`
(appeals and sanction cases), `reports` (the monthly close: reports,
analyses, the bottom-ten history, locks). The service layer imports the
module of its job; the names are also here for the benchmarks and tests."""
from services.penalty.repository.cases import (
    appeal_for_line,
    appeal_from_row,
    case_from_row,
    count_cases,
    get_appeal,
    get_case,
    insert_appeal,
    insert_case,
    list_appeals,
    list_cases,
    open_cases_for_timer,
    record_appeal_decision,
    save_case,
)
from services.penalty.repository.lines import (
    blocks_charged,
    count_lines,
    end_miss,
    get_line,
    insert_line,
    insert_lines,
    insert_lines_copy,
    line_from_row,
    lines_for_timer,
    list_lines,
    open_miss,
    open_misses_before,
    report_rows,
)
from services.penalty.repository.reports import (
    bottom_ten_months,
    insert_analysis,
    insert_report,
    latest_analysis,
    latest_report,
    lock,
    ping,
    replace_bottom_ten,
    seen,
)

__all__ = [
    "appeal_for_line", "appeal_from_row", "blocks_charged", "bottom_ten_months", "case_from_row",
    "count_cases", "count_lines", "end_miss", "get_appeal", "get_case", "get_line",
    "insert_analysis", "insert_appeal", "insert_case", "insert_line", "insert_lines",
    "insert_lines_copy", "insert_report", "latest_analysis", "latest_report", "line_from_row",
    "lines_for_timer", "list_appeals", "list_cases", "list_lines", "lock", "open_cases_for_timer",
    "open_miss", "open_misses_before", "ping", "record_appeal_decision", "replace_bottom_ten",
    "report_rows", "save_case", "seen",
]
