"""What intake asks the dispatch and media services, through their
contracts' clients (bounded wait, remote errors rebuilt as our own).

The directory is read from intake's own copy (directory_model, fed by
`directory.loaded`), so recording asks dispatch nothing; only while no
directory has arrived yet (a first start) is dispatch asked, with its
answers cached briefly."""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from services.intake import directory_model
from services.intake.listing import Names
from shared.contracts.dispatch import DispatchClient
from shared.contracts.media import MediaClient
from shared.errors import NotFound

log = logging.getLogger(__name__)

CACHE_SECONDS = 30.0


class _Cache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._values: dict[Any, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def get(self, key: Any, load: Callable[[], Any]) -> Any:
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.seconds:
            return hit[1]
        value = load()
        with self._lock:
            self._values[key] = (time.monotonic(), value)
        return value

    def fresh(self, key: Any) -> Any:
        """The cached value if still fresh, else None."""
        with self._lock:
            hit = self._values.get(key)
        return hit[1] if hit is not None and time.monotonic() - hit[0] < self.seconds else None

    def put(self, key: Any, value: Any) -> None:
        with self._lock:
            self._values[key] = (time.monotonic(), value)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


_projects = _Cache(CACHE_SECONDS)
_people_by_role = _Cache(CACHE_SECONDS)
_names = _Cache(CACHE_SECONDS)
NAMES_TIMEOUT = 3.0     # the list shows ids rather than wait long for the names


def clear_caches() -> None:
    """Forget cached directory answers (tests; a directory reload shows after 30 s)."""
    _projects.clear()
    _people_by_role.clear()
    _names.clear()


class Directory:
    """The organisation directory as intake reads it: its own copy
    (`db`), or dispatch's RPC while it has none."""

    def __init__(self, dispatch: DispatchClient, db: Any = None) -> None:
        self.dispatch = dispatch
        self.db = db

    def project(self, project_id: str) -> dict[str, Any] | None:
        """The project, or None if the directory does not know it."""
        if self.db is not None:
            with self.db.connection() as conn:
                kept, found = directory_model.project(conn, project_id)
            if kept:
                return found

        def load() -> dict[str, Any] | None:
            try:
                return self.dispatch.get_project(project_id)
            except NotFound:
                return None
        return _projects.get(project_id, load)

    def person_for_role(self, role: str) -> str | None:
        """The active person holding a centre role (the deputy GM, the GM);
        with several, the first by id, so every instance picks the same one.
        None when the post is vacant: the order still moves, the holding is
        recorded with its role and no person."""
        people = None
        if self.db is not None:
            with self.db.connection() as conn:
                people = directory_model.people_with_role(conn, role)
        if people is None:
            people = _people_by_role.get(role, lambda: self.dispatch.list_people(role=role))
        active = sorted(p["id"] for p in people if p.get("active", True))
        if not active:
            log.warning("no active person holds role %s: order holding recorded without a person",
                        role)
            return None
        return active[0]

    def names(self) -> Names:
        """Every project's and person's name (the lists show them beside the
        ids); empty when the directory does not answer, so a list still shows."""
        if self.db is not None:
            with self.db.connection() as conn:
                kept = directory_model.names(conn)
            if kept is not None:
                return kept
        hit = _names.fresh("names")
        if hit is not None:
            return hit
        client = DispatchClient(self.dispatch.proxy, min(self.dispatch.timeout, NAMES_TIMEOUT))
        try:
            projects = client.list_projects()
            people = client.list_people(include_inactive=True)
        except Exception as exc:  # noqa: BLE001 - names are a courtesy, the list is not
            log.warning("directory names unavailable: %s", exc)
            return Names()
        found = Names({p["id"]: p["name"] for p in projects if p.get("name")},
                      {p["id"]: p["name"] for p in people if p.get("name")})
        _names.put("names", found)
        return found


class Media:
    """The media service as intake uses it: a missing media is None, not an error."""

    def __init__(self, media: MediaClient) -> None:
        self.client = media

    def get(self, media_id: str) -> dict[str, Any] | None:
        """The media's description, or None if there is no such media."""
        try:
            return self.client.get(media_id)
        except NotFound:
            return None

    def verify_signature(self, media_id: str, record_sha256: str) -> dict[str, Any]:
        return self.client.verify_signature(media_id, record_sha256)
