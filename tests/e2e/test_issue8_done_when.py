"""Issue 8's "done when", in one story through Chromium and the live stack.

An official uploads an XLSForm (a condition, a cascading province -> commune select, two languages), previews and
publishes it and prints a counter's QR poster; citizens complete it on a phone through the QR code, through a
shared link with the network cut mid-way (it arrives once when the network returns), and through Hà Nội's
widget on another origin; each response is recorded with its channel and location, from the server's token.
"""

from __future__ import annotations

import json
import re
import urllib.request
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from infra.local.demo_site import LOCATIONS, DemoSite, register
from tests.e2e.conftest import open_page
from tests.e2e.test_share_channels import scan
from tests.integration.test_channels import COUNTER, ensure_counter
from tests.shared.authoring_forms import adhoc_xlsform

pytestmark = pytest.mark.e2e

PHONE = {"viewport": {"width": 360, "height": 640}, "is_mobile": True, "has_touch": True}
SURVEY_ID = f"p01-dvc-{uuid.uuid4().hex[:6]}"


@pytest.fixture(scope="module")
def published(browser: Any, live_stack: Any, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Hà Nội's editor uploads the XLSForm in the console, previews it and publishes it."""
    workbook = tmp_path_factory.mktemp("xlsform") / "khao-sat.xlsx"
    workbook.write_bytes(adhoc_xlsform(SURVEY_ID, "P01"))
    errors: list[str] = []
    page = open_page(browser, f"{live_stack.api_url}/admin", errors)
    page.fill("#u", "bientap.hanoi")
    page.fill("#p", live_stack.idp.users["bientap.hanoi"].password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_stack.api_url}/admin")
    page.goto(f"{live_stack.api_url}/admin/surveys")
    page.set_input_files("#xlsform", str(workbook))
    page.click("button:has-text('Tạo bản nháp')")
    page.wait_for_url(f"{live_stack.api_url}/admin/surveys/{SURVEY_ID}?saved=1")
    page.click("text=Xem trước đúng như người dân sẽ thấy")
    expect(page.locator(".preview-banner")).to_contain_text("Xem trước")
    expect(page.locator("main")).to_contain_text("Ông/Bà đã dùng dịch vụ công trực tuyến chưa?")
    expect(page.locator("main")).to_contain_text("Have you used online public services?")  # the second language
    page.go_back()
    page.click("#publish-form button:has-text('Phát hành')")
    page.wait_for_url(f"{live_stack.api_url}/admin/surveys/{SURVEY_ID}?saved=1")
    expect(page.locator("#versions-table")).to_contain_text("Đã phát hành")
    page.context.close()
    assert not [e for e in errors if "Content Security Policy" in e]
    return SURVEY_ID


@pytest.fixture(scope="module")
def portal(live_stack: Any, published: str) -> Iterator[DemoSite]:
    """Hà Nội's portal on another origin, embedding the new survey's prompt (the rating is the quick answer)."""
    site = DemoSite(live_stack.api_url, survey_id=published, question="hai_long")
    register(site.origin)
    yield site
    site.stop()


def _next_until(scope: Any, selector: str) -> Any:
    target = scope.locator(selector)
    for _ in range(8):
        if target.is_visible():
            return target
        scope.locator("button:has-text('Tiếp tục'):visible").click()
    return target


def complete(scope: Any, *, rating: str | None = "4") -> None:
    """Answer the uploaded survey as a citizen of Hà Nội on a phone: the conditions and the cascade in play."""
    scope.locator("#i-province").select_option("01")
    _next_until(scope, "[data-q=tinh]").locator("input[value='01']").check()
    communes = _next_until(scope, "[data-q=xa]")
    expect(communes.locator("input[value='26734']")).to_be_hidden()  # Sài Gòn is not in Hà Nội
    communes.locator("input[value='00004']").check()
    expect(scope.locator("[data-q=hai_long]")).to_be_hidden()  # asked only of those who used the services
    _next_until(scope, "[data-q=da_dung]").locator("input[value='co']").check()
    rating_row = _next_until(scope, "[data-q=hai_long]")
    if rating:
        rating_row.locator(f"input[value='{rating}']").check()
    _next_until(scope, "button:has-text('Gửi phiếu')")


def stored(code: str) -> Any:
    from chalicelib import wiring

    response = wiring.responses().get(code)
    assert response is not None, code
    return response


def received(live_stack: Any, survey_id: str) -> int:
    live_stack.drain()
    with urllib.request.urlopen(f"{live_stack.api_url}/surveys/{survey_id}/results?include_flagged=1") as answer:
        counts = json.loads(answer.read())["counts"]
    return sum(counts.values())


def receipt(scope: Any) -> str:
    code = scope.locator(".receipt .code strong")
    expect(code).to_be_visible(timeout=20000)
    return code.inner_text().strip()


def test_the_counters_poster_carries_the_qr_code_citizens_scan(browser, live_stack, published, page_errors):
    from pypdf import PdfReader

    from chalicelib.api.session import SESSION_COOKIE

    ensure_counter()
    # GIVEN Hà Nội's administrator prints the counter's A4 poster in the console
    context = browser.new_context(locale="vi-VN")
    host = re.sub(r"^https?://", "", live_stack.api_url).split(":")[0]
    cookie = live_stack.idp.issue("quantri.hanoi")
    context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "domain": host, "path": "/"}])
    page = context.new_page()
    page.goto(f"{live_stack.api_url}/admin/agencies/P01/channels")
    poster = page.locator(f"a[href*='/posters/{published}/{COUNTER['code']}']")
    expect(poster).to_have_count(1)
    answer = page.request.get(live_stack.api_url + str(poster.get_attribute("href")))
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    import io

    text = PdfReader(io.BytesIO(answer.body())).pages[0].extract_text()
    assert "Khảo sát dịch vụ công trực tuyến Hà Nội" in text and COUNTER["name"] in text
    context.close()

    # WHEN a citizen scans the counter's QR code and answers on a phone
    target = scan(f"{live_stack.api_url}/s/{published}/qr.png?agency=P01&location={COUNTER['code']}")
    assert target.endswith(f"/s/{published}?agency=P01&location={COUNTER['code']}&via=qr")
    before = received(live_stack, published)
    phone = open_page(browser, target, page_errors, **PHONE)
    complete(phone)
    phone.locator("button:has-text('Gửi phiếu')").click()
    code = receipt(phone)

    # THEN the response is the QR channel's, at that counter, for version 1
    response = stored(code)
    assert (response.channel, response.agency, response.location) == ("qr", "P01", COUNTER["code"])
    assert response.survey_version == 1 and response.answers["xa"] == "00004" and response.answers["hai_long"] == "4"
    assert received(live_stack, published) == before + 1
    assert page_errors == []


