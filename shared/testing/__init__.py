"""Test fixtures and helpers shared by every service's tests."""
