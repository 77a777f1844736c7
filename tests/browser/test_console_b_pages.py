"""Issue 16, items 3, 4, 6 and 7 in real headless Chromium, at desk size
(1366x900) and on a 375x812 phone, asserting what a person sees:

- the desk page: one submit shows every field's error at once (nothing is
  sent), 类别 starts on 请选择; corrected, the complaint is recorded;
- 我的扣罚: a person's deduction lines with the rule, the article, the
  complaint and the grounds; a line appealed from the page, its status shown,
  then the GM's decision shown;
- uploads: an oversized file that cannot be made smaller is refused before
  upload with the limit stated; a large photo is made smaller and goes up;
- one vocabulary: no code word or bracketed English on a zh-CN page, no
  Chinese on an English page (names and what people typed aside).

Screenshots go to var/artefacts/screenshots/ (console-b-*)."""
import os
import re
import struct
import zlib
from datetime import timedelta

import pytest
from browser_steps import NOW, draw_signature, eventually, field_error, no_sideways_scroll, submit
from playwright.sync_api import expect

from services.penalty.tests.helpers import at, missed
from shared.outbox import EventPublisher, Outbox, relay_once

pytestmark = pytest.mark.integration

SIZES = pytest.mark.parametrize("width,height,mobile", [(1366, 900, False), (375, 812, True)],
                                ids=["desk", "phone"])
CJK = re.compile(r"[\u3400-\u9fff\uff08\uff09\uff1b\uff1a\u3001]")
CODE_WORD = re.compile(r"\b[a-z]+(?:_[a-z]+)+\b")
ENGLISH_GLOSS = re.compile(r"\([A-Za-z][A-Za-z ,:;'-]{2,}\)")


def open_as(open_browser, suite, who, width, height, mobile, lang="zh"):
    person = open_browser(suite.base, suite.tokens[who], width=width, height=height,
                          mobile=mobile)
    if lang == "en":
        person.context.add_init_script("localStorage.setItem('ccrm.lang', 'en')")
    return person


def size(mobile):
    return "375" if mobile else "1366"


def local_input(moment):
    """A datetime-local value in the group's zone."""
    return moment.astimezone(at("2026-01-01 00:00").tzinfo).strftime("%Y-%m-%dT%H:%M")


# -- item 3: the desk ----------------------------------------------------------------------

@SIZES
def test_one_submit_at_the_desk_shows_every_field_error(suite, open_browser, width, height,
                                                        mobile):
    spec = open_as(open_browser, suite, "spec", width, height, mobile)
    sent = []
    spec.page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    page = spec.goto("/desk")
    desk = page.locator("main form").first
    category = page.locator("[name=category]")
    assert category.input_value() == ""
    assert category.locator("option:checked").inner_text() == "请选择"

    page.fill("[name=customer_phone]", "12345")
    page.fill("[name=requested_completion_at]", local_input(NOW - timedelta(hours=1)))
    submit(desk)
    expected = {"room": "必填", "customer_name": "必填", "customer_phone": "电话号码格式不正确",
                "category": "请选择", "demand": "必填", "requested_completion_at": "须晚于当前时间",
                "customer_signature_media_id": "请客户在此签名"}
    for name, text in expected.items():
        expect(field_error(desk, name)).to_contain_text(text)
    assert field_error(desk, "project_id").inner_text() == ""
    assert page.get_attribute("[name=customer_phone]", "aria-invalid") == "true"
    assert "请按字段提示修改" in desk.locator(".form-error").inner_text()
    assert not any("/api/" in url for url in sent), sent        # nothing went to the server
    assert no_sideways_scroll(page)
    desk.locator(".field-error", has_text="必填").first.scroll_into_view_if_needed()
    spec.shot(f"console-b-desk-every-error-{size(mobile)}")

    page.fill("[name=room]", "5-1-0901")
    page.fill("[name=customer_name]", "周女士")
    page.fill("[name=customer_phone]", "13912345678")
    category.select_option("maintenance_repair")
    page.fill("[name=demand]", "厨房下水管渗水。")
    page.fill("[name=requested_completion_at]", local_input(NOW + timedelta(days=3)))
    draw_signature(page)
    submit(desk)
    page.get_by_text("已登记投诉 C-GZ-2026-").first.wait_for()
    assert spec.errors == []


# -- item 4: 我的扣罚 -----------------------------------------------------------------------

