"""Dispatch's calls to the media service, each with a bounded wait
(ARCHITECTURE, traps: nameko's RPC waits forever by default), remote errors
rebuilt as our own."""
import eventlet
from nameko.exceptions import RemoteError, UnknownService

from shared.errors import NotFound, Unavailable, from_remote


def call(proxy, method, *args, timeout=15.0, **kwargs):
    try:
        with eventlet.Timeout(timeout):
            return getattr(proxy, method)(*args, **kwargs)
    except eventlet.Timeout:
        raise Unavailable(f"文件服务暂无响应，请稍后再试 (media did not answer in {timeout}s)") from None
    except UnknownService:
        raise Unavailable("文件服务未运行 (media is not running)") from None
    except RemoteError as exc:
        mapped = from_remote(exc.exc_type, exc.value)
        if mapped is not None:
            raise mapped from None
        raise


class Media:
    """The media service as dispatch uses it (the interface unit tests fake)."""

    def __init__(self, proxy, timeout=15.0):
        self.proxy = proxy
        self.timeout = timeout

    def get(self, media_id):
        """The media's description, or None if there is no such media."""
        try:
            return call(self.proxy, "get", media_id, timeout=self.timeout)
        except NotFound:
            return None

    def describe(self, media_ids):
        """{id: description or None} of the distinct ids given."""
        return {media_id: self.get(media_id) for media_id in dict.fromkeys(media_ids) if media_id}

    def bind_signature(self, binding):
        return call(self.proxy, "bind_signature", binding.media_id, binding.record_type,
                    binding.record_id, binding.record_sha256, bound_by=binding.bound_by,
                    complaint_id=binding.complaint_id, timeout=self.timeout)

    def verify_signature(self, media_id, record_sha256):
        return call(self.proxy, "verify_signature", media_id, record_sha256, timeout=self.timeout)
