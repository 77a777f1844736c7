"""Root conftest: eventlet first, then the shared fixtures.

nameko 2.14's pytest plugin no longer monkey-patches eventlet (ARCHITECTURE,
traps), so plain `pytest` patches here, before anything opens a socket.
"""
import warnings

warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import shared  # noqa: E402,F401  (psycopg wait function, warning filters)

pytest_plugins = ["shared.testing.fixtures", "shared.testing.s3server",
                  "shared.testing.chromium"]
