"""Code every CCRM service shares: config, database, clock, events, errors."""
import os

# psycopg's C wait function blocks eventlet's hub (ARCHITECTURE, known traps):
# the select-based one yields to other green threads. It must be chosen before
# psycopg is first imported, and every service imports `shared` first.
os.environ.setdefault("PSYCOPG_WAIT_FUNC", "wait_select")

import warnings  # noqa: E402

# nameko 2.14 is built on eventlet, which now warns on import; the warning says
# nothing an operator can act on, so keep it out of service logs.
warnings.filterwarnings("ignore", message=r"(?s).*Eventlet is deprecated")
