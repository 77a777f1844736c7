"""The fault test's parts on the real broker, database and S3 server: the
complaint-life driver takes complaints from recording to closure through the
gateway, and the reconciliation counts zero for a clean run and exactly the
defects planted afterwards (a lost event, an unapplied one, an unpublished
outbox row, a lost complaint, a charge made twice; and what the harder faults
of issue 15 could break: a step stored twice after a lost answer, a media row
whose object is gone, a session left inside a transaction, a user answered
with a hang or a 500 during a fault). Without this, a reconciliation that
always said zero would pass the fault test."""
import json
import threading
import time
import urllib.parse
import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from minio import Minio
from nameko.constants import WEB_SERVER_CONFIG_KEY

from scripts.event_log import EventLog
from scripts.fault_chaos import FAULTS, plan, wrong_answers
from scripts.fault_parts import answers_during, store_keys
from scripts.life import ComplaintLife, Gateways, People, Timings
from scripts.reconcile import FAILURES, consumer_bindings, reconcile
from scripts.suite import management
from services.dispatch.load_directory import load_organisation
from services.dispatch.service import DispatchService
from services.gateway.service import GatewayService
from services.gateway.tokens import directory_people, issue_tokens
from services.intake.remote import clear_caches
from services.intake.service import IntakeService
from services.media.service import MediaService
from shared.clock import SimulationClock
from shared.config import REPO_ROOT
from shared.outbox import Outbox

pytestmark = pytest.mark.integration

DEMO_FILE = REPO_ROOT / "data" / "organisation" / "demo.yaml"
NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
SERVICES = ("intake", "dispatch", "media", "gateway")


SIX = ["dispatch", "intake", "media", "penalty", "sla", "gateway"]


def test_the_plan_meets_every_fault_early_with_postgres_twice_and_kills_between():
    order = plan(FAULTS, SIX, 2)
    kinds = [kind for kind, _ in order]
    first_cycle = kinds[:kinds.index("partition") + 1]
    assert set(first_cycle) == set(FAULTS) and first_cycle.count("postgres") == 2
    assert kinds[0] == "kill"
    while_kills_remain = kinds[:max(i for i, k in enumerate(kinds) if k == "kill") + 1]
    assert all("kill" in pair for pair in zip(while_kills_remain, while_kills_remain[1:],
                                                      strict=False))
    assert sorted(t for k, t in order if k == "kill") == sorted(
        f"{s}-{i}" for s in SIX for i in (1, 2))
    assert ("stall", "dispatch-1") in order and ("partition", "penalty") in order
    # CI's short form: the chosen kinds only, a PostgreSQL restart before the stall.
    short = [k for k, _ in plan(["kill", "broker", "postgres", "stall", "latency"], SIX, 2)]
    assert short[:8] == ["kill", "postgres", "kill", "broker", "kill", "stall", "kill",
                         "latency"]


def test_wrong_answers_are_hangs_500s_and_503s_without_a_message():
    quick_503 = {"fault": "disk", "status": 503, "seconds": 5.1, "message": "消息服务器空间不足"}
    answers = [quick_503, dict(quick_503, status=200, message=""),
               dict(quick_503, status=201, seconds=19.0),
               dict(quick_503, seconds=25.0),                   # a hang
               dict(quick_503, status=500, message="boom"),
               dict(quick_503, message=""),
               dict(quick_503, status=None, message="ReadTimeout")]
    assert wrong_answers(answers) == answers[3:]


def test_consumer_bindings_are_read_from_nameko_queue_names():
    bindings = [
        {"source": "intake.events", "routing_key": "order.signed",
         "destination": "evt-intake-order.signed--dispatch.on_order_signed"},
        {"source": "intake.events", "routing_key": "#", "destination": "fault.subscriber"},
        {"source": "", "routing_key": "rpc-intake", "destination": "rpc-intake"},
    ]
    assert consumer_bindings(bindings) == [
        ("intake", "order.signed", "dispatch",
         "evt-intake-order.signed--dispatch.on_order_signed")]


