"""Steps on the web console's pages, as a person does them (the browser
tests' vocabulary): fill a form, draw a signature, pick a photo, open an
action on the complaint page."""
import struct
import zlib
from datetime import UTC, datetime

from shared.config import REPO_ROOT
from shared.testing.polling import eventually as eventually  # the browser tests import it from here

# bytes of script one page may load, gzip-compressed as the gateway serves them
# (issue 7; services/gateway/tests/test_web.py counts the same on the files)
SCRIPT_BUDGET = 200 * 1024
ARTEFACTS = REPO_ROOT / "var" / "artefacts"
SCREENSHOTS = ARTEFACTS / "screenshots"
NOW = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)     # 10:00 in Shanghai


def photo_png(width=240, height=160):
    """A small real PNG (a sky-to-ground gradient), as a phone camera's stand-in."""
    rows = []
    for y in range(height):
        row = bytearray([0])
        for x in range(width):
            sky = y < height * 0.6
            row += bytes((70 + x * 100 // width, 130 + y // 3, 220) if sky else
                         (120 + x * 60 // width, 100, 60 + y // 4))
        rows.append(bytes(row))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(b"".join(rows))) + chunk(b"IEND", b""))


def draw_signature(page, scope="body"):
    """A few strokes across the first signature pad in `scope`."""
    canvas = page.locator(f"{scope} canvas.pad").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x0, y0 = box["x"] + box["width"] * 0.15, box["y"] + box["height"] * 0.55
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 12):
        zigzag = (-1) ** i * box["height"] * 0.18
        page.mouse.move(x0 + i * box["width"] * 0.06, y0 + zigzag, steps=4)
    page.mouse.up()
    page.mouse.move(x0 + box["width"] * 0.2, y0 + box["height"] * 0.25)
    page.mouse.down()
    page.mouse.move(x0 + box["width"] * 0.6, y0 + box["height"] * 0.2, steps=6)
    page.mouse.up()


def submit(scope):
    scope.locator("button[type=submit]").first.click()


def open_action(page, title):
    """The complaint page's action by its title: opened, its form returned."""
    action = page.locator("details.action", has=page.locator("summary", has_text=title)).first
    if action.get_attribute("open") is None:
        action.locator("summary").click()
    return action


def field_error(scope, name):
    return scope.locator(f'.field[data-name="{name}"] .field-error')


def state_badge(page):
    return page.locator("main h1 .badge").first.inner_text()


def no_sideways_scroll(page):
    """The page fits its viewport's width (tables scroll inside their own box)."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
