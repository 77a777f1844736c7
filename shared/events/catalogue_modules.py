"""Imports every producer's event schemas so the registry is complete."""
from shared.events import (
    dispatch,  # noqa: F401
    intake,  # noqa: F401
    media,  # noqa: F401
    penalty,  # noqa: F401
    sla,  # noqa: F401
)
