"""media's link key (links.py) made when the service starts, so that reading
a file's link never writes: `repository.link_key` makes it on first use too,
but only a database emptied under a running service needs that."""
import logging

from nameko.extensions import DependencyProvider

from services.media import repository
from shared.db import DatabaseProvider

log = logging.getLogger(__name__)


class LinkKeyProvider(DependencyProvider):
    """Ensures the key at start; gives workers nothing (they read the key
    with the request's other rows)."""

    def start(self):
        for dependency in self.container.dependencies:
            if isinstance(dependency, DatabaseProvider) and dependency.database is not None:
                try:
                    with dependency.database.connection() as conn:
                        repository.link_key(conn)
                except Exception as exc:  # noqa: BLE001 - made on first use instead
                    log.warning("media link key not ensured at start: %s", exc)
                return

    def get_dependency(self, worker_ctx):
        return None
