"""End to end: a citizen answers the SIPAS form in a real headless browser, with and without JavaScript."""

from __future__ import annotations

import json
import re
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import pytest

from chalicelib.domain.survey import Survey
from chalicelib.web.forms import form_to_submission
from tests.e2e.conftest import open_page

pytestmark = pytest.mark.e2e

SURVEY = "sipas-2026"
ULID = re.compile(r"^[0-7][0-9A-HJKMNP-TV-Z]{25}$")
REQUIRED = "Vui lòng trả lời câu hỏi bắt buộc này."
SCREENSHOTS = Path("/tmp")
SEED = Path(__file__).resolve().parents[2] / "infra" / "local" / "seed" / "sipas-2026.xlsx"


def answer_required(page: Any, skip: tuple[str, ...] = ()) -> None:
    """Answer every required question the way a citizen would: the 4th or 5th option of each scale, alternating."""
    names: list[str] = page.locator("[data-q][data-r]").evaluate_all("els => els.map(e => e.dataset.q)")
    for n, name in enumerate(names):
        if name in skip or name == "province":
            continue
        radios = page.locator(f'input[type=radio][name="{name}"]')
        count = radios.count()
        if count:
            radios.nth(min(3 + n % 2, count - 1)).check()
        elif page.locator(f'input[type=checkbox][name="{name}"]').count():
            page.locator(f'input[type=checkbox][name="{name}"]').first.check()
        else:
            page.locator(f'[name="{name}"]').fill("Thủ tục nên được rút gọn hơn.")


def counted(api_url: str) -> int:
    """Screened responses (accepted + flagged) of the survey, nationwide, from the results API."""
    with urllib.request.urlopen(f"{api_url}/surveys/{SURVEY}/results?include_flagged=1", timeout=30) as answer:
        results = json.load(answer)
    counts = results["counts"]
    return int(counts["accepted"]) + int(counts["flagged"])


def sipas() -> Survey:
    from infra.local.seed import load_survey

    return Survey.from_definition(load_survey(SEED))


