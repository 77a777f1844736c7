"""The web console (SPEC §10: the pages under `/`): its pages, its static
files, and the two reads the pages need that no service answers in one call.

A mixin of GatewayService. The pages are static HTML and ES modules
(services/gateway/web/); everything they show or do goes through the JSON API,
so they add no rules of their own.

Files are served only from a manifest made by walking web/static/ once: a
request path is looked up in it, never joined to the file system, so `..`,
encoded slashes or links cannot reach anything else. Each answer has its
content type, an ETag (304 when it matches), a cache policy (versioned vendor
files for a year, everything else revalidated), gzip when the browser takes
it, and the security headers (CSP without inline script, no referrer: the
customer's link carries its token in the path).
"""
import gzip
import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path

from marshmallow import Schema, fields
from werkzeug.wrappers import Response

from services.gateway.api import route
from services.gateway.schemas import ClockState
from services.gateway.web_server import http
from shared import roles
from shared.contracts.dispatch import DispatchClient
from shared.contracts.intake import IntakeClient
from shared.contracts.sla import SlaClient
from shared.errors import Unavailable

log = logging.getLogger(__name__)

WEB_ROOT = Path(__file__).resolve().parent.parent / "web"
PAGES_DIR = WEB_ROOT / "pages"
STATIC_DIR = WEB_ROOT / "static"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
}
COMPRESSIBLE = (".html", ".js", ".css", ".svg", ".txt", ".json")
IMMUTABLE = "public, max-age=31536000, immutable"   # static/vendor/: versioned names
REVALIDATE = "no-cache"

# No inline script or style anywhere; images also from the media store's
# signed URLs (another origin) and from the signature pad (data:, blob:).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; "
       "img-src 'self' data: blob: http: https:; connect-src 'self'; font-src 'self'; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

# The overdue board: how many open complaints it reads at most.
BOARD_MAX_COMPLAINTS = 500
BOARD_PAGE_SIZE = 100
BOARD_ROLES = roles.CENTRE | {roles.ADMIN}
IN_WORK_STATE = "order_signed"     # overdue runs until closure is applied (SPEC §4)


class OverdueItem(Schema):
    complaint_id = fields.String()
    project_id = fields.String()
    room = fields.String(allow_none=True)
    category = fields.String(allow_none=True)
    category_label = fields.String(allow_none=True)
    days_overdue = fields.Integer(metadata={"description": "started 24 h periods past the "
                                                           "completion deadline (sla's count)"})
    tier = fields.Integer(metadata={"description": "1: days 1-7, 2: days 8-15, 3: day 16 on"})
    completion_due_at = fields.String(allow_none=True)
    company_id = fields.String(allow_none=True)
    company_name = fields.String(allow_none=True)
    department = fields.String(allow_none=True)
    department_name = fields.String(allow_none=True)
    handler_id = fields.String(allow_none=True)
    handler_name = fields.String(allow_none=True)
    escalation_level = fields.String(allow_none=True)
    step = fields.String(allow_none=True, metadata={
        "description": "where the overdue work stands (dispatch's state: routed = not "
                       "visited yet, visit_blocked, in_progress, closure_applied)"})
    step_label = fields.String(allow_none=True)


class OverdueBoard(Schema):
    as_of = fields.String()
    in_work = fields.Integer(metadata={"description": "complaints in work that were read"})
    truncated = fields.Boolean()
    items = fields.List(fields.Nested(OverdueItem))


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    etag: str
    content_type: str
    cache_control: str


