"""Per-service instance counts of the load benchmark, the profile and the
local run (`--instances-of intake=2 gateway=2`), and how the suite starts
them, without starting anything."""
from pathlib import Path

import pytest

from benchmarks import profile_suite
from benchmarks.complaint_life import parse_args
from scripts import run_local
from scripts.run_local import discover_services, instance_counts
from scripts.suite import Suite


def test_instance_counts_override_the_default_per_service():
    services = discover_services()
    counts = instance_counts(1, ["intake=2", "gateway=3"], services)
    assert counts["intake"] == 2 and counts["gateway"] == 3
    assert all(counts[s] == 1 for s in services if s not in ("intake", "gateway"))
    assert set(counts) == set(services)
    for bad in (["intake"], ["nosuch=2"], ["intake=two"], ["intake=0"]):
        with pytest.raises(ValueError):
            instance_counts(1, bad, services)
    with pytest.raises(ValueError):
        instance_counts(0, [], services)


def test_the_benchmark_takes_instances_per_service():
    args = parse_args(["--rates", "1", "--instances-of", "intake=2", "gateway=2"])
    assert args.instances == 1 and args.instances_of == {"intake": 2, "gateway": 2}
    assert parse_args(["--rates", "1"]).instances_of == {}
    with pytest.raises(SystemExit):
        parse_args(["--rates", "1", "--instances-of", "intake"])


def test_the_suite_starts_the_count_of_each_service_and_a_port_per_gateway(tmp_path: Path):
    suite = Suite(tmp_path, instances=1, instances_of={"gateway": 2, "intake": 3},
                  gateway_port=8500)
    assert suite.counts["intake"] == 3 and suite.counts["media"] == 1
    assert suite.gateway_urls == ["http://127.0.0.1:8500", "http://127.0.0.1:8501"]
    assert Suite(tmp_path, instances=2).counts == dict.fromkeys(suite.services, 2)


def test_the_local_run_and_the_profile_refuse_an_unknown_service_before_starting_anything(
        capsys):
    for main in (run_local.main, profile_suite.main):
        with pytest.raises(SystemExit):
            main(["--instances-of", "nosuch=2"])
        assert "nosuch=2" in capsys.readouterr().err