def charge_the_head(suite, rabbit_config):
    """Two lines for 温嘉欣 (pcgz-head) as sla's missed deadlines cause them."""
    publisher = EventPublisher(rabbit_config["AMQP_URI"], confirm_timeout=5)
    try:
        with suite.database.transaction() as conn:
            for n, (rule, when) in enumerate((("plan", "2026-11-03 18:00"),
                                              ("progress", "2026-11-04 18:00"))):
                Outbox("sla", "sla", "GZ").add(conn, "deadline.missed", missed(
                    rule, at(when), 3 * 3600, person="pcgz-head", timer=f"cb-{n}",
                    role="handler"), occurred_at=at(when), complaint_id="C-GZ-2026-000077")
        relay_once(suite.database, "sla", publisher)
    finally:
        publisher.close()
    eventually(lambda: suite.scalar(
        "SELECT count(*) FROM penalty.deductions WHERE person_id = 'pcgz-head'") == 2)


@SIZES
def test_a_deduction_is_appealed_from_my_deductions_and_its_status_shows(
        suite, open_browser, rabbit_config, width, height, mobile):
    charge_the_head(suite, rabbit_config)
    head = open_as(open_browser, suite, "head", width, height, mobile)
    page = head.goto("/")
    page.get_by_role("link", name="我的扣罚").click()     # in the nav, for every role
    head.ready()
    assert page.url.endswith("/my/deductions")
    lines = page.locator("article.deduction")
    expect(lines).to_have_count(2)
    plan = lines.filter(has_text="处理方案").first
    expect(plan).to_contain_text("¥")
    expect(plan).to_contain_text("第 ")                 # the regulation's article
    assert plan.get_by_role("link", name="C-GZ-2026-000077").get_attribute("href") \
        == "/complaints/C-GZ-2026-000077"
    expect(plan).to_contain_text("2026-11-03 18:00")   # the deadline it rests on
    assert no_sideways_scroll(page)
    head.shot(f"console-b-my-deductions-{size(mobile)}")

    plan.locator("summary", has_text="申诉").click()
    appeal = plan.locator("form")
    submit(appeal)
    expect(field_error(appeal, "reason")).to_have_text("必填")
    appeal.locator("[name=reason]").fill("当天业主临时改约，方案已于次日上午提交。")
    submit(appeal)
    expect(plan).to_contain_text("申诉已提交")
    expect(plan.locator(".appeal-status")).to_contain_text("待裁决")
    head.shot(f"console-b-my-deductions-appealed-{size(mobile)}")

    appeals = suite.api["gm"].get("/api/appeals", status="pending")["items"]
    assert [a["person_id"] for a in appeals] == ["pcgz-head"]
    suite.api["gm"].post(f"/api/appeals/{appeals[0]['id']}/decision",
                         {"decision": "rejected", "reason": "改约未留记录"})
    page = head.goto("/my/deductions")
    plan = page.locator("article.deduction").filter(has_text="处理方案").first
    expect(plan.locator(".appeal-status")).to_contain_text("申诉驳回")
    expect(plan.locator(".appeal-status")).to_contain_text("改约未留记录")
    assert plan.locator("form").count() == 0            # appealed once: no second form
    other = page.locator("article.deduction").filter(has_text="每日进展").first
    assert other.locator("summary", has_text="申诉").count() == 1
    assert head.errors == []


# -- item 6: uploads -----------------------------------------------------------------------

def big_noisy_png(width, height):
    """A PNG of random pixels: megabytes a phone camera would give, incompressible."""
    raw = os.urandom(width * height * 3)
    stride = width * 3
    rows = b"".join(b"\x00" + raw[y * stride:(y + 1) * stride] for y in range(height))

    def chunk(kind, data):
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 1)) + chunk(b"IEND", b""))


