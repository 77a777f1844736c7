"""The web console shows hostile stored text as text (issue 8): a complaint
whose room, customer name and demand are markup is drawn in Debian's
Chromium on the staff's complaint page, the work list and the customer's
link page; the text shows verbatim and no element is made from it."""
import pytest
from security_samples import IMG, SCRIPT
from security_support import eventually

pytestmark = pytest.mark.integration

DEMAND = f"{SCRIPT} {IMG} <b>粗体</b> {{{{7*7}}}}"
ROOM = "<i>3-2</i>"
NAME = "<u>王</u>"

# elements the hostile text would make if it were parsed as markup
MADE = ("document.querySelectorAll('main script, main img[src=\"x\"], main b, main i, main u')"
        ".length")


def open_page(browser, base, path, token=None):
    context = browser.new_context(base_url=base, locale="zh-CN")
    context.set_default_timeout(15000)
    if token:
        context.add_init_script(f"sessionStorage.setItem('ccrm.token', '{token}')")
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path)
    page.wait_for_selector("main#main:not([aria-busy])", state="attached")
    return context, page, errors


def shows_verbatim(page, *texts):
    content = page.evaluate("document.querySelector('main').textContent")
    return all(text in content for text in texts)


def test_hostile_text_is_drawn_as_text(suite, browser, subscriber_factory):
    events = subscriber_factory("intake.events", routing_key="complaint.signature_requested")
    cid = suite.record(channel="phone", demand=DEMAND, room=ROOM, customer_name=NAME)["id"]
    link = eventually(lambda: events.drain(timeout=0.1) and events.received[0])["data"]
    checks = [(f"/complaints/{cid}", suite.tokens["spec"], (DEMAND, ROOM, NAME)),
              ("/", suite.tokens["spec"], (ROOM,)),
              (link["link_path"], None, (DEMAND, ROOM))]
    for path, token, texts in checks:
        context, page, errors = open_page(browser, suite.base, path, token)
        try:
            eventually(lambda page=page, texts=texts: shows_verbatim(page, *texts))
            assert page.evaluate(MADE) == 0, path
            assert page.evaluate("document.title") != "xss" and not errors, (path, errors)
        finally:
            context.close()
