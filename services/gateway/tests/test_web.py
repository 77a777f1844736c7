"""The web console's serving (routes/web.py) and its static files: pages at
their fixed URLs, static files only from the manifest (no way out of web/
static/), content types, ETag and 304, gzip, cache policy, the security
headers; every module import resolves, every page stays inside its script
budget, every word has its Chinese and English, every vendored library its
licence; the overdue board's rows from sla's overdue list."""
import gzip
import re
from pathlib import Path

import pytest
import requests
from nameko.constants import WEB_SERVER_CONFIG_KEY
from openapi_spec_validator import validate

from services.gateway.openapi import build_spec
from services.gateway.routes import web
from services.gateway.routes.web import (
    PAGES_DIR,
    STATIC,
    STATIC_DIR,
    StaticFiles,
    WebRoutes,
    _board_item,
)
from shared.contracts.dispatch.views import RoutingOverview
from shared.contracts.sla import OverdueComplaintView, overdue_tier

# What a phone downloads for a page's scripts, gzip-compressed as the gateway
# serves them (routes/web.py): ECharts alone is 438 KB raw, 150 KB on the wire.
SCRIPT_BUDGET = 200 * 1024
PAGE_URLS = {"/": "index.html", "/desk": "desk.html", "/board": "board.html",
             "/complaints": "complaints.html",
             "/reports": "reports.html", "/complaints/C-GZ-2026-000001": "complaint.html",
             "/visit/C-GZ-2026-000001": "visit.html", "/sign/abcDEF_123-x": "sign.html",
             "/my/deductions": "my-deductions.html"}


class WebOnly(WebRoutes):
    """The mixin's static entrypoints in a service of their own."""
    name = "web_only"


@pytest.fixture
def base(container_factory, web_config):
    container = container_factory(WebOnly, web_config)
    container.start()
    return f"http://{web_config[WEB_SERVER_CONFIG_KEY]}"


# -- serving ---------------------------------------------------------------------------

