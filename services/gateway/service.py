"""The gateway: the one HTTP entry for people (SPEC §8, §10).

Entrypoints only: each checks who calls (api.route), then asks the service
that owns the data through its contract's typed client (clients.Clients:
`self.client(DispatchClient)`), with a bounded wait.
"""
import logging
import time

import eventlet
from nameko.dependency_providers import Config
from nameko.timer import timer

from services.gateway.api import route
from services.gateway.auth import (
    Principal,
    TokenRepository,
    bearer_token,
    check_token,
    token_hash,
)
from services.gateway.clients import SERVICE_CLIENTS
from services.gateway.idempotency import IdempotencyRepository, prune_keys, request_fingerprint
from services.gateway.openapi import build_spec

# Route mixins are imported as modules: `nameko run` takes every class with
# entrypoints at this module's top level for a service.
from services.gateway.routes import auth as auth_routes
from services.gateway.routes import complaints, files, limits, notifications, web
from services.gateway.routes import dispatch as dispatch_routes
from services.gateway.routes import oidc as oidc_routes
from services.gateway.routes import penalty as penalty_routes
from services.gateway.schemas import (
    ClockChange,
    ClockState,
    Health,
    Me,
    MediaObject,
    MediaUploadForm,
)
from services.gateway.token_cache import TokenCacheProvider
from services.gateway.uploads import Uploads
from shared import roles
from shared.clock import ClockProvider, system_now
from shared.contracts.dispatch import DispatchClient
from shared.contracts.media import MediaClient
from shared.db import DatabaseProvider
from shared.errors import NotFound, Unauthenticated
from shared.observability import Observability
from shared.pruning import CHECK_SECONDS as PRUNE_CHECK_SECONDS
from shared.rpc import RpcProxy

log = logging.getLogger(__name__)

# The services deployed today; each answers `health()` over RPC.
DEPLOYED_SERVICES = tuple(SERVICE_CLIENTS)
PERSON_CACHE_SECONDS = 30
_people = {}  # person_id -> (read_at, person): directory answers, cached briefly