@pytest.fixture
def suite(runner_factory, ccrm_config, s3_config, web_config, clean_database, tmp_path):
    clear_caches()
    SimulationClock(clean_database, cache_seconds=0).set(NOW)
    load_organisation(clean_database, DEMO_FILE, now=NOW,
                      outbox=Outbox("dispatch", "dispatch", "GZ"))
    address = web_config[WEB_SERVER_CONFIG_KEY]
    config = dict(ccrm_config, MINIO=s3_config, RPC_TIMEOUT=10,
                  **{WEB_SERVER_CONFIG_KEY: address})
    events = EventLog(config["AMQP_URI"], [f"{s}.events" for s in SERVICES],
                      f"test.subscriber.{uuid.uuid4().hex[:6]}", say=lambda *_: None)
    events.start()
    assert events.ready.wait(10)
    runner = runner_factory(config, GatewayService, IntakeService, DispatchService, MediaService)
    runner.start()
    tokens = issue_tokens(clean_database, directory_people(DEMO_FILE), NOW)
    yield {"gateways": Gateways([f"http://{address}"], patience=30),
           "people": People(tokens), "events": events, "database": clean_database,
           "vhost": urllib.parse.urlsplit(config["AMQP_URI"]).path[1:], "s3": s3_config,
           "dsn": config["DATABASE_URL"]}
    events.stop()
    clear_caches()


def settle(events, database, quiet=1.0, timeout=20.0):
    from scripts.reconcile import outbox_rows
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        with database.connection() as conn:
            backlog = [e for _, e, _, published in outbox_rows(conn) if not published]
        if not backlog and events.quiet_for() > quiet:
            return
        time.sleep(0.2)
    raise AssertionError("the suite did not settle")


def run_reconcile(suite, accepted, completed, events=None, failed=(), exited=(),
                  answers=(), stuck_after=60):
    status, bindings = management(
        "GET", f"/api/bindings/{urllib.parse.quote(suite['vhost'], safe='')}")
    assert status == 200, bindings
    s3 = suite["s3"]
    with suite["database"].connection() as conn:
        return reconcile(conn, accepted=accepted, completed=completed, failed=list(failed),
                         events=events if events is not None else suite["events"].snapshot(),
                         bindings=bindings, queue_depths={}, dead_letters=0, hub_blocked=[],
                         exited=list(exited), object_keys=store_keys(
                             s3["endpoint"], s3["bucket"], s3["access_key"], s3["secret_key"]),
                         wrong_answers=wrong_answers(answers), stuck_after=stuck_after)


