"""Intake's calls to the media and dispatch services, each with a bounded
wait (ARCHITECTURE, traps), remote errors rebuilt as our own, and the few
directory answers intake needs cached briefly (they change when the
organisation file is reloaded, not per request)."""
import logging
import threading
import time

from nameko.exceptions import RemoteError, UnknownService

from services.gateway import rpc
from shared.errors import NotFound, Unavailable, from_remote

log = logging.getLogger(__name__)

CACHE_SECONDS = 30.0


def call(proxy, method, *args, timeout=15.0, **kwargs):
    """`proxy.method(*args, **kwargs)`: Unavailable after `timeout` seconds or
    when the service is not running; a CCRMError raised there is raised here."""
    try:
        return rpc.call(proxy, method, *args, timeout=timeout, **kwargs)
    except RemoteError as exc:
        mapped = from_remote(exc.exc_type, exc.value)
        if mapped is not None:
            raise mapped from None
        raise
    except UnknownService:
        service = getattr(proxy, "service_name", "?")
        raise Unavailable(f"{service} 服务未运行 ({service} is not running)") from None


class _Cache:
    def __init__(self, seconds):
        self.seconds = seconds
        self._values = {}
        self._lock = threading.Lock()

    def get(self, key, load):
        with self._lock:
            hit = self._values.get(key)
        if hit is not None and time.monotonic() - hit[0] < self.seconds:
            return hit[1]
        value = load()
        with self._lock:
            self._values[key] = (time.monotonic(), value)
        return value


    def clear(self):
        with self._lock:
            self._values.clear()


_projects = _Cache(CACHE_SECONDS)
_people_by_role = _Cache(CACHE_SECONDS)


def clear_caches():
    """Forget cached directory answers (tests; a directory reload shows after 30 s)."""
    _projects.clear()
    _people_by_role.clear()


class Directory:
    """The organisation directory as intake reads it (dispatch's RPC)."""

    def __init__(self, proxy, timeout):
        self.proxy = proxy
        self.timeout = timeout

    def project(self, project_id):
        """The project, or None if the directory does not know it."""
        def load():
            try:
                return call(self.proxy, "get_project", project_id, timeout=self.timeout)
            except NotFound:
                return None
        return _projects.get(project_id, load)

    def person_for_role(self, role):
        """The active person holding a centre role (the deputy GM, the GM);
        with several, the first by id, so every instance picks the same one.
        None when the post is vacant: the order still moves, the holding is
        recorded with its role and no person."""
        people = _people_by_role.get(role, lambda: call(
            self.proxy, "list_people", role=role, timeout=self.timeout))
        active = sorted(p["id"] for p in people if p.get("active", True))
        if not active:
            log.warning("no active person holds role %s: order holding recorded without a person",
                        role)
            return None
        return active[0]


class Media:
    def __init__(self, proxy, timeout):
        self.proxy = proxy
        self.timeout = timeout

    def get(self, media_id):
        """The media's description, or None if there is no such media."""
        try:
            return call(self.proxy, "get", media_id, timeout=self.timeout)
        except NotFound:
            return None

    def bind_signature(self, binding):
        return call(self.proxy, "bind_signature", binding.media_id, binding.record_type,
                    binding.complaint_id, binding.record_sha256, bound_by=binding.bound_by,
                    complaint_id=binding.complaint_id, timeout=self.timeout)

    def verify_signature(self, media_id, record_sha256):
        return call(self.proxy, "verify_signature", media_id, record_sha256, timeout=self.timeout)
