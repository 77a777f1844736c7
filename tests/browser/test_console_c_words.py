"""One vocabulary on every page (issue 16, item 7, the pages console-b's walk
left out), in real headless Chromium at 1366x900 and on a 375x812 phone, in
zh-CN and in English: the reports page with an issued month (rankings, the
deductions report), the overdue board with an overdue complaint, the
complaint list with its filters open, the customer's signing page, the
sign-in page and the GM's sign form. No English code word on a zh-CN page,
no Chinese on an English page; what is data (people's, projects' and
units' names, what people typed) is taken out first. The phone's save
confirmation does not cover the header. Screenshots: console-c-*."""
import json
import re
from datetime import UTC, datetime

import pytest
import yaml
from browser_steps import ARTEFACTS, SCREENSHOTS, eventually, no_sideways_scroll, photo_png
from playwright.sync_api import expect
from test_board_and_reports import apply_closure_on_time, record_and_sign
from test_console_a_sign import reviewed_order
from test_console_b_pages import CJK, CODE_WORD, ENGLISH_GLOSS, page_words
from test_console_c_routing import DEMO_FILE
from test_console_c_signatures import LINK

pytestmark = pytest.mark.integration

SIZES = pytest.mark.parametrize("width,height,mobile", [(1366, 900, False), (375, 812, True)],
                                ids=["desk", "phone"])
# what people and the directory wrote: shown as it is in either language
DATA_KEYS = ("demand", "room", "reason", "comment", "note", "plan", "work_done", "title",
             "customer_phone", "text")


