"""The monthly deductions report for 100,000 complaints and 1,000,000 ledger
lines (time and peak memory), and the ledger's insertion rate next to a raw
INSERT and COPY of the same rows in the same run.

    .venv/bin/python -m benchmarks.monthly_report --complaints 100000 --lines 1000000

Runs in a scratch database (dropped and recreated). Phases:
1. load: 100,000 complaints into penalty's read-model and 1,000,000 lines
   into the ledger of one month by COPY (the bulk path);
2. report: in a fresh process, so its peak RSS is its own: the per-person,
   per-rule aggregate, the CSV and the XLSX (each rendered twice, to check
   the bytes are the same), and the month's rankings over the 100,000
   complaints;
3. insertion: deadline.missed events through the service's own consumer
   (inbox + rule + priced line + deduction.recorded outbox row, one
   transaction per event), lines written by `insert_line` in batches of
   500 per transaction (the month's cut), next to a raw INSERT of the same
   columns and a raw COPY.
"""
import argparse
import hashlib
import json
import resource
import subprocess
import sys
import time
import uuid
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import shared  # noqa: F401  (psycopg wait function first)

# isort: split
import psycopg

from shared.db import Database, admin_dsn
from shared.migrate import migrate

ZONE = ZoneInfo("Asia/Shanghai")
MONTH = "2026-11"
START = datetime(2026, 11, 1, tzinfo=ZONE)
RULES = [("order_submit", "14, 18", Decimal("100.00")), ("order_sign", "14, 18", Decimal("300.00")),
         ("plan", "22, 35", Decimal("300.00")), ("progress", "26, 35", Decimal("200.00")),
         ("overdue", "36", Decimal("100.00")), ("overdue", "36", Decimal("50.00")),
         ("visit", "22, 35", Decimal("2000.00"))]


