"""Imports every producer's event schemas so the registry is complete."""
from shared.events import media  # noqa: F401