class StaticFiles:
    """The files under one folder, by a manifest made on first use."""

    def __init__(self, root, immutable_prefixes=()):
        self.root = Path(root)
        self.immutable_prefixes = tuple(immutable_prefixes)
        self._manifest = None
        self._assets = {}     # relative path -> (mtime_ns, size, Asset)
        self._lock = threading.Lock()

    def manifest(self):
        if self._manifest is None:
            found = {}
            for folder, dirs, files in os.walk(self.root):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in files:
                    path = Path(folder) / name
                    if name.startswith(".") or path.suffix not in CONTENT_TYPES \
                            or path.is_symlink() or not path.is_file():
                        continue
                    found[path.relative_to(self.root).as_posix()] = path
            self._manifest = found
        return self._manifest

    def get(self, relative):
        """The asset at a manifest path, or None. Re-read when the file changed."""
        path = self.manifest().get(relative)
        if path is None:
            return None
        try:
            stat = path.stat()
        except OSError:
            return None
        cached = self._assets.get(relative)
        if cached and cached[:2] == (stat.st_mtime_ns, stat.st_size):
            return cached[2]
        body = path.read_bytes()
        compressible = path.suffix in COMPRESSIBLE and len(body) > 1024
        asset = Asset(
            body=body,
            gzipped=gzip.compress(body, 6, mtime=0) if compressible else None,
            etag='"' + hashlib.sha256(body).hexdigest()[:32] + '"',
            content_type=CONTENT_TYPES[path.suffix],
            cache_control=IMMUTABLE if relative.startswith(self.immutable_prefixes)
            else REVALIDATE)
        with self._lock:
            self._assets[relative] = (stat.st_mtime_ns, stat.st_size, asset)
        return asset


STATIC = StaticFiles(STATIC_DIR, immutable_prefixes=("vendor/",))
PAGES = StaticFiles(PAGES_DIR)


def _not_found():
    return Response("404 Not Found", status=404, mimetype="text/plain",
                    headers=SECURITY_HEADERS)


def serve(request, asset, cache_control=None):
    """One asset as the answer, with 304, gzip and the security headers."""
    if asset is None:
        return _not_found()
    headers = dict(SECURITY_HEADERS, ETag=asset.etag,
                   **{"Cache-Control": cache_control or asset.cache_control})
    if asset.gzipped is not None:
        headers["Vary"] = "Accept-Encoding"
    if asset.content_type.startswith("text/html"):
        headers["Content-Security-Policy"] = CSP
    if asset.etag in (request.headers.get("If-None-Match") or ""):
        return Response(status=304, headers=headers)
    body = asset.body
    if asset.gzipped is not None and "gzip" in (request.headers.get("Accept-Encoding") or ""):
        body = asset.gzipped
        headers["Content-Encoding"] = "gzip"
    return Response(body, status=200, headers=headers, content_type=asset.content_type)


def _page(name, cache_control=None):
    """An entrypoint that answers one page of web/pages/."""

    def answer(self, request, **path_args):
        return serve(request, PAGES.get(name), cache_control)

    answer.__name__ = f"web_page_{name.split('.')[0]}"
    return answer