@pytest.mark.parametrize("url, page", sorted(PAGE_URLS.items()))
def test_each_page_is_served_at_its_url_with_the_security_headers(base, url, page):
    response = requests.get(base + url, timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/html; charset=utf-8"
    assert response.content == (PAGES_DIR / page).read_bytes()
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    expected = "no-store" if url.startswith("/sign/") else "no-cache"
    assert response.headers["Cache-Control"] == expected


def test_static_files_have_their_type_an_etag_and_gzip(base):
    response = requests.get(base + "/static/js/ui.js", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/javascript; charset=utf-8"
    assert response.headers["Content-Encoding"] == "gzip"      # requests asks for it
    assert response.headers["Vary"] == "Accept-Encoding"
    assert response.content == (STATIC_DIR / "js" / "ui.js").read_bytes()
    assert response.headers["Cache-Control"] == "no-cache"
    etag = response.headers["ETag"]

    again = requests.get(base + "/static/js/ui.js", headers={"If-None-Match": etag}, timeout=10)
    assert again.status_code == 304 and again.content == b""
    plain = requests.get(base + "/static/js/ui.js", headers={"Accept-Encoding": "identity"},
                         timeout=10)
    assert "Content-Encoding" not in plain.headers
    assert plain.content == (STATIC_DIR / "js" / "ui.js").read_bytes()

    css = requests.get(base + "/static/css/app.css", timeout=10)
    assert css.headers["Content-Type"] == "text/css; charset=utf-8"
    icon = requests.get(base + "/static/img/icon.svg", timeout=10)
    assert icon.headers["Content-Type"] == "image/svg+xml"


def test_versioned_vendor_files_are_cached_for_a_year(base):
    for name in STATIC.manifest():
        if name.startswith("vendor/") and name.endswith(".js"):
            response = requests.get(f"{base}/static/{name}", timeout=10)
            assert response.status_code == 200
            assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize("path", [
    "/static/../routes/web.py", "/static/%2e%2e/routes/web.py", "/static/..%2froutes%2fweb.py",
    "/static/css/../../routes/web.py", "/static/js/%2e%2e/%2e%2e/%2e%2e/service.py",
    "/static//etc/passwd", "/static/vendor", "/static/vendor/", "/static/js/ui.js%00",
    "/static/js/ui.js/", "/static/../web/pages/index.html", "/static/%252e%252e/service.py",
    "/static/js/UI.JS", "/static/.gitignore", "/pages/index.html", "/favicon.ico",
])
def test_nothing_outside_the_manifest_is_served(base, path):
    response = requests.get(base + path, timeout=10)
    assert response.status_code == 404
    for leaked in (b"WebRoutes", b"GatewayService", b"<script", b"export "):
        assert leaked not in response.content


def test_the_manifest_takes_only_known_regular_files(tmp_path):
    root = tmp_path / "static"
    (root / "js").mkdir(parents=True)
    (root / "js" / "app.js").write_text("export {};")
    (root / "js" / "notes.py").write_text("secret = 1")
    (root / ".hidden").mkdir()
    (root / ".hidden" / "x.js").write_text("x")
    (root / "js" / ".env.js").write_text("x")
    outside = tmp_path / "outside.js"
    outside.write_text("secret")
    (root / "js" / "link.js").symlink_to(outside)
    files = StaticFiles(root)
    assert sorted(files.manifest()) == ["js/app.js"]
    assert files.get("js/app.js").body == b"export {};"
    assert files.get("js/link.js") is None and files.get("../outside.js") is None


def test_a_changed_file_is_read_again(tmp_path):
    (tmp_path / "a.css").write_text("a { color: red; }" * 100)
    files = StaticFiles(tmp_path)
    first = files.get("a.css")
    assert gzip.decompress(first.gzipped) == first.body
    (tmp_path / "a.css").write_text("a { color: blue; }" * 100)
    second = files.get("a.css")
    assert second.body != first.body and second.etag != first.etag


# -- the pages' code ---------------------------------------------------------------------

IMPORT = re.compile(r"""(?:import|export)\s[^"';]*?from\s*["']([^"']+)["']"""
                    r"""|import\s*["']([^"']+)["']""")


def imports_of(path):
    text = path.read_text(encoding="utf-8")
    return [a or b for a, b in IMPORT.findall(text)]


DYNAMIC = re.compile(r"""\bimport\(\s*["']([^"']+)["']\s*\)""")


def closure(entry):
    """Every script a page's module loads, transitively: (static imports and
    dynamic ones, which a page may load later (counted as loaded), the
    alternatives of its dynamic imports of the words, of which it loads one)."""
    seen, alternatives, todo = set(), set(), [entry]
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.add(path)
        if path.suffix == ".js" and "vendor" not in path.parts:
            text = path.read_text(encoding="utf-8")
            for spec in imports_of(path) + DYNAMIC.findall(text):
                assert spec.startswith("."), f"{path.name} imports {spec}: only relative imports"
                target = (path.parent / spec).resolve()
                assert target.is_file(), f"{path.name} imports {spec}, which does not exist"
                if spec in DYNAMIC.findall(text) and target.parent.name == "words":
                    alternatives.add(target)
                else:
                    todo.append(target)
    return seen, alternatives


def page_entry(page):
    html = (PAGES_DIR / page).read_text(encoding="utf-8")
    scripts = re.findall(r'<script type="module" src="/static/([^"]+)"></script>', html)
    assert len(scripts) == 1 and "<script>" not in html and " style=" not in html
    return (STATIC_DIR / scripts[0]).resolve()


def wire_size(path):
    return len(gzip.compress(path.read_bytes(), 6, mtime=0))


@pytest.mark.parametrize("page", sorted(set(PAGE_URLS.values())))
def test_every_page_loads_less_than_200_kb_of_script_on_the_wire(page):
    scripts, languages = closure(page_entry(page))
    manifest = {(STATIC_DIR / name).resolve() for name in STATIC.manifest()}
    assert scripts | languages <= manifest
    assert {p.name for p in languages} == {"zh.js", "en.js"}
    total = sum(map(wire_size, scripts)) + max(map(wire_size, languages))
    assert total < SCRIPT_BUDGET, f"{page}: {total} bytes of script, gzip-compressed"


def test_charts_are_on_the_reports_page_only():
    for page in set(PAGE_URLS.values()):
        charts = any("echarts" in p.name for p in closure(page_entry(page))[0])
        assert charts == (page == "reports.html"), page


def words(language):
    text = (STATIC_DIR / "js" / "words" / f"{language}.js").read_text(encoding="utf-8")
    part = text[text.index("export const words = {"):text.index("export const codes = {")]
    codes = text[text.index("export const codes = {"):]
    return (set(re.findall(r'^  "([a-z_]+\.[a-z_.]+)":', part, re.M)),
            re.findall(r'^  (\w+): \{|^    "([^"]+)":', codes, re.M))


def test_every_word_the_pages_use_is_in_chinese_and_english():
    (zh, zh_codes), (en, en_codes) = words("zh"), words("en")
    assert zh == en, f"only zh: {sorted(zh - en)}; only en: {sorted(en - zh)}"
    assert zh_codes == en_codes
    used = set()
    for path in (STATIC_DIR / "js").rglob("*.js"):
        used |= set(re.findall(r'\bt\(\s*"([a-z_]+\.[a-z_.]+)"', path.read_text(encoding="utf-8")))
    for path in PAGES_DIR.glob("*.html"):
        used |= set(re.findall(r'data-i18n="([^"]+)"', path.read_text(encoding="utf-8")))
    assert used - zh == set()


def test_vendored_libraries_carry_their_licences():
    vendor = STATIC_DIR / "vendor"
    licences = {p.name for p in (vendor / "LICENSES").iterdir()}
    for library in vendor.glob("*.js"):
        package = library.name.split("-")[0]
        version = library.name.split("-")[1].split(".custom")[0].removesuffix(".min.js")
        assert f"{package}-{version}-LICENSE.txt" in licences, library.name
        assert library.read_text(encoding="utf-8").startswith("/*!"), "banner with the licence"
    # what the ECharts build bundles (build.mjs lists it from esbuild's metafile)
    assert {"zrender", "tslib"} <= {name.split("-")[0] for name in licences}


# -- the API routes of the mixin ----------------------------------------------------------------

def test_the_openapi_document_stays_valid_with_the_web_routes():
    spec = build_spec()
    validate(spec)
    assert "/api/clock" in spec["paths"] and "/api/board/overdue" in spec["paths"]
    assert not any(path.startswith("/static") or path == "/" for path in spec["paths"])


@pytest.mark.parametrize("days, tier", [(1, 1), (7, 1), (8, 2), (15, 2), (16, 3), (40, 3)])
def test_board_items_take_days_and_tier_from_sla(days, tier):
    complaint = {"id": "C-GZ-2026-000002", "project_id": "GZ-P01", "room": "2-2-0202",
                 "category": "sales_contract", "category_label": "营销签约类",
                 "handler_id": "rcgz-mkt-head", "escalation_level": None}
    overdue = {   # one item of sla's list_overdue, as it arrives
        "complaint_id": complaint["id"], "project_id": "GZ-P01", "department": "marketing",
        "completion_due_at": "2026-11-11T10:00:00+08:00", "days_overdue": days,
        "tier": overdue_tier(days), "handler_person_id": "rcgz-mkt-head",
        "leader_person_ids": ["rcgz-vp-mkt"], "chairman_person_id": None}
    OverdueComplaintView().load(overdue)
    view = {"complaint_id": complaint["id"], "completion_due_at": "2026-11-11T10:00:00+08:00",
            "state": "routed", "state_label": "已派单待回访",
            "routing": {"company_id": "rc-gz", "company_name": "恒大地产集团广州公司",
                        "department": "marketing", "department_name": "营销部",
                        "handler": {"person_id": "rcgz-mkt-head", "name": "冯晓东"}}}
    assert RoutingOverview().validate(view) == {}     # dispatch's routing_overview item
    item = _board_item(complaint, overdue, view)
    assert (item["days_overdue"], item["tier"]) == (days, tier)
    assert item["department_name"] == "营销部" and item["handler_name"] == "冯晓东"
    assert (item["step"], item["step_label"]) == ("routed", "已派单待回访")
    bare = _board_item(complaint, overdue, None)      # dispatch did not answer
    assert bare["company_id"] is None and bare["handler_id"] == "rcgz-mkt-head"


def test_the_module_serves_from_the_gateway_package():
    assert Path(web.WEB_ROOT).name == "web" and Path(web.WEB_ROOT).parent.name == "gateway"