def post_json(url: str, body: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body.encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.load(answer)


def test_citizen_answers_with_javascript(browser: Any, live_stack: Any, page_errors: list[str]) -> None:
    from playwright.sync_api import expect

    live_stack.drain()
    before = counted(live_stack.api_url)
    page = open_page(browser, f"{live_stack.api_url}/s/{SURVEY}", page_errors, viewport={"width": 1280, "height": 900})
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
    expect(page.get_by_role("button", name="Thử lại")).to_be_hidden()

    # GIVEN an empty form WHEN it is sent THEN the browser lists what is missing, in Vietnamese, and nothing is posted.
    page.get_by_role("button", name="Gửi phiếu").click()
    summary = page.locator("#errsum")
    expect(summary).to_be_visible()
    expect(summary).to_contain_text("Vui lòng chọn tỉnh/thành phố")
    expect(summary).to_contain_text(REQUIRED)
    expect(page.locator("#i-province")).to_be_focused()
    expect(page.locator("#i-q9_01")).to_have_attribute("aria-invalid", "true")

    # WHEN every required question is answered, a province chosen and a commune picked from the loaded list
    answer_required(page)
    page.select_option("#i-province", "01")
    expect(page.locator('#i-commune option[value="00004"]')).to_have_count(1)
    page.select_option("#i-commune", "00004")

    assert page_errors == []

    # The browser builds the very body the server builds from the same form without JavaScript.
    posted = page.evaluate("new URLSearchParams(new FormData(document.getElementById('survey'))).toString()")
    server_body = form_to_submission(sipas(), parse_qs(posted, keep_blank_values=True))

    # AND the first attempt fails on the network
    bodies: list[str] = []
    page.on("request", lambda r: bodies.append(r.post_data or "") if r.url.endswith("/responses") else None)
    page.route("**/surveys/*/responses", lambda route: route.abort())
    page.get_by_role("button", name="Gửi phiếu").click()
    expect(page.get_by_role("button", name="Thử lại")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("vẫn được giữ nguyên")
    expect(summary).to_be_hidden()
    page_errors.remove("Failed to load resource: net::ERR_FAILED")  # the aborted request, nothing else

    # THEN "Thử lại" sends the very same body, and the citizen gets a receipt in place of the form
    page.unroute("**/surveys/*/responses")
    with page.expect_response(lambda r: r.url.endswith("/responses")) as answer:
        page.get_by_role("button", name="Thử lại").click()
    assert answer.value.status == 201
    assert len(bodies) == 2
    assert bodies[0] == bodies[1]
    code = page.locator(".receipt .code strong").inner_text().strip()
    assert ULID.match(code)
    expect(page.locator("form#survey")).to_have_count(0)
    expect(page.locator(".receipt")).to_contain_text("lưu lại mã phiếu")

    body = json.loads(bodies[1])
    assert body["id"] == code
    assert (body["channel"], body["province"], body["commune"], body["survey_version"]) == ("web", "01", "00004", 1)
    assert body["paradata"]["client"] == "form-html/1"
    assert set(body["paradata"]["page_ms"]) <= {"loc", "a", "b", "c", "d"}
    assert "website" not in body
    browser_paradata, server_paradata = body.pop("paradata"), server_body.pop("paradata")
    assert body == server_body
    assert browser_paradata.pop("submitted_at") > browser_paradata["started_at"]
    assert browser_paradata.pop("page_ms")
    assert browser_paradata == server_paradata
    # A retry of the same body (same id) is answered with the same receipt, and nothing is counted twice.
    status, again = post_json(f"{live_stack.api_url}/surveys/{SURVEY}/responses", bodies[1])
    assert (status, again["receipt"]) == (200, code)
    assert page_errors == []

    live_stack.drain()
    assert counted(live_stack.api_url) == before + 1

    # A stale copy of the form (served from a cache) carrying the id already sent gets a fresh id in the browser.
    served: list[str] = []

    def stale(route: Any) -> None:
        fresh = route.fetch()
        served.append(re.sub(r'(name="id" value=")\w{26}', rf"\g<1>{code}", fresh.text()))
        route.fulfill(response=fresh, body=served[-1])

    page.route(f"**/s/{SURVEY}", stale)
    page.goto(f"{live_stack.api_url}/s/{SURVEY}")
    assert f'name="id" value="{code}"' in served[0]
    renewed = page.locator('input[name="id"]').input_value()
    assert ULID.match(renewed)
    assert renewed != code


def test_citizen_answers_without_javascript(browser: Any, live_stack: Any, page_errors: list[str]) -> None:
    from playwright.sync_api import expect

    page = open_page(browser, f"{live_stack.api_url}/s/{SURVEY}", page_errors, java_script_enabled=False)
    expect(page.locator("html")).not_to_have_class(re.compile(r"\bjs\b"))
    response_id = page.locator('input[name="id"]').get_attribute("value")
    assert response_id
    assert ULID.match(response_id)
    expect(page.locator("#i-commune option")).to_have_count(1)  # only "— Không chọn —" without JavaScript

    # GIVEN one required question left out WHEN the form is posted THEN the server lists it and keeps the rest
    answer_required(page, skip=("q9_05",))
    page.select_option("#i-province", "79")
    page.get_by_role("button", name="Gửi phiếu").click()
    page.wait_for_load_state()
    summary = page.locator("#errsum")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("link")).to_have_count(1)
    expect(summary.get_by_role("link")).to_have_attribute("href", "#i-q9_05")
    expect(summary).to_contain_text(REQUIRED)
    expect(page.locator("#e-q9_05")).to_have_text(REQUIRED)
    expect(page.locator("#i-q9_05")).to_have_attribute("aria-invalid", "true")
    expect(page).to_have_title(re.compile(r"^Lỗi: "))
    expect(page.locator('input[name="q9_01"]:checked')).to_have_count(1)
    expect(page.locator('input[name="q9_04"]:checked')).to_have_count(1)
    expect(page.locator('input[name="a_sex"]:checked')).to_have_count(1)
    expect(page.locator("#i-province")).to_have_value("79")
    expect(page.locator('input[name="id"]')).to_have_value(response_id)
    page_errors[:] = [
        e for e in page_errors if not e.startswith("Failed to load resource: the server responded with a status of 4")
    ]

    # WHEN the missing answer is given (and a commune, now listed by the server) THEN the receipt page shows
    page.locator('input[name="q9_05"]').nth(3).check()
    commune = page.locator("#i-commune option").nth(1).get_attribute("value")
    page.select_option("#i-commune", commune)
    page.get_by_role("button", name="Gửi phiếu").click()
    page.wait_for_load_state()
    expect(page.locator(".receipt .code strong")).to_have_text(response_id)
    expect(page.locator("h1")).to_contain_text("Cảm ơn Ông/Bà")
    assert page_errors == []


def test_form_is_usable_on_a_small_phone(browser: Any, live_stack: Any, page_errors: list[str]) -> None:
    from playwright.sync_api import expect

    page = open_page(
        browser,
        f"{live_stack.api_url}/s/{SURVEY}",
        page_errors,
        viewport={"width": 360, "height": 740},
        device_scale_factor=1,
        is_mobile=True,
        has_touch=True,
    )
    page.screenshot(path=str(SCREENSHOTS / "form-mobile.png"))
    # No horizontal scrolling, even in the 5-point matrices; each option is a thumb-sized target.
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    option = page.locator('input[name="q9_01"][value="4"]').locator("xpath=..")
    box = option.bounding_box()
    assert box
    assert box["height"] >= 44
    assert box["width"] >= 44
    expect(option).to_contain_text("Hài lòng")  # the column header's words sit on each option on a phone
    page.locator("#t-q9_policy").scroll_into_view_if_needed()
    page.locator('input[name="q9_01"][value="4"]').check()
    page.screenshot(path=str(SCREENSHOTS / "form-mobile-matrix.png"))
    assert page_errors == []