class WebRoutes:
    """The pages, the static files, the pages' clock and the overdue board.

    Needs `self.clock` and `self.intake`; the board also `self.dispatch` and
    `self.sla` (answers 503 while sla is not deployed)."""

    # -- pages (fixed: URL rule -> file) -------------------------------------------------

    web_home = http("GET", "/")(_page("index.html"))
    web_desk = http("GET", "/desk")(_page("desk.html"))
    web_complaints = http("GET", "/complaints")(_page("complaints.html"))
    web_board = http("GET", "/board")(_page("board.html"))
    web_reports = http("GET", "/reports")(_page("reports.html"))
    web_complaint = http("GET", "/complaints/<complaint_id>")(_page("complaint.html"))
    web_visit = http("GET", "/visit/<complaint_id>")(_page("visit.html"))
    web_my_deductions = http("GET", "/my/deductions")(_page("my-deductions.html"))
    # The customer's one-time link: its token is in the path, so never stored.
    web_sign = http("GET", "/sign/<token>")(_page("sign.html", "no-store"))

    @http("GET", "/static/<path:path>")
    def web_static(self, request, path):
        return serve(request, STATIC.get(path))

    # -- reads for the pages -------------------------------------------------------------

    @route("GET", "/api/clock", summary="当前时间 (the system's clock, for countdowns)",
           response=ClockState, tags=["system"],
           description="Any signed-in person. In simulation mode this is the shared "
           "simulated time (SPEC §9), which the pages count deadlines down against.")
    def web_clock(self, request, principal, payload):
        now = self.clock.now()
        return {"now": now.isoformat(), "local_now": now.astimezone(self.clock.zone).isoformat(),
                "zone": str(self.clock.zone), "simulated": self.clock.simulated}

    @route("GET", "/api/board/overdue",
           summary="超期看板 (open complaints past their completion deadline)",
           roles=BOARD_ROLES, response=OverdueBoard, tags=["reports"],
           description="Every complaint in work whose completion deadline has passed, with "
           "its days overdue (sla's count), tier (SPEC §4: 1 = days 1-7, 2 = 8-15, "
           "3 = 16 on), responsible company and department. Put together from intake's "
           "list, one call to sla's overdue list and one to dispatch for the routing of "
           f"every overdue complaint; at most {BOARD_MAX_COMPLAINTS} complaints in work are "
           "read.")
    def web_overdue_board(self, request, principal, payload):
        sla = getattr(self, "sla", None)
        if sla is None:
            raise Unavailable("时限服务未部署，无法生成超期看板 (sla is not deployed)")
        now = self.clock.now()
        in_work = self._board_in_work(principal)
        timeout = min(self.rpc_timeout(), 5)
        # One question to sla for all of them (issue 13), not one per complaint.
        answer = SlaClient(sla, self.rpc_timeout()).list_overdue(
            [c["id"] for c in in_work], limit=BOARD_MAX_COMPLAINTS) if in_work else {}
        late = {item["complaint_id"]: item for item in answer.get("items") or ()}
        overdue = [(c, late[c["id"]]) for c in in_work if c["id"] in late]
        # One question to dispatch for all their routings too (issue 17).
        routings = self._board_routings([c["id"] for c, _ in overdue], timeout)
        items = [_board_item(c, item, routings.get(c["id"])) for c, item in overdue]
        items.sort(key=lambda i: (-i["days_overdue"], i["complaint_id"]))
        return {"as_of": now.astimezone(self.clock.zone).isoformat(),
                "in_work": len(in_work), "truncated": len(in_work) >= BOARD_MAX_COMPLAINTS,
                "items": items}

    def _board_in_work(self, principal):
        intake = IntakeClient(self.intake, self.rpc_timeout())
        found, page = [], 1
        while len(found) < BOARD_MAX_COMPLAINTS:
            answer = intake.list_complaints(principal.as_dict(), {
                "state": IN_WORK_STATE, "page": page, "page_size": BOARD_PAGE_SIZE})
            found += answer["items"]
            if page * BOARD_PAGE_SIZE >= answer["total"]:
                break
            page += 1
        return found[:BOARD_MAX_COMPLAINTS]

    def _board_routings(self, complaint_ids, timeout):
        """{complaint_id: RoutingOverview} in one call to dispatch, whatever the
        count; {} when it does not answer (the board still shows, without names)."""
        if not complaint_ids:
            return {}
        try:
            answer = DispatchClient(self.dispatch, timeout).routing_overview(complaint_ids)
        except Exception as exc:  # noqa: BLE001 - the names are missing, not the board
            log.warning("overdue board: dispatch.routing_overview failed: %s", exc)
            return {}
        return {item["complaint_id"]: item for item in answer}


def _board_item(complaint, overdue, view):
    """A row of the board: intake's complaint, sla's overdue item (days, tier,
    deadline, handler), dispatch's RoutingOverview (names; None if it did not answer)."""
    routing = (view or {}).get("routing") or {}
    handler = routing.get("handler") or {}
    return {
        "complaint_id": complaint["id"], "project_id": complaint["project_id"],
        "room": complaint.get("room"), "category": complaint.get("category"),
        "category_label": complaint.get("category_label"),
        "days_overdue": overdue["days_overdue"], "tier": overdue["tier"],
        "completion_due_at": overdue.get("completion_due_at")
        or (view or {}).get("completion_due_at"),
        "company_id": routing.get("company_id"), "company_name": routing.get("company_name"),
        "department": routing.get("department"),
        "department_name": routing.get("department_name"),
        "handler_id": handler.get("person_id") or overdue.get("handler_person_id")
        or complaint.get("handler_id"),
        "handler_name": handler.get("name"),
        "escalation_level": complaint.get("escalation_level"),
        "step": (view or {}).get("state"), "step_label": (view or {}).get("state_label"),
    }
