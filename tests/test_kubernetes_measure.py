"""deploy/kubernetes/measure.py, the source of the Deployments' resource figures:
what it reads from /proc and how it turns samples into figures (no benchmark run)."""
from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def load_measure():
    spec = importlib.util.spec_from_file_location(
        "k8s_measure", REPO / "deploy" / "kubernetes" / "measure.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


measure = load_measure()


@pytest.fixture
def fake_service():
    """A process whose command line reads like `nameko run ... services.probe.service`."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)",
                              "nameko", "run", "services.probe.service"])
    yield child
    child.kill()
    child.wait()


def test_a_service_process_is_found_and_sampled(fake_service):
    assert fake_service.pid in measure.descendants(measure.os.getpid())
    name, cpu, rss = measure.sample(fake_service.pid)
    assert name == "probe" and cpu >= 0 and rss > 1000
    assert measure.sample(measure.os.getpid()) is None        # pytest is no service


def test_figures_per_life_from_the_first_sample_to_the_last(monkeypatch):
    monkeypatch.setattr(measure, "probe_cost", lambda name: (55 * 1024, 0.3))
    series = [{"t": 0.0, "cpu_s": {"intake": 2.0}, "rss_kib": {"intake": 70 * 1024}},
              {"t": 10.0, "cpu_s": {"intake": 3.0}, "rss_kib": {"intake": 80 * 1024}},
              {"t": 20.0, "cpu_s": {"intake": 6.0}, "rss_kib": {"intake": 75 * 1024}}]
    figures = measure.summarise(series, lives=20)["intake"]
    # The 2 s of the first sample are the start (imports), not the load.
    assert figures == {"cpu_seconds": 4.0, "cpu_seconds_per_life": 0.2,
                       "millicores_busiest_interval": 300, "rss_mib_peak": 80,
                       "probe_rss_mib": 55, "probe_cpu_seconds": 0.3}


def test_a_probe_run_is_measured_in_a_process_of_its_own():
    rss_kib, cpu = measure.probe_cost("gateway")
    assert 10 * 1024 < rss_kib < 500 * 1024
    assert 0 < cpu < 30