def test_a_shared_link_answered_with_the_network_cut_arrives_once(browser, live_stack, published, page_errors):
    before = received(live_stack, published)
    # GIVEN the link a friend shared in Zalo (the page's share block gives it)
    phone = open_page(browser, f"{live_stack.api_url}/s/{published}?agency=P01&via=link", page_errors, **PHONE)
    expect(phone.locator('meta[property="og:title"]')).to_have_count(1)
    complete(phone, rating="5")
    # WHEN the network drops as the citizen sends
    phone.context.set_offline(True)
    phone.locator("button:has-text('Gửi phiếu')").click()
    expect(phone.locator("#status")).to_contain_text("sẽ tự gửi khi có mạng")
    # THEN it is kept, and sent once the network returns: one receipt, one response
    phone.context.set_offline(False)
    code = receipt(phone)
    response = stored(code)
    assert (response.channel, response.agency, response.location) == ("link", "P01", None)
    assert response.answers["hai_long"] == "5"
    phone.reload()  # the queue is empty: a reload sends nothing again
    assert received(live_stack, published) == before + 1
    assert [e for e in page_errors if "ERR_INTERNET_DISCONNECTED" not in e] == []


def test_the_agencys_widget_on_another_origin_is_attributed(browser, live_stack, published, portal, page_errors):
    before = received(live_stack, published)
    # GIVEN Hà Nội's counter tablet (another origin) with the survey's prompt
    page = open_page(browser, f"{portal.origin}/quay-3", page_errors, viewport={"width": 360, "height": 740})
    group = page.get_by_role("radiogroup", name=re.compile("hài lòng thế nào với dịch vụ hôm nay"))
    # WHEN the citizen taps "Hài lòng" and completes the form in the dialog
    group.get_by_role("radio", name="Hài lòng", exact=True).click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    form = page.frame_locator("div[data-par-mode=prompt] dialog iframe")
    form.locator("form#survey").wait_for(state="attached", timeout=15000)
    complete(form, rating=None)  # the quick answer filled the rating
    form.locator("button:has-text('Gửi phiếu')").click()
    code = receipt(form)
    # THEN the response is the widget's, at counter 3, with the prompt's answer
    response = stored(code)
    assert (response.channel, response.agency, response.location) == ("widget", "P01", LOCATIONS[1]["code"])
    assert response.answers["hai_long"] == "4"
    assert received(live_stack, published) == before + 1