def test_lives_run_to_closure_and_the_reconciliation_counts_what_is_planted(suite):
    timings = Timings()
    lives = [ComplaintLife(suite["gateways"], suite["people"], f"t-{n}", timings, wait_seconds=30)
             for n in range(2)]
    threads = [threading.Thread(target=life.run) for life in lives]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert all(life.done_steps == list(timings.by_step) for life in lives), \
        [life.done_steps for life in lives]
    assert all(len(seconds) == 2 for seconds in timings.by_step.values())
    accepted = {life.room: life.complaint_id for life in lives}
    completed = [life.complaint_id for life in lives]
    settle(suite["events"], suite["database"])

    failures, figures, examples = run_reconcile(suite, accepted, completed)
    assert failures == dict.fromkeys(FAILURES, 0), examples
    assert figures["complaints_closed"] == 2
    assert figures["events_published"] == len(suite["events"].snapshot()) > 20
    assert figures["inbox_rows"]["intake"] and figures["inbox_rows"]["dispatch"]

    # Plant one of each defect.
    db, first = suite["database"], lives[0].complaint_id
    events = suite["events"].snapshot()
    routed = next(e for e in events.values()
                  if e["type"] == "complaint.routed" and e["complaint_id"] == first)
    lost = next(e for e in events.values() if e["type"] == "visit.recorded")
    del events[lost["event_id"]]
    with db.transaction() as conn:
        conn.execute("DELETE FROM intake.inbox WHERE event_id = %s", (routed["event_id"],))
        conn.execute("""UPDATE intake.outbox SET published_at = NULL
                        WHERE id = (SELECT max(id) FROM intake.outbox)""")
        conn.execute(
            """INSERT INTO penalty.deductions (id, person_id, rule, article, complaint_id, month,
                   charged_at, evidence, rule_version, source_key, timer_id, amount, created_at)
               VALUES (%(id)s, 'p01-spec-1', 'order_submit', 'Art. 14', %(c)s, '2026-11',
                   %(at)s, '{}', 't', %(k1)s, 'timer-x', 100, %(at)s),
                      (%(id2)s, 'p01-spec-1', 'order_submit', 'Art. 14', %(c)s, '2026-11',
                   %(at)s, '{}', 't', %(k2)s, 'timer-x', 100, %(at)s)""",
            {"id": uuid.uuid4(), "id2": uuid.uuid4(), "c": first, "at": NOW,
             "k1": "planted:1", "k2": "planted:2"})
    # Issue 15's faults: a lost answer retried stored a step twice (a PostgreSQL
    # restart at the commit, a stall); an object gone under its media row (a
    # store outage, an upload's clean-up after a commit whose answer was lost);
    # a session left inside a transaction by a cut-off client; a user answered
    # with a hang during the disk alarm, a 500 during the store outage.
    with db.transaction() as conn:
        conn.execute("""INSERT INTO dispatch.progress
                        SELECT (jsonb_populate_record(NULL::dispatch.progress,
                                to_jsonb(p) || jsonb_build_object('id', p.id || '-again'))).*
                        FROM dispatch.progress p WHERE complaint_id = %s""", (first,))
        photo = conn.execute("SELECT key FROM media.objects WHERE kind = 'photo' LIMIT 1"
                             ).fetchone()["key"]
    s3 = suite["s3"]
    Minio(s3["endpoint"], access_key=s3["access_key"], secret_key=s3["secret_key"],
          secure=False, region="us-east-1").remove_object(s3["bucket"], photo)
    stalled = psycopg.connect(suite["dsn"], autocommit=False)
    stalled.execute("SELECT 1")               # BEGIN, then nothing: idle in transaction
    answers = [{"fault": "disk", "status": None, "seconds": 60.0, "message": "ReadTimeout"},
               {"fault": "store", "status": 500, "seconds": 0.3, "message": "internal"},
               {"fault": "store", "status": 503, "seconds": 0.3, "message": "文件存储暂不可用"}]
    try:
        failures, _, examples = run_reconcile(
            suite, dict(accepted, **{"F-ghost": "C-GZ-2026-999999"}), completed, events=events,
            failed=[("t-x", None, "refused")], exited=[{"process": "dispatch-2", "status": 1}],
            answers=answers, stuck_after=0)
    finally:
        stalled.close()
    assert {k: v for k, v in failures.items() if v} == {
        "complaints_lost": 1, "lives_failed": 1, "events_unpublished": 1, "events_lost": 1,
        "events_not_applied": 1, "deductions_charged_twice": 1, "services_exited": 1,
        "effects_duplicated": 1, "media_objects_missing": 1, "sessions_stuck": 1,
        "fault_answers_wrong": 2}, examples
    assert examples["events_not_applied"][0] == ("intake", "complaint.routed",
                                                 routed["event_id"])
    assert examples["media_objects_missing"][0][1] == photo
    assert examples["effects_duplicated"][0][0] == "progress"


def plant_line(conn, month, key, at):
    line_id = uuid.uuid4()
    conn.execute(
        """INSERT INTO penalty.deductions (id, person_id, rule, article, complaint_id, month,
               charged_at, evidence, rule_version, source_key, timer_id, amount, created_at)
           VALUES (%(id)s, 'rcgz-mkt-head', 'plan', '22, 35', 'C-GZ-2026-000001', %(month)s,
               %(at)s, '{}', '2026.1', %(key)s, %(key)s, 300, %(at)s)""",
        {"id": line_id, "month": month, "at": at, "key": key})
    return str(line_id)