def data_of(value, key=""):
    """The data strings of an API answer: names of any kind and what people wrote."""
    if isinstance(value, dict) and key == "people":          # {person_id: name}
        return [v for v in value.values() if isinstance(v, str)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in data_of(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in data_of(v, key)]
    if isinstance(value, str) and ("name" in key or key in DATA_KEYS or key.endswith("_id")):
        return [value]
    return []


@pytest.fixture
def month_issued(suite):
    """November 2026 with one complaint closed on time and one overdue, its
    report issued at 12-01 00:30 (Shanghai); a reviewed order for the GM and a
    phone complaint waiting for the customer's signature."""
    on_time = record_and_sign(suite, "maintenance_repair", "1-1-0101", days=2)
    apply_closure_on_time(suite, on_time)
    late = record_and_sign(suite, "sales_contract", "2-2-0202", days=1)
    suite.advance("P10D")
    eventually(lambda: suite.api["gm"].get("/api/complaints", overdue="true")["total"] == 1,
               timeout=30)
    suite.set_clock(datetime(2026, 11, 30, 16, 30, tzinfo=UTC))
    eventually(lambda: suite.scalar(
        "SELECT count(*) FROM penalty.monthly_reports WHERE month = '2026-11'"), timeout=40,
        interval=1)
    reviewed = reviewed_order(suite)
    now = suite.clock.now()
    phoned = suite.api["spec"].post("/api/complaints", {
        "project_id": "GZ-P01", "room": "7-1-0701", "customer_name": "郑女士",
        "customer_phone": "13700005555", "channel": "phone", "demand": "电梯异响",
        "category": "maintenance_repair",
        "requested_completion_at": now.replace(day=5, month=12).isoformat(),
        "contact_ended_at": now.isoformat()})["id"]

    def link():
        sent = suite.api["admin"].get("/api/notifications", complaint_id=phoned,
                                      template="signing_link")["items"]
        return LINK.search(sent[0]["text"]).group(0) if sent else None

    return {"late": late, "on_time": on_time, "reviewed": reviewed, "phoned": phoned,
            "link": eventually(link)}


def every_data(suite, ids):
    api = suite.api["gm"]
    answers = [api.get("/api/complaints", limit=100), api.get("/api/board/overdue"),
               api.get("/api/rankings/2026-11"), api.get("/api/reports/monthly/2026-11"),
               api.get("/api/projects", limit=500)]
    answers += [api.get(f"/api/complaints/{cid}") for cid in ids]
    answers.append(suite.api["head"].get("/api/deductions", person_id="me", limit=1000))
    answers.append(yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8")))   # the directory's names
    return [s for answer in answers for s in data_of(answer)]


# a lower-case English word on a Chinese page is a code shown raw ("pending")
LOWER_WORD = re.compile(r"(?<![\w./-])[a-z]{3,}(?![\w./-])")


def leaks(text, lang):
    if lang == "zh":
        return CODE_WORD.findall(text) + ENGLISH_GLOSS.findall(text) + LOWER_WORD.findall(text)
    return sorted({line.strip() for line in text.splitlines() if CJK.search(line)}) \
        + CODE_WORD.findall(text)


@SIZES
def test_every_page_speaks_one_language(suite, open_browser, month_issued, width, height,
                                        mobile):
    ids = [month_issued[k] for k in ("late", "on_time", "reviewed", "phoned")]
    data = every_data(suite, ids)
    size = "375" if mobile else "1366"
    walks = {
        "gm": [("home", "/"), ("reports", "/reports?month=2026-11"), ("board", "/board"),
               ("complaints", "/complaints"),
               ("sign-form", f"/complaints/{month_issued['reviewed']}"),
               ("complaint-late", f"/complaints/{month_issued['late']}")],
        "head": [("home-head", "/"), ("my-deductions", "/my/deductions"),
                 ("visit", f"/visit/{month_issued['on_time']}")],
        "spec": [("home-spec", "/"), ("desk", "/desk")],
        None: [("signin", "/signin"), ("customer-sign", month_issued["link"])],
    }
    found = {}
    for lang in ("zh", "en"):
        for who, paths in walks.items():
            person = open_browser(suite.base, suite.tokens[who] if who else None,
                                  width=width, height=height, mobile=mobile)
            if lang == "en":
                person.context.add_init_script("localStorage.setItem('ccrm.lang', 'en')")
            for name, path in paths:
                page = person.goto(path)
                if name == "reports":
                    page.locator(".chart canvas").first.wait_for()
                    page.locator("#report-people tbody button").first.click()
                    page.locator("tr.ca-lines a").first.wait_for()
                    # a person's lines use the card's width: nothing cut at the right edge
                    assert page.evaluate("""() =>
                        [...document.querySelectorAll('tr.ca-lines td td')]
                        .every((td) => td.scrollWidth <= td.clientWidth + 1)"""), (lang, name)
                if name == "complaint-late":
                    # weeks of daily deadlines: the latest in sight, the earlier folded
                    earlier = page.locator("details.ca-earlier").first
                    expect(earlier.locator("summary")).to_contain_text(
                        "更早的每日时限" if lang == "zh" else "Earlier daily deadlines")
                    assert earlier.get_attribute("open") is None
                if name == "board":
                    page.locator("main table tbody tr").first.wait_for()
                if name == "complaints":
                    more = page.locator("details.more")
                    if more.count() and more.get_attribute("open") is None:
                        more.locator("summary").click()
                if name == "sign-form":
                    page.locator(".ca-preview dl").first.wait_for()
                # a fact's value keeps room beside its label (English labels are long)
                assert page.evaluate("""() => [...document.querySelectorAll('dl.facts dd')]
                    .filter((dd) => dd.offsetParent)
                    .every((dd) => dd.clientWidth >= dd.parentElement.clientWidth * 0.45)"""), \
                    (lang, name)
                text = page_words(page, data)
                if leaks(text, lang):
                    found[(lang, name)] = leaks(text, lang)
                assert no_sideways_scroll(page), (lang, name)
                person.shot(f"console-c-{name}-{lang}-{size}")
            assert person.errors == [], person.errors
    (ARTEFACTS / f"console-c-leaks-{size}.json").write_text(
        json.dumps({f"{lang} {name}": words for (lang, name), words in found.items()},
                   ensure_ascii=False, indent=1), encoding="utf-8")
    assert not found, found


def test_the_phone_confirmation_leaves_the_header_uncovered(suite, open_browser):
    cid = record_and_sign(suite, "maintenance_repair", "3-2-1801", days=5)
    head = open_browser(suite.base, suite.tokens["head"], width=375, height=812, mobile=True)
    page = head.goto(f"/visit/{cid}")
    progress = page.locator("section", has_text="今日处理进展").locator("form")
    progress.locator("[name=note]").fill("已联系业主约定明早上门")
    progress.locator("button[type=submit]").click()
    toast = page.locator(".ca-toast")
    expect(toast).to_contain_text("进展已登记")
    for scroll in ("0", "document.body.scrollHeight"):
        page.evaluate(f"window.scrollTo(0, {scroll})")
        boxes = page.evaluate("""() => {
            const t = document.querySelector('.ca-toast').getBoundingClientRect();
            const top = document.querySelector('#top').getBoundingClientRect();
            return {toast: [t.top, t.bottom], header: [top.top, top.bottom],
                    height: window.innerHeight};
        }""")
        low, high = boxes["toast"]
        assert 0 <= low and high <= boxes["height"], boxes          # in sight
        assert low >= boxes["header"][1] or high <= boxes["header"][0], boxes   # not over it
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOTS / "console-c-visit-toast-375.png"))
    nav = page.locator("#top nav a").first
    nav.click(trial=True)                                    # nothing lies over the navigation
    assert head.errors == []


