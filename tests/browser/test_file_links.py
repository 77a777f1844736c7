"""Photo and signature links in real headless Chromium (issue 16, item 5): the
console reached under another host name than the object store's (`localhost`
against a store at `127.0.0.1`, as a phone reaches the server by its network
address) shows every image, loaded from the gateway's `/files/` links on the
page's own host, never from the store's address; at desk width and on a
375 px phone."""
from datetime import timedelta

import pytest
from browser_steps import SCREENSHOTS, eventually, photo_png

pytestmark = pytest.mark.integration


def signed_complaint_with_a_visit_photo(suite):
    api = suite.api
    signature = api["spec"].call("POST", "/api/media", data={"kind": "signature"}, files={
        "file": ("签名.png", photo_png(48, 24), "image/png")}).json()["id"]
    now = suite.clock.now()
    cid = api["spec"].post("/api/complaints", {
        "project_id": "GZ-P01", "room": "2-1-0302", "customer_name": "赵先生",
        "customer_phone": "13700002222", "channel": "visit", "demand": "卫生间漏水",
        "category": "maintenance_repair",
        "requested_completion_at": (now + timedelta(days=2)).isoformat(),
        "contact_ended_at": (now - timedelta(minutes=3)).isoformat(),
        "customer_signature_media_id": signature})["id"]
    api["spec"].post(f"/api/complaints/{cid}/order/submit")
    api["deputy"].post(f"/api/complaints/{cid}/order/review", {"decision": "approve"})
    api["gm"].post(f"/api/complaints/{cid}/order/sign", {"decision": "approve"})
    eventually(lambda: api["staff"].get(f"/api/complaints/{cid}")["handler_id"])
    photo = api["head"].call("POST", "/api/media", data={
        "kind": "photo", "stage": "before", "complaint_id": cid}, files={
        "file": ("门口.png", photo_png(64, 48), "image/png")}).json()["id"]
    api["head"].post(f"/api/complaints/{cid}/visits", {
        "outcome": "blocked", "reason": "客户不在家", "attempted_at": now.isoformat(),
        "photo_media_ids": [photo]})
    return cid


@pytest.mark.parametrize("width,height,mobile", [(1366, 900, False), (375, 812, True)],
                         ids=["desk", "phone"])
def test_images_load_from_the_pages_own_host_not_the_store(suite, open_browser, s3_config,
                                                          width, height, mobile):
    cid = signed_complaint_with_a_visit_photo(suite)
    port = suite.base.rsplit(":", 1)[1]
    page_host = f"http://localhost:{port}"
    staff = open_browser(page_host, suite.tokens["staff"], width=width, height=height,
                         mobile=mobile)
    page = staff.goto(f"/complaints/{cid}")
    images = page.locator("figure.media img")
    images.first.wait_for()
    assert images.count() >= 2                       # the signature and the photo
    page.wait_for_function("""() => [...document.querySelectorAll("figure.media img")]
        .every((img) => img.complete && img.naturalWidth > 0)""")
    sources = images.evaluate_all("(all) => all.map((img) => img.src)")
    for src in sources:
        assert src.startswith(f"{page_host}/files/"), src
        assert s3_config["endpoint"] not in src and "127.0.0.1" not in src, src
    links = page.locator("figure.media a").evaluate_all("(all) => all.map((a) => a.href)")
    assert all(href.startswith(f"{page_host}/files/") for href in links), links
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("figure.media").first.scroll_into_view_if_needed()
    staff.shot(f"file-links-{'phone' if mobile else 'desk'}")
    assert not staff.errors, staff.errors
