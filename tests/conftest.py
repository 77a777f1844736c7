"""Fixtures several modules of tests/ share."""
from tests.fair_sla_steps import fair_sla  # noqa: F401 - a fixture, offered to tests/