def test_a_deadline_two_people_missed_is_split_in_either_language(suite, open_browser):
    """The order's signature deadline (an hour from submission) missed by the
    deputy GM, who reviewed 10 minutes late, and then by the GM: sla charges
    both, and the page words the split from the charges' codes (sla's own
    summary is Chinese only)."""
    api, now = suite.api, suite.clock.now()
    signature = api["spec"].call("POST", "/api/media", data={
        "kind": "signature", "signature_kind": "drawn"}, files={
        "file": ("s.png", photo_png(60, 30), "image/png")}).json()["id"]
    cid = api["spec"].post("/api/complaints", {
        "project_id": "GZ-P01", "room": "8-1-0801", "customer_name": "何先生",
        "customer_phone": "13700008888", "channel": "visit", "demand": "车位划线不清",
        "category": "sales_contract",
        "requested_completion_at": now.replace(day=20).isoformat(),
        "contact_ended_at": now.isoformat(), "customer_signature_media_id": signature})["id"]
    api["spec"].post(f"/api/complaints/{cid}/order/submit")
    suite.advance("PT70M")
    api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"})
    suite.advance("PT20M")
    api["gm"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve"})

    def split():
        timers = api["gm"].get(f"/api/complaints/{cid}")["deadlines"].get("timers", [])
        signed = [x for x in timers if x["rule"] == "order_sign" and x["state"] == "missed"]
        return signed if signed and len(signed[0]["charges"]) == 2 else None

    eventually(split, timeout=30)
    for lang, said in (("zh", ["分摊：", "售后服务中心副总经理 林静怡",
                               "售后服务中心总经理 周明华"]),
                       ("en", ["split: ", "Centre deputy GM 林静怡", "Centre GM 周明华"])):
        gm = open_browser(suite.base, suite.tokens["gm"], width=1366, height=900)
        if lang == "en":
            gm.context.add_init_script("localStorage.setItem('ccrm.lang', 'en')")
        page = gm.goto(f"/complaints/{cid}")
        row = page.locator("section", has=page.locator("h2", has_text="时限" if lang == "zh"
                                                       else "Deadlines")).locator("tr").filter(
            has_text="督办令签发" if lang == "zh" else "Order signature")
        for text in said:
            expect(row.first).to_contain_text(text)
        assert gm.errors == []
