"""The load benchmark's pure parts (benchmarks.load_stats, benchmarks.load_report):
percentiles, open-loop arrivals, one step's summary, the knee, and the
Markdown that goes into docs/benchmarks.md. The benchmark itself runs the
whole suite for minutes, so it is a command (python -m benchmarks.complaint_life),
not a test."""
import pytest

from benchmarks.complaint_life import parse_args
from benchmarks.load_report import progress_line, render_markdown
from benchmarks.load_stats import (
    LifeResult,
    arrivals,
    departure_rate,
    error_kind,
    find_knee,
    keeps_up,
    percentile,
    queue_summary,
    rates_between,
    rss_summary,
    steady_rate,
    summarise,
)
from scripts.life import CALLS, STEPS


def test_percentile_is_nearest_rank_and_never_below_the_tail():
    values = list(range(1, 101))           # 1..100
    assert percentile(values, 50) == 50
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([5, 1, 9, 7], 99) == 9      # few values: p99 is the maximum
    assert percentile([4.2], 50) == 4.2
    assert percentile([], 99) is None


def test_arrivals_are_evenly_spaced_and_whole():
    assert arrivals(0.5, 10) == [0.0, 2.0, 4.0, 6.0, 8.0]
    assert arrivals(3, 1) == [0.0, 1 / 3, 2 / 3]
    assert len(arrivals(0.25, 60)) == 15
    assert arrivals(0, 60) == [] and arrivals(1, 0) == []


def life(tag, arrival, duration=None, error=None, lag=0.0, steps=None):
    ended = None if duration is None else arrival + duration
    return LifeResult(tag=tag, arrival=arrival, started=arrival + lag, ended=ended,
                      error=error, steps=steps or {})


def test_summary_counts_completed_failed_and_unfinished_lives():
    lives = [
        life("a", 0.0, 10.0, steps={"record": 0.5, "sign": 1.0}, lag=0.1),
        life("b", 1.0, 12.0, steps={"record": 0.7, "sign": 2.0}),
        life("c", 2.0, 5.0, error="StepRefused: sign: HTTP 409: {}"),
        life("d", 3.0, 50.0),              # ends after the cutoff: unfinished
        life("e", 4.0, None),              # never ended
        life("f", 5.0, 45.0, error="GaveUp: GET /api/complaints/C-1: still failing"),
    ]
    summary = summarise(lives, rate=0.6, seconds=10.0, cutoff=40.0)
    assert (summary["started"], summary["completed"], summary["failed"],
            summary["unfinished"]) == (6, 2, 2, 2)
    assert summary["offered_per_s"] == 0.6
    assert summary["completed_per_s"] is None      # two ends: no spacing to measure
    assert summary["completion"] == pytest.approx(1 / 3)
    # Lives not ended by the cutoff count with their age then (37, 36 and 35 s);
    # the one that failed before it (c) does not count as a latency.
    assert summary["life_p50_p99"] == [35.0, 37.0]
    assert summary["steps_p50_p99"]["record"] == [0.5, 0.7]
    assert summary["steps_p50_p99"]["visit"] == [None, None]
    assert set(summary["steps_p50_p99"]) == set(STEPS)
    # Failing after the cutoff still says why.
    assert summary["errors"] == {"StepRefused sign: HTTP 409": 1, "GaveUp": 1}
    assert summary["start_lag_p99"] == pytest.approx(0.1)


def test_departure_rate_is_the_spacing_of_the_ends_whatever_the_latency():
    # Arrivals every 0.5 s, each life 7 s long: they come out at 2/s.
    assert departure_rate([a * 0.5 + 7.0 for a in range(20)]) == pytest.approx(2.0)
    # Order of the ends does not matter; a constant latency does not either.
    assert departure_rate([3.0, 1.0, 2.0, 4.0]) == pytest.approx(1.0)
    assert departure_rate([1.0, 2.0]) is None
    assert departure_rate([5.0, 5.0, 5.0]) is None


def test_an_overloaded_step_that_drains_before_the_cutoff_still_fails():
    # 2 lives/s offered for 10 s, but they come out at 1/s: all 20 complete by
    # the cutoff and the p99 is within bounds, yet the rate was not kept up with.
    lives = [life(f"l{n}", n * 0.5, (n + 2) * 1.0 - n * 0.5) for n in range(20)]
    summary = summarise(lives, rate=2.0, seconds=10.0, cutoff=40.0)
    assert summary["completion"] == 1.0
    assert summary["life_p50_p99"][1] <= 30
    assert summary["completed_per_s"] == pytest.approx(1.0)
    assert not keeps_up(summary, p99_limit=30)
    healthy = [life(f"h{n}", n * 0.5, 7.0) for n in range(20)]
    assert keeps_up(summarise(healthy, rate=2.0, seconds=10.0, cutoff=40.0), p99_limit=30)