def signed_order(suite):
    api = suite.api
    cid = api["spec"].post("/api/complaints", {
        "project_id": "GZ-P01", "room": "6-2-1102", "customer_name": "钱先生",
        "customer_phone": "13700003333", "channel": "letter", "demand": "阳台地漏反味",
        "category": "maintenance_repair",
        "requested_completion_at": (NOW + timedelta(days=2)).isoformat(),
        "contact_ended_at": (NOW - timedelta(minutes=3)).isoformat()})["id"]
    api["spec"].post(f"/api/complaints/{cid}/order/submit")
    api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"})
    api["gm"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve"})
    eventually(lambda: api["staff"].get(f"/api/complaints/{cid}")["handler_id"])
    return cid


@SIZES
def test_an_oversized_file_is_refused_before_upload_and_a_big_photo_is_made_smaller(
        suite, open_browser, tmp_path, width, height, mobile):
    cid = signed_order(suite)
    limits = suite.api["head"].get("/api/uploads/limits")
    assert limits["max_size"] == "10 MiB"
    head = open_as(open_browser, suite, "head", width, height, mobile)
    uploads = []
    head.page.on("request", lambda r: uploads.append(r) if r.url.endswith("/api/media") else None)
    page = head.goto(f"/visit/{cid}")
    visit = page.locator("section", has_text="登记上门回访").locator("form")
    expect(visit.locator(".uploader .hint")).to_contain_text("每个文件不超过 10 MiB")

    scan = tmp_path / "合同扫描件.pdf"
    scan.write_bytes(b"%PDF-1.4\n" + b"0" * (limits["max_bytes"] + 2 * 1024 * 1024))
    visit.locator("input[type=file]").set_input_files(str(scan))
    refused = visit.locator(".uploads li.refused")
    expect(refused).to_contain_text("超过 10 MiB 上限，未上传")
    expect(refused).to_contain_text("12.0 MiB")
    assert uploads == []                                  # not a byte was sent

    photo = tmp_path / "客厅.png"
    photo.write_bytes(big_noisy_png(3000, 2000))          # about 18 MB
    assert photo.stat().st_size > limits["max_bytes"]
    visit.locator("input[type=file]").set_input_files(str(photo))
    shrunk = visit.locator(".uploads li[data-media-id]")
    shrunk.wait_for(timeout=30000)
    expect(shrunk).to_contain_text("已压缩")
    media_id = shrunk.get_attribute("data-media-id")
    stored = suite.api["head"].get(f"/api/media/{media_id}")
    assert stored["content_type"] == "image/jpeg" and stored["size"] <= limits["max_bytes"]
    assert len(uploads) == 1
    visit.locator(".uploads").scroll_into_view_if_needed()
    head.shot(f"console-b-upload-refused-{size(mobile)}")
    assert head.errors == []


# -- item 7: one vocabulary ----------------------------------------------------------------

def strings_in(value):
    """Every text a JSON answer holds (the data the page shows as it is)."""
    if isinstance(value, dict):
        return [s for v in value.values() for s in strings_in(v)]
    if isinstance(value, list):
        return [s for v in value for s in strings_in(v)]
    return [value] if isinstance(value, str) else []


def page_words(page, data):
    """The visible text of the header and <main>, without the data strings and
    without what is marked as another language (the switch reads 中文 / English)."""
    text = page.evaluate("""() => [document.querySelector('#top'), document.querySelector('main')]
        .map((el) => {
          const marked = [...el.querySelectorAll('[lang]')];
          marked.forEach((m) => {
            m.dataset.hidden = m.style.visibility; m.style.visibility = 'hidden';
          });
          const text = el.innerText;
          marked.forEach((m) => { m.style.visibility = m.dataset.hidden; });
          return text;
        }).join('\\n')""")
    for item in sorted(set(data), key=len, reverse=True):
        if len(item) >= 2:
            text = text.replace(item, " ")
    return text


@pytest.mark.parametrize("width,height,mobile", [(1366, 900, False)], ids=["desk"])
def test_no_code_word_on_a_chinese_page_and_no_chinese_on_an_english_page(
        suite, open_browser, rabbit_config, width, height, mobile):
    charge_the_head(suite, rabbit_config)
    cid = signed_order(suite)
    suite.api["spec"].post(f"/api/complaints/{cid}/rating", {"score": 4})   # "4/5 · terminal"
    names = ["温嘉欣", "李思琪", "周明华", "林静怡", "陈晓燕"]      # people's names are data
    complaint = suite.api["head"].get(f"/api/complaints/{cid}")
    projects = [p["name"] for p in suite.api["head"].get("/api/projects")["items"]]  # data too
    data = names + projects + strings_in(complaint) + [cid]
    walks = {"head": ["/", "/my/deductions", f"/complaints/{cid}", f"/visit/{cid}"],
             "spec": ["/desk"]}
    for lang in ("zh", "en"):
        for who, paths in walks.items():
            person = open_as(open_browser, suite, who, width, height, mobile, lang)
            for path in paths:
                page = person.goto(path)
                if path == "/desk":           # the errors of an empty submit too
                    submit(page.locator("main form").first)
                    field_error(page.locator("main form").first, "room").wait_for()
                text = page_words(page, data)
                if lang == "zh":
                    assert not CODE_WORD.findall(text), (path, CODE_WORD.findall(text))
                    assert not ENGLISH_GLOSS.findall(text), (path, ENGLISH_GLOSS.findall(text))
                else:
                    found = sorted({line.strip() for line in text.splitlines()
                                    if CJK.search(line)})
                    assert not found, (path, found)
                    assert not CODE_WORD.findall(text), (path, CODE_WORD.findall(text))
                person.shot(f"console-b-words-{lang}-{path.strip('/').split('/')[0] or 'home'}")
            assert person.errors == [], person.errors
