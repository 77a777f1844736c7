"""What a console user sees while PostgreSQL is down (the fault test with
`--screenshot`): the complaint list, at a desk (1366x900) and on a phone
(375 px), in Debian's Chromium through Playwright, saved under
var/artefacts/screenshots/. Returns the page's visible text, which the
report keeps and docs/reliability.md describes.
"""
from pathlib import Path

from playwright.sync_api import sync_playwright

from scripts.run_local import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--no-first-run"]
SCREENSHOTS = REPO_ROOT / "var" / "artefacts" / "screenshots"
SIZES = {"desk": (1366, 900), "phone": (375, 800)}


def console_pages(base_url, token, name, path="/complaints", wait_ms=8000):
    """Screenshots of `path` as the holder of `token`; {size: (file, visible text)}."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    seen = {}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            for size, (width, height) in SIZES.items():
                context = browser.new_context(viewport={"width": width, "height": height},
                                              is_mobile=size == "phone", locale="zh-CN")
                context.add_init_script(f"sessionStorage.setItem('ccrm.token', '{token}')")
                page = context.new_page()
                page.goto(base_url + path)
                try:
                    page.wait_for_load_state("networkidle", timeout=wait_ms)
                except Exception:  # noqa: BLE001 - a page still waiting is what we show
                    pass
                target = Path(SCREENSHOTS) / f"{name}-{size}.png"
                page.screenshot(path=str(target), full_page=False)
                seen[size] = (str(target.relative_to(REPO_ROOT)),
                              " ".join(page.inner_text("body").split())[:600])
                context.close()
        finally:
            browser.close()
    return seen