def test_error_kinds_group_by_class_and_step():
    assert (error_kind("GaveUp: POST /api/complaints: still failing after 60s (HTTP 503)")
            == "GaveUp")
    assert (error_kind("StepRefused: visit: HTTP 400: {\"errors\": 1}")
            == "StepRefused visit: HTTP 400")


def step(rate, completion, p99, started=20, out=None):
    completed = round(started * completion)
    return {"rate": rate, "started": started, "completed": completed,
            "completion": completion, "completed_per_s": rate if out is None else out,
            "life_p50_p99": [p99 / 2, p99]}


def test_a_rate_is_kept_up_with_only_with_completions_output_and_p99_in_bounds():
    assert keeps_up(step(1, 0.95, 30.0), p99_limit=30)
    assert keeps_up(step(2, 1.0, 10.0, out=1.9), p99_limit=30)
    assert not keeps_up(step(2, 1.0, 10.0, out=1.89), p99_limit=30)
    assert not keeps_up({**step(2, 1.0, 10.0), "completed_per_s": None}, p99_limit=30)
    assert not keeps_up(step(1, 0.94, 10.0), p99_limit=30)
    assert not keeps_up(step(1, 1.0, 30.5), p99_limit=30)
    assert not keeps_up({"rate": 1, "started": 0, "completed": 0, "completion": None,
                         "completed_per_s": None, "life_p50_p99": [None, None]}, p99_limit=30)


def test_the_knee_is_the_last_rate_kept_up_with_before_the_first_failure():
    steps = [step(0.25, 1.0, 9), step(0.5, 1.0, 10), step(1, 0.97, 14), step(1.5, 0.8, 45)]
    assert find_knee(steps, 30) == {"rate": 1, "passed": True, "bounded": True,
                                    "first_failing_rate": 1.5}
    # A lucky pass after a failure does not move the knee.
    lucky = [step(0.5, 1.0, 10), step(1, 1.0, 40), step(1.5, 1.0, 20)]
    assert find_knee(lucky, 30)["rate"] == 0.5
    # Order of the results does not matter.
    assert find_knee(list(reversed(steps)), 30)["rate"] == 1


def test_knee_not_reached_and_knee_below_the_lowest_rate_are_told_apart():
    assert find_knee([step(0.5, 1.0, 9), step(1, 1.0, 10)], 30) == {
        "rate": 1, "passed": True, "bounded": False, "first_failing_rate": None}
    assert find_knee([step(0.5, 0.5, 90)], 30) == {
        "rate": None, "passed": False, "bounded": True, "first_failing_rate": 0.5}


def test_steady_rate_is_eighty_percent_of_the_knee():
    assert steady_rate({"rate": 1.5}, [0.5, 1.5, 2]) == 1.2
    assert steady_rate({"rate": None}, [0.5, 1]) == 0.4
    assert steady_rate({"rate": 2}, [2], fraction=0.5) == 1.0


def test_rates_between_snapshots_skip_unreadable_counters():
    before = {"at": 100.0, "http_calls": 10, "db_commits": 1000, "broker_publishes": None}
    after = {"at": 110.0, "http_calls": 60, "db_commits": 3000, "broker_publishes": 50}
    assert rates_between(before, after) == {"http_calls": 5.0, "db_commits": 200.0,
                                            "broker_publishes": None}


def test_queue_and_memory_summaries():
    assert queue_summary({"a": 3, "b": 7, "c": 0}) == (10, "b", 7)
    assert queue_summary({}) == (0, None, 0)
    samples = [{"rss_kib": {"intake-1": 100, "gateway-1": 200}},
               {"rss_kib": {"intake-1": 150, "gateway-1": None}},
               {"rss_kib": {"intake-1": 120, "gateway-1": 210}}]
    assert rss_summary(samples) == {"intake-1": {"start": 100, "peak": 150, "end": 120},
                                    "gateway-1": {"start": 200, "peak": 210, "end": 210}}


def sample(t, queue_sum, rss):
    return {"phase": "steady 0.8/s", "t": t, "every": 10.0, "started": int(t), "completed":
            int(t) - 2, "failed": 0, "in_flight": 2, "done_last": 8, "queue_sum": queue_sum,
            "queue_max_name": "evt-intake-order.signed--dispatch.on_order_signed" if queue_sum
            else None, "queue_max": queue_sum, "rss_kib": rss, "dead": []}


