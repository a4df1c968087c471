"""End to end: a citizen at a counter "scans" its QR code (the browser opens what the code encodes), answers, and the
response is attributed to the QR channel and that counter; the page tells Zalo and Facebook what to show."""

from __future__ import annotations

import io
import re
import urllib.request
from typing import Any

import pytest

from tests.e2e.conftest import open_page
from tests.e2e.test_citizen_form import ULID, answer_all_pages
from tests.integration.test_channels import COUNTER, ensure_counter

pytestmark = pytest.mark.e2e


def scan(url: str) -> str:
    """What a phone's camera reads from the QR code the counter's poster shows."""
    import zxingcpp
    from PIL import Image

    request = urllib.request.Request(url, headers={"Accept": "image/png,*/*"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        found = zxingcpp.read_barcodes(Image.open(io.BytesIO(answer.read())))
    assert len(found) == 1
    return str(found[0].text)


def test_a_response_through_a_counters_qr_code_is_attributed_to_qr_and_the_counter(
    browser: Any, live_stack: Any, page_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    from chalicelib import wiring

    # GIVEN Hà Nội's counter and the QR code its poster carries
    ensure_counter()
    api, counter = live_stack.api_url, COUNTER["code"]
    target = scan(f"{api}/s/sipas-2026/qr.png?agency=P01&location={counter}")
    assert target == f"{api}/s/sipas-2026?agency=P01&location={counter}&via=qr"

    # WHEN a citizen opens it on a phone, answers and sends the form
    page = open_page(browser, target, page_errors, viewport={"width": 390, "height": 844}, is_mobile=True)
    expect(page.locator('meta[property="og:image"]')).to_have_attribute("content", f"{api}/s/sipas-2026/share.png?v=1")
    expect(page.locator("#share-link")).to_have_value(f"{api}/s/sipas-2026?agency=P01&via=link")
    page.select_option("#i-province", "01")
    expect(page.locator('#i-commune option[value="00004"]')).to_have_count(1)
    page.select_option("#i-commune", "00004")
    answer_all_pages(page)  # one section per page, to the last
    with page.expect_response(lambda r: r.url.endswith("/responses")) as answer:
        page.get_by_role("button", name="Gửi phiếu").click()
    assert answer.value.status == 201
    code = page.locator(".receipt .code strong").inner_text().strip()
    assert ULID.match(code)
    assert page_errors == []

    # THEN the stored response names the QR channel, the agency, the counter and the counter's service
    stored = wiring.responses().get(code)
    assert stored is not None
    assert (stored.channel, stored.agency, stored.location) == ("qr", "P01", counter)
    assert stored.service == COUNTER["service"]


def test_the_counters_page_in_the_console_shows_its_qr_code(
    browser: Any, live_stack: Any, page_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    from chalicelib.api.session import SESSION_COOKIE

    ensure_counter()
    api = live_stack.api_url
    context = browser.new_context(locale="vi-VN")
    host = re.sub(r"^https?://", "", api).split(":")[0]
    context.add_cookies(
        [{"name": SESSION_COOKIE, "value": live_stack.idp.issue("quantri.hanoi"), "domain": host, "path": "/"}]
    )
    page = context.new_page()
    page.on("console", lambda msg: page_errors.append(msg.text) if msg.type == "error" else None)
    page.goto(f"{api}/admin/agencies/P01/channels")
    image = page.get_by_role("img", name=re.compile("Mã QR dẫn tới phiếu khảo sát"))
    expect(image.first).to_be_visible()
    assert image.first.evaluate("img => img.naturalWidth") > 0  # the SVG loaded under the page's CSP
    poster = page.get_by_role("link", name="In áp phích QR (A4, PDF)").first
    response = page.request.get(api + str(poster.get_attribute("href")))
    assert response.status == 200 and response.headers["content-type"] == "application/pdf"
    assert response.body().startswith(b"%PDF")
    assert page_errors == []
    context.close()