class GatewayService(Uploads, complaints.ComplaintRoutes, dispatch_routes.DispatchRoutes,
                     notifications.NotificationRoutes, penalty_routes.PenaltyRoutes,
                     web.WebRoutes, files.FileRoutes, auth_routes.AuthRoutes,
                     limits.LimitRoutes, oidc_routes.OidcRoutes):
    name = "gateway"

    config = Config()
    observability = Observability("gateway")
    db = DatabaseProvider("gateway")
    tokens = TokenCacheProvider()
    clock = ClockProvider()
    intake = RpcProxy("intake")
    dispatch = RpcProxy("dispatch")
    media = RpcProxy("media")
    sla = RpcProxy("sla")
    penalty = RpcProxy("penalty")

    # -- plumbing used by api.route (and clients.Clients, uploads.Uploads) ----------

    def authenticate(self, request):
        token = bearer_token(request.headers.get("Authorization"))

        def load():
            with self.db.connection() as conn:
                return TokenRepository(conn).find(token)
        row = check_token(self.tokens.find(token_hash(token), load), system_now(),
                          self.clock.now())
        person = self.person(row["person_id"])
        if not person.get("active", True):
            raise Unauthenticated("该人员已不在组织架构中 (person no longer in the directory)")
        return Principal(person["id"], person["name"], frozenset(person.get("roles") or ()),
                         frozenset(person.get("project_ids") or ()), person.get("unit_id"))

    # The idempotency rows take one autocommit statement each, no BEGIN/COMMIT
    # around them (issue 17: 6 round trips per POST -> 2): each statement is
    # atomic on its own, and begin's later ones (the read after a conflict, the
    # lease take-over) re-check what they rely on in their own WHERE.

    def idempotency_begin(self, person_id, key, request):
        fingerprint = request_fingerprint(request.method, request.path,
                                          request.get_data(cache=True))
        with self.db.connection() as conn:
            return IdempotencyRepository(conn).begin(
                person_id, key, request.method, request.path, fingerprint,
                # Longer than any call can take: only a dead gateway's call is stale.
                lease_seconds=2 * self.rpc_timeout() + 5, now=self.clock.now())

    def idempotency_finish(self, person_id, key, response):
        if "no-store" in (response.headers.get("Cache-Control") or ""):
            # an answer with a secret (a new API token) is never kept for a replay
            return self.idempotency_release(person_id, key)
        with self.db.connection() as conn:
            IdempotencyRepository(conn).finish(person_id, key, response.status_code,
                                               response.get_data(as_text=True))

    def idempotency_release(self, person_id, key):
        with self.db.connection() as conn:
            IdempotencyRepository(conn).release(person_id, key)

    @timer(interval=PRUNE_CHECK_SECONDS)
    def prune_idempotency_keys(self):
        """Daily: Idempotency-Keys older than REQUEST_KEYS_KEEP_DAYS (issue 14)."""
        prune_keys(self.db, self.clock, self.config)

    def person(self, person_id):
        cached = _people.get(person_id)
        if cached and time.monotonic() - cached[0] < PERSON_CACHE_SECONDS:
            return cached[1]
        try:
            person = self.client(DispatchClient).get_person(person_id)
        except NotFound:
            raise Unauthenticated(
                "该人员已不在组织架构中 (person no longer in the directory)") from None
        _people[person_id] = (time.monotonic(), person)
        return person

    # -- health, identity, contract -----------------------------------------------

    @route("GET", "/api/health", summary="各服务健康状态 (each service's health)", public=True,
           response=Health, tags=["system"])
    def health(self, request, principal, payload):
        timeout = min(self.rpc_timeout(), 3)

        def ask(name):
            try:
                detail = self.client(SERVICE_CLIENTS[name], timeout).health()
                return name, {"status": detail.get("status", "ok"), "detail": detail}
            except BaseException as exc:  # noqa: BLE001 - no answer in time or an error: down
                return name, {"status": "down", "detail": {"error": type(exc).__name__}}

        pool = eventlet.GreenPool()
        services = dict(pool.imap(ask, DEPLOYED_SERVICES))
        try:
            with self.db.connection() as conn:
                conn.execute("SELECT 1")
            services["gateway"] = {"status": "ok", "detail": {"database": "ok"}}
        except Exception as exc:  # noqa: BLE001
            services["gateway"] = {"status": "down", "detail": {"database": type(exc).__name__}}
        healthy = all(s["status"] == "ok" for s in services.values())
        return (200 if healthy else 503), {"status": "ok" if healthy else "degraded",
                                           "services": services}

    @route("GET", "/api/me", summary="当前登录人 (who am I)", response=Me, tags=["system"])
    def me(self, request, principal, payload):
        return dict(principal.as_dict(),
                    role_labels=[roles.LABELS_ZH.get(r, r) for r in sorted(principal.roles)])

    @route("GET", "/api/openapi.json", summary="OpenAPI 3 文档 (this contract)", public=True,
           tags=["system"])
    def openapi(self, request, principal, payload):
        return build_spec()

    # -- simulation clock (SPEC §9) -------------------------------------------------

    def _clock_state(self):
        now = self.clock.now()
        return {"now": now.isoformat(), "local_now": now.astimezone(self.clock.zone).isoformat(),
                "zone": str(self.clock.zone), "simulated": self.clock.simulated}

    @route("GET", "/api/admin/clock", summary="读取时钟 (read the clock)", roles={roles.ADMIN},
           response=ClockState, tags=["system"])
    def get_clock(self, request, principal, payload):
        return self._clock_state()

    @route("POST", "/api/admin/clock",
           summary="设置或快进模拟时钟 (set or advance the simulation clock)",
           roles={roles.ADMIN}, body=ClockChange, response=ClockState, tags=["system"])
    def change_clock(self, request, principal, payload):
        if "now" in payload:
            self.clock.set(payload["now"], by=principal.person_id)
        else:
            self.clock.advance(payload["advance"], by=principal.person_id)
        log.info("clock changed by %s: %s", principal.person_id, payload)
        return self._clock_state()

    # -- media (SPEC §6) ----------------------------------------------------------

    @route("POST", "/api/media", summary="上传签名、照片或文件 (upload a file)",
           body=MediaUploadForm, content="multipart/form-data", response=MediaObject, status=201,
           tags=["media"], description="Multipart form: `file` plus the fields below. The content "
           "is checked from its bytes (JPEG, PNG, WebP, HEIC, PDF).")
    def upload_media(self, request, principal, payload):
        upload = self.uploaded_file(request)
        if payload["complaint_id"]:
            self.require_may_see(principal, payload["complaint_id"])
        return 201, self.store_upload(
            upload, payload["kind"], stage=payload["stage"],
            complaint_id=payload["complaint_id"], uploaded_by=principal.person_id,
            step=payload["step"], signature_kind=payload["signature_kind"])

    @route("GET", "/api/media/<media_id>",
           summary="文件信息与临时下载链接 (metadata and a signed URL)",
           response=MediaObject, tags=["media"])
    def get_media(self, request, principal, payload, media_id):
        media = self.client(MediaClient).get(media_id)
        self.require_media_access(principal, media)
        return files.absolute_link(request, media)