def full_summary(rate, completion, p99, samples=(), out=None):
    summary = {**step(rate, completion, p99, started=int(rate * 60), out=out),
               "seconds": 60.0, "failed": 0, "unfinished": 0,
               "offered_per_s": rate,
               "steps_p50_p99": {s: [0.5, 1.25] for s in STEPS},
               "errors": {}, "error_examples": [], "start_lag_p99": 0.0,
               "rates": {"http_calls": 40.0, "db_commits": 400.0, "broker_publishes": 250.0},
               "samples": list(samples),
               "calls_p50_p99": {**{c: [0.1, 0.2] for c in CALLS}, "record": [0.15, 0.4],
                                 "clock": [0.012, 0.05]},
               "calls_per_life": {**dict.fromkeys(CALLS, 1.0), "upload": 5.0, "page": 3.25,
                                  "clock": 2.0},
               "hops_p50_p99": {"routed": [0.22, 0.54], "applied": [0.186, 0.5]},
               "hops_lower_p50_p99": {"routed": [0.01, 0.3], "applied": [0.0, 0.0]},
               "hops_resolution_p50": {"routed": 0.21, "applied": 0.186},
               "cpu": cpu(rate)}
    return summary


def cpu(rate):
    def figures(ms_per_life, cores):
        return {"ms": ms_per_life * rate * 60, "ms_per_life": ms_per_life, "cores": cores}
    return {"seconds": 62.0, "lives": int(rate * 60),
            "groups": {"rabbitmq (beam.smp, whole broker)": figures(250, 0.24),
                       "intake": figures(127, 0.12), "S3 server": figures(3, 0.0),
                       "postgres (database ccrm_load)": figures(157, 0.15)},
            "total": figures(537, 0.51)}


def report():
    steps = [full_summary(0.5, 1.0, 9.0), full_summary(1.0, 0.9, 41.0, out=0.8)]
    steps[1]["errors"] = {"GaveUp": 2}
    steady = full_summary(0.4, 1.0, 8.0, samples=[
        sample(10, 0, {"intake-1": 102400, "gateway-1": 81920}),
        sample(20, 5, {"intake-1": 112640, "gateway-1": 81920})])
    steady.update(rate=0.4, seconds=600.0, http_calls_per_life=22.5)
    return {
        "command": ".venv/bin/python -m benchmarks.complaint_life --rates 0.5 1",
        "date": "2026-11-28T02:00:00+00:00",
        "instances": 1,
        "machine": {"nproc": 2, "cpu": "AMD EPYC", "ram_gib": 23.4, "python": "3.11.7",
                    "postgres": "15.8", "rabbitmq": "3.10.8", "load_before": "0.10 / 0.20 / 0.30",
                    "load_after": "1.90 / 1.20 / 0.60"},
        "settings": {"step_seconds": 60.0, "p99_limit": 30.0, "min_completion": 0.95,
                     "clock_step": "PT1M", "clock_every": 2.0, "poll": [0.01, 0.2]},
        "raw": {"pgbench_insert_per_s": 8000.0, "pgbench_clients": 8, "pgbench_seconds": 10.0,
                "kombu_publish_confirm_per_s": 2500.0, "kombu_messages": 3000},
        "knee_steps": steps,
        "knee": find_knee(steps, 30.0),
        "steady": steady,
        "service_deaths": [],
        "note": None,
        "idle_cpu": {"seconds": 10.0, "lives": 0,
                     "groups": {"intake": {"ms": 100.0, "ms_per_life": None, "cores": 0.01}},
                     "total": {"ms": 3400.0, "ms_per_life": None, "cores": 0.34}},
    }


def test_markdown_has_command_machine_raw_limits_knee_and_steady_figures():
    text = render_markdown(report())
    assert "    .venv/bin/python -m benchmarks.complaint_life --rates 0.5 1\n" in text
    assert "2 CPU (AMD EPYC), 23 GiB RAM" in text
    assert "2026-11-28" in text
    assert "**8,000/s**" in text and "**2,500 msgs/s**" in text
    # Each load figure stands next to its raw limit.
    assert "| 400.0 (5.0%) | 250.0 (10.0%) |" in text
    assert "| 0.5 | 30 | 0.50 | 100% | 40.0 |" in text
    assert "| 1 | 60 | 0.80 | 90% |" in text and "GaveUp ×2 | 0 | **no** |" in text
    assert "| 4.5 / 9.0 | 0 | 0 | yes |" in text
    assert "**Knee: 0.5 lives/s**, the highest rate kept up with; 1 lives/s was not." in text
    assert "#### Steady run: 600 s at 0.4 lives/s" in text
    assert "| 24 | 24 (100%) | 0.40 | 40.0 (22.5) | 400.0 (5.0%) |" in text
    assert "| **whole life** (from arrival) | 4.00 | 8.00 |" in text
    assert "| record | 0.50 | 1.25 |" in text
    # Memory growth per process, and every sample of the queues.
    assert "| intake-1 | 100 | 110 | 110 | +10 |" in text
    assert "| gateway-1 | 80 | 80 | 80 | +0 |" in text
    assert "largest sum 5, at the end 5" in text
    assert ("| 20 | 20 | 18 | 2 | 0 | 5 | evt-intake-order.signed--dispatch.on_order_signed: 5 "
            "| 190 |") in text
    assert "**Note:**" not in text