def plant_report(conn, month, revision, line_ids, at):
    conn.execute(
        """INSERT INTO penalty.monthly_reports (month, revision, issued_at, trigger, snapshot,
               totals, line_count, csv_media_id, xlsx_media_id, csv_sha256, xlsx_sha256)
           VALUES (%(month)s, %(revision)s, %(at)s, 'monthly_report.due', '{}', '{}',
               %(n)s, 'm', 'm', 's', 's')""",
        {"month": month, "revision": revision, "at": at, "n": len(line_ids)})
    for line_id in line_ids:
        conn.execute("INSERT INTO penalty.report_lines (month, revision, deduction_id) "
                     "VALUES (%s, %s, %s)", (month, revision, line_id))


def test_the_reconciliation_counts_lines_no_report_carries_and_lines_carried_twice(
        clean_database):
    """Every fine reaches HR, once: each line of a reported (or due) month in
    exactly one revision of its own month. Clean, then one of each defect."""
    def counted():
        with clean_database.connection() as conn:
            failures, figures, examples = reconcile(
                conn, accepted={}, completed=[], failed=[], events={}, bindings=[],
                queue_depths={}, dead_letters=0, hub_blocked=[])
        return {k: v for k, v in failures.items() if v}, figures, examples

    at = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    with clean_database.transaction() as conn:
        october = [plant_line(conn, "2026-10", f"oct-{n}", at) for n in range(2)]
        plant_report(conn, "2026-10", 1, october[:1], at)
        plant_report(conn, "2026-10", 2, october[1:], at)      # a late line's revision
        plant_line(conn, "2026-11", "nov-open", at)            # November is still running
        conn.execute("INSERT INTO penalty.sla_progress (id, fired_through, received_at) "
                     "VALUES (1, %s, %s)", (at, at))
    assert counted()[0] == {}

    with clean_database.transaction() as conn:
        late = plant_line(conn, "2026-10", "oct-late", at)     # arrived, no revision issued
        plant_report(conn, "2026-09", 1, [october[0]], at)     # carried by September too
        # sla fired through the end of November (16:00 UTC is midnight in Shanghai),
        # but November's report was never issued.
        conn.execute("UPDATE penalty.sla_progress SET fired_through = %s",
                      (datetime(2026, 11, 30, 16, 0, tzinfo=UTC),))
    failures, figures, examples = counted()
    assert failures == {"deductions_not_reported": 2, "deductions_reported_twice": 1}, examples
    assert {e["deduction_id"] for e in examples["deductions_not_reported"]} == {
        late, next(e["deduction_id"] for e in examples["deductions_not_reported"]
                   if e["month"] == "2026-11")}
    assert examples["deductions_reported_twice"][0]["revisions"] == ["2026-09 r1", "2026-10 r1"]
    assert figures["monthly_report_revisions"] == 3


def test_gateway_answers_are_counted_per_fault_window(tmp_path):
    def line(ts, status, path="/api/complaints"):
        return json.dumps({"ts": ts, "logger": "nameko.web.server", "message":
                           f'127.0.0.1 - - [x] "GET {path} HTTP/1.1" {status} 10 0.1'})
    (tmp_path / "gateway-1.log").write_text("\n".join([
        "--- 2026-12-06 17:00:00 nameko run", line("2026-12-06T17:00:01+00:00", 200),
        line("2026-12-06T17:00:05+00:00", 503), line("2026-12-06T17:00:06+00:00", 503),
        line("2026-12-06T17:00:07+00:00", 200, "/api/admin/clock"),
        line("2026-12-06T17:00:30+00:00", 200)]), encoding="utf-8")
    fault = {"fault": "postgres", "target": None, "began": "2026-12-06T17:00:04+00:00",
             "ended": "2026-12-06T17:00:06+00:00"}
    assert answers_during(tmp_path, [fault], after=5) == [
        {"fault": "postgres", "target": None, "answers": {503: 2}}]
