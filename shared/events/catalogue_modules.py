"""Imports every producer's event schemas so the registry is complete."""
from shared.events import media  # noqa: F401
from shared.events import dispatch  # noqa: F401
from shared.events import intake  # noqa: F401
from shared.events import sla  # noqa: F401
from shared.events import penalty  # noqa: F401