def test_markdown_has_each_call_the_hops_and_cpu_per_life_per_phase():
    text = render_markdown(report())
    assert "| call | 0.5/s | 1/s | steady 0.4/s |" in text
    assert "| record | 150 / 400 (×1.0) | 150 / 400 (×1.0) | 150 / 400 (×1.0) |" in text
    assert "| page | 100 / 200 (×3.2) |" in text
    # The clock read is the benchmark's, in a table of its own after the person's calls.
    person = text.index("Each call a person makes")
    bookkeeping = text.index("The benchmark's own bookkeeping")
    assert (person < text.index("| approve |") < bookkeeping
            < text.index("| clock | 12 / 50 (×2.0)"))
    assert "| order signed → routed visible, at most | 220 / 540 (210) |" in text
    assert "| order signed → routed visible, at least | 10 / 300 |" in text
    assert "| closure applied → intake state, at least | 0 / 0 |" in text
    assert "pauses of 10 ms doubling up to 200 ms" in text
    # CPU: the idle suite first, services before the S3 server, PostgreSQL and the broker.
    assert "| process group | idle (no lives) | 0.5/s | 1/s | steady 0.4/s |" in text
    assert "| intake | – (0.01) | 127 (0.12) |" in text
    assert "| rabbitmq (beam.smp, whole broker) | – | 250 (0.24) |" in text   # not read idle
    assert (text.index("| intake |") < text.index("| S3 server |")
            < text.index("| postgres (database ccrm_load) |")
            < text.index("| rabbitmq (beam.smp"))
    assert "| **total** | – (0.34) | 537 (0.51) | 537 (0.51) | 537 (0.51) |" in text
    assert "| window s (lives) | 10 (0) | 62 (30) | 62 (60) | 62 (24) |" in text


def test_markdown_without_the_new_figures_leaves_their_tables_out():
    old = report()
    for summary in [*old["knee_steps"], old["steady"]]:
        for key in ("calls_p50_p99", "calls_per_life", "hops_p50_p99", "hops_lower_p50_p99",
                    "hops_resolution_p50", "cpu"):
            summary.pop(key)
    old.pop("idle_cpu")
    text = render_markdown(old)
    assert "What a person waits on" not in text and "| call |" not in text


def test_markdown_says_how_many_instances_of_each_service():
    text = render_markdown({**report(), "instances_of": {"intake": 2, "gateway": 3}})
    assert "1 instance(s) of every service but 3 of gateway, 2 of intake;" in text
    assert "1 instance(s) of every service;" in render_markdown(report())


def test_markdown_labels_a_busy_machine_a_missing_knee_and_dead_services():
    busy = report()
    busy["note"] = "other work shared the cores"
    busy["service_deaths"] = ["sla-1"]
    busy["knee_steps"] = [full_summary(0.5, 0.5, 60.0)]
    busy["knee"] = find_knee(busy["knee_steps"], 30.0)
    busy["steady"] = None
    text = render_markdown(busy)
    assert "**Note:** other work shared the cores" in text
    assert "sla-1: the figures are not valid" in text
    assert "**Knee: below 0.5 lives/s**" in text
    assert "Steady run" not in text


def test_progress_line_says_lives_queues_and_memory():
    line = progress_line(sample(20, 5, {"intake-1": 102400, "gateway-1": 102400}))
    assert line == ("[steady 0.8/s]   20s: 20 lives started, 18 completed (8 in the last 10s), "
                    "2 in flight, 0 failed; broker queues hold 5 (fullest "
                    "evt-intake-order.signed--dispatch.on_order_signed: 5); "
                    "services' memory 200 MB")


def test_default_workers_cover_the_highest_rate_and_rates_must_increase():
    args = parse_args(["--rates", "0.5", "2", "--p99-limit", "30", "--patience", "60"])
    assert args.workers == 180
    assert parse_args(["--rates", "0.1"]).workers == 16
    with pytest.raises(SystemExit):
        parse_args(["--rates", "2", "1"])
    with pytest.raises(SystemExit):
        parse_args(["--rates", "--steady-seconds", "30"])