def fresh_database(dsn):
    name = dsn.rsplit("/", 1)[1]
    with psycopg.connect(admin_dsn(dsn), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    migrate(dsn, ["clock", "penalty"])


def rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- 1. load ------------------------------------------------------------------------------

def load(db, complaints, lines, people):
    started = time.perf_counter()
    with db.transaction() as conn, conn.cursor().copy(
            "COPY penalty.complaints (id, project_id, region_company_id, property_company_id, "
            "category, room, specialist_id, recorded_at, resolved_on_spot, signed_at, department, "
            "handler_person_id, completion_due_at) FROM STDIN") as copy:
        for n in range(complaints):
            recorded = START + timedelta(minutes=(n * 37) % (29 * 24 * 60))
            project = f"P{n % 40:02d}"
            copy.write_row((f"C-GZ-2026-{n:06d}", project, f"rc-{n % 4}", f"pc-{n % 4}",
                            "maintenance_repair" if n % 3 else "sales_contract",
                            f"{n % 500}-{n % 7}", f"spec-{n % 200}", recorded, n % 10 == 0,
                            recorded + timedelta(hours=1), "property" if n % 3 else "marketing",
                            f"head-{n % 80}", recorded + timedelta(days=3)))
    with db.transaction() as conn, conn.cursor().copy(
            "COPY penalty.closures (application_id, complaint_id, applied_at, verified_at, "
            "satisfaction) FROM STDIN") as copy:
        for n in range(0, complaints, 2):
            applied = START + timedelta(minutes=(n * 37) % (29 * 24 * 60), days=2)
            copy.write_row((f"A-{n}", f"C-GZ-2026-{n:06d}", applied,
                            applied + timedelta(minutes=20), 1 + n % 5))
    with db.transaction() as conn, conn.cursor().copy(
            "COPY penalty.ratings (complaint_id, specialist_id, score, rated_at) "
            "FROM STDIN") as copy:
        for n in range(0, complaints, 3):
            copy.write_row((f"C-GZ-2026-{n:06d}", f"spec-{n % 200}", 1 + (n * 7) % 5,
                            START + timedelta(minutes=n % (29 * 24 * 60))))
    loaded_complaints = time.perf_counter() - started

    started = time.perf_counter()
    with db.transaction() as conn:
        copy_lines(conn, lines, people, complaints)
    loaded_lines = time.perf_counter() - started
    with db.connection() as conn:
        conn.execute("ANALYZE penalty.deductions")
        conn.execute("ANALYZE penalty.complaints")
    return loaded_complaints, loaded_lines


def line_rows(count, people, complaints, prefix="L"):
    created = START + timedelta(days=30)
    for n in range(count):
        rule, article, amount = RULES[n % len(RULES)]
        person = f"person-{n % people:05d}"
        evidence = json.dumps({"due_at": (START + timedelta(seconds=n)).isoformat(),
                               "late_seconds": 60 + n % 3600, "blocks": 1 + n % 12})
        yield (str(uuid.uuid4()), person, f"员工{n % people}", f"unit-{n % 90}",
               f"单位{n % 90}", amount, None, None, rule, article,
               f"C-GZ-2026-{n % complaints:06d}", MONTH, START + timedelta(seconds=n % 2500000),
               evidence, "2026.1", f"{prefix}:{rule}:{n}", f"timer-{n}", None,
               "{}", None, created)


COLUMNS = ("id, person_id, person_name, unit_id, unit_name, amount, bonus_percent, bonus, "
           "rule, article, complaint_id, month, charged_at, evidence, rule_version, source_key, "
           "timer_id, reverses, flags, source_event_id, created_at")


def copy_lines(conn, count, people, complaints, prefix="L"):
    with conn.cursor().copy(f"COPY penalty.deductions ({COLUMNS}) FROM STDIN") as copy:
        for row in line_rows(count, people, complaints, prefix):
            copy.write_row(row)


# -- 2. report (run in a child process) -----------------------------------------------------------

def report_phase(dsn):
    from services.penalty import months, rankings, readmodel, repository
    from services.penalty import report as report_mod
    db = Database(dsn, size=2)
    out = {"rss_start_mb": rss_mb()}
    started = time.perf_counter()
    with db.connection() as conn:
        rows = repository.report_rows(conn, MONTH)
    out["aggregate_s"] = time.perf_counter() - started
    built = report_mod.build(MONTH, rows)
    t = time.perf_counter()
    csv_bytes = report_mod.render_csv(built)
    xlsx_bytes = report_mod.render_xlsx(built)
    out["render_s"] = time.perf_counter() - t
    out["report_s"] = time.perf_counter() - started
    again = report_mod.build(MONTH, list(reversed(rows)))
    out["same_bytes"] = (hashlib.sha256(report_mod.render_csv(again)).digest()
                         == hashlib.sha256(csv_bytes).digest()
                         and report_mod.render_xlsx(again) == xlsx_bytes)
    out.update(lines=built.line_count, people=len(built.people),
               total=str(built.total_amount), csv_kb=len(csv_bytes) // 1024,
               xlsx_kb=len(xlsx_bytes) // 1024)
    out["rss_after_report_mb"] = rss_mb()
    started = time.perf_counter()
    start, end = months.month_bounds(MONTH, ZONE)
    with db.connection() as conn:
        inputs = readmodel.ranking_inputs(conn, start, end)
    companies = rankings.company_rankings(inputs["complaints"], inputs["applications"],
                                          inputs["reopens"], {}, {}, start, end)
    rankings.specialist_ranking(inputs["ratings"], {}, start, end)
    rankings.desk_assessment(inputs["complaints"], inputs["applications"], inputs["outcomes"],
                             {}, start, end)
    out["rankings_s"] = time.perf_counter() - started
    out["ranked_complaints"] = len(inputs["complaints"])
    out["companies"] = sum(len(v) for v in companies.values())
    out["rss_peak_mb"] = rss_mb()
    db.close()
    print(json.dumps(out))


# -- 3. insertion rates ----------------------------------------------------------------------------

def insertion(db, events, batch):
    from nameko.testing.services import worker_factory

    from services.penalty import ledger, repository
    from services.penalty.rules import load_rulebook
    from services.penalty.service import PenaltyService
    from shared.clock import FixedClock
    from shared.events.envelope import build_envelope
    from shared.outbox import Outbox

    book = load_rulebook()
    clock = FixedClock(START + timedelta(days=30))
    service = worker_factory(PenaltyService, db=db, outbox=Outbox("penalty", "penalty", "GZ"),
                             rulebook=book, clock=clock)
    envelopes = []
    for n in range(events):
        data = {"timer_id": f"bench-{n}", "rule": "order_submit", "article": "14, 18",
                "person_id": f"person-{n % 500:05d}", "role": "specialist",
                "due_at": START + timedelta(minutes=n),
                "done_at": START + timedelta(minutes=n, seconds=700),
                "late_seconds": 700, "final": True, "holder_intervals": None}
        envelopes.append(json.loads(build_envelope("deadline.missed", data, producer="sla",
                                                   region="GZ", occurred_at=clock.now(),
                                                   complaint_id=f"C-{n}").body))
    started = time.perf_counter()
    for payload in envelopes:
        service.on_deadline_missed(payload)
    consumer = events / (time.perf_counter() - started)

    charges = [ledger.missed_charges({"timer_id": f"batch-{n}", "rule": "plan", "article": "",
                                      "person_id": f"person-{n % 500:05d}", "role": "handler",
                                      "due_at": START + timedelta(minutes=n), "done_at": None,
                                      "late_seconds": 60, "final": False}, f"C-{n}", book, ZONE)[0]
               for n in range(events)]
    started = time.perf_counter()
    for offset in range(0, events, batch):
        with db.transaction() as conn:
            repository.insert_lines(conn, [
                ledger.to_line(charge, None, line_id=str(uuid.uuid4()), now=clock.now(), zone=ZONE)
                for charge in charges[offset:offset + batch]])
    batched = events / (time.perf_counter() - started)

    rows = list(line_rows(events * 2, 500, 1000, prefix="RAW"))
    placeholders = ", ".join(["%s"] * 21)
    started = time.perf_counter()
    for row in rows[events:]:
        with db.transaction() as conn:
            conn.execute(f"INSERT INTO penalty.deductions ({COLUMNS}) VALUES ({placeholders})",
                         row)
    raw_single = events / (time.perf_counter() - started)
    rows = rows[:events]
    started = time.perf_counter()
    for offset in range(0, events, batch):
        with db.transaction() as conn, conn.cursor() as cur:
            cur.executemany(f"INSERT INTO penalty.deductions ({COLUMNS}) VALUES ({placeholders})",
                            rows[offset:offset + batch])
    raw_insert = events / (time.perf_counter() - started)

    started = time.perf_counter()
    with db.transaction() as conn:
        copy_lines(conn, events, 500, 1000, prefix="COPY")
    raw_copy = events / (time.perf_counter() - started)
    return consumer, raw_single, batched, raw_insert, raw_copy


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--complaints", type=int, default=100_000)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=3_000)
    parser.add_argument("--events", type=int, default=3_000,
                        help="events / lines for the insertion rates")
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--dsn", default="postgresql://postgres@127.0.0.1:5432/ccrm_bench_penalty")
    parser.add_argument("--report-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.report_only:
        report_phase(args.dsn)
        return

    fresh_database(args.dsn)
    db = Database(args.dsn, size=2)
    load_complaints_s, load_lines_s = load(db, args.complaints, args.lines, args.people)
    child = subprocess.run([sys.executable, "-m", "benchmarks.monthly_report", "--report-only",
                            "--dsn", args.dsn], capture_output=True, text=True, check=True)
    report = json.loads(child.stdout.strip().splitlines()[-1])
    consumer, raw_single, batched, raw_insert, raw_copy = insertion(db, args.events, args.batch)
    db.close()

    print(f"load: {args.complaints:,} complaints {load_complaints_s:.1f} s, "
          f"{args.lines:,} lines by COPY {load_lines_s:.1f} s "
          f"({args.lines / load_lines_s:,.0f} lines/s)")
    print()
    print("| complaints | ledger lines | people | report (aggregate + CSV + XLSX) s | "
          "of which aggregate s | rankings s | peak RSS MB | same bytes twice |")
    print("|---:|---:|---:|---:|---:|---:|---:|---|")
    print(f"| {args.complaints:,} | {report['lines']:,} | {report['people']:,} | "
          f"{report['report_s']:.1f} | {report['aggregate_s']:.1f} | {report['rankings_s']:.1f} | "
          f"{report['rss_peak_mb']:.0f} | {report['same_bytes']} |")
    print()
    print(f"report: total {report['total']} CNY, CSV {report['csv_kb']} KB, XLSX "
          f"{report['xlsx_kb']} KB; RSS at start {report['rss_start_mb']:.0f} MB, after the "
          f"report {report['rss_after_report_mb']:.0f} MB, after the rankings "
          f"{report['rss_peak_mb']:.0f} MB ({report['ranked_complaints']:,} complaints ranked)")
    print()
    print("| ledger insertion (lines/s) | rate | / raw INSERT alike | / raw COPY |")
    print("|---|---:|---:|---:|")
    for label, rate, alike in (
            ("consumer: one deadline.missed per transaction (inbox + rule + line + outbox)",
             consumer, raw_single),
            ("raw INSERT, one row per transaction", raw_single, raw_single),
            (f"insert_lines, {args.batch} per transaction (the month's cut)", batched, raw_insert),
            (f"raw INSERT, {args.batch} per transaction", raw_insert, raw_insert),
            ("raw COPY", raw_copy, raw_insert)):
        print(f"| {label} | {rate:,.0f} | {rate / alike:.0%} | {rate / raw_copy:.0%} |")


if __name__ == "__main__":
    main()
