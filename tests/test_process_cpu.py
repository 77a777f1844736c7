"""benchmarks.process_cpu: CPU per process group from /proc readings."""
from types import SimpleNamespace

from benchmarks.process_cpu import TICKS, CpuMeter, cpu_by_group, read_processes


def suite(pids, database="ccrm_recbench"):
    processes = [SimpleNamespace(pid=pid, name=name) for pid, name in pids.items()]
    return SimpleNamespace(supervisor=SimpleNamespace(processes=processes), database=database)


def test_groups_are_suite_processes_the_databases_backends_and_rabbitmq():
    rows = [
        (100, 100, 50, "python -m nameko run services.intake.service"),
        (101, 100, 7, "a child of intake's group"),
        (200, 200, 30, "python -m nameko run services.sla.service"),
        (300, 300, 11, "postgres: ccrm_intake ccrm_recbench 127.0.0.1(5555) idle"),
        (301, 301, 99, "postgres: ccrm_intake other_db 127.0.0.1(5556) idle"),
        (302, 302, 13, "postgres: checkpointer"),
        (400, 400, 20, "/usr/lib/erlang/erts/bin/beam.smp -- -root /usr/lib/erlang -- rabbit"),
        (500, 500, 1000, "python unrelated.py"),
    ]
    spent = cpu_by_group(rows, {100: "intake-1", 200: "sla-1"}, "ccrm_recbench")
    assert spent == {"intake-1": 57, "sla-1": 30, "postgres": 11, "rabbitmq": 20}


def test_meter_counts_only_what_was_spent_since_it_started_and_new_backends_whole():
    readings = iter([
        [(100, 100, 50, "intake"), (300, 300, 10, "postgres: u ccrm_recbench x")],
        [(100, 100, 50 + 2 * TICKS, "intake"),
         (300, 300, 10 + TICKS, "postgres: u ccrm_recbench x"),
         (301, 301, TICKS, "postgres: u ccrm_recbench y")],
    ])
    meter = CpuMeter(suite({100: "intake-1"}), read=lambda: next(readings))
    assert meter.spent() == {"intake-1": 2.0, "postgres": 2.0}


def test_describe_gives_ms_per_unit_largest_first_with_the_total():
    text = CpuMeter.describe({"sla-1": 0.5, "intake-1": 1.0, "media-1": 0.0}, 100)
    assert text.startswith("intake-1 10.0, sla-1 5.0 (total 15.0")


def test_reads_this_process_from_proc():
    import os
    rows = {pid: (pgrp, ticks) for pid, pgrp, ticks, _ in read_processes()}
    assert os.getpid() in rows and rows[os.getpid()][1] >= 0
