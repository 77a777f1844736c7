"""Operator scripts: the local runner, pre-flight checks, container health checks."""
