"""End to end: a citizen answers the SIPAS form in a real headless browser, with and without JavaScript.

With JavaScript the form is one section per page (Back/Next, "Phần i/n"), keeps the answers in the
browser (a reload resumes) and queues a submission made offline until the network returns; without it
the whole survey is one page and the server drops the answers its conditions make unreachable.
"""

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
QUEUED = "Phiếu đã được lưu trên máy và sẽ tự gửi khi có mạng"
SCREENSHOTS = Path("/tmp")
SEED = Path(__file__).resolve().parents[2] / "infra" / "local" / "seed" / "sipas-2026.xlsx"
PHONE = {"viewport": {"width": 360, "height": 640}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
SMALL = {"viewport": {"width": 320, "height": 640}, "device_scale_factor": 1, "is_mobile": True, "has_touch": True}
CURRENT = ".sec:not([hidden])"


def answer_required(page: Any, scope: str = "", skip: tuple[str, ...] = (), yes: tuple[str, ...] = ()) -> None:
    """Answer every required, shown question under scope the way a citizen would: the 4th or 5th option, alternating;
    the first option ("Có") of the rows named in yes."""
    names: list[str] = page.locator(f"{scope} [data-q][data-r]").evaluate_all(
        "els => els.filter(e => !e.closest('.off')).map(e => e.dataset.q)"
    )
    for n, name in enumerate(names):
        if name in skip:
            continue
        if name == "province":
            if not page.locator("#i-province").input_value():
                page.select_option("#i-province", "01")
            continue
        radios = page.locator(f'input[type=radio][name="{name}"]')
        count = radios.count()
        if count:
            radios.nth(0 if name in yes else min(3 + n % 2, count - 1)).check()
        elif page.locator(f'input[type=checkbox][name="{name}"]').count():
            page.locator(f'input[type=checkbox][name="{name}"]').first.check()
        else:
            page.locator(f'[name="{name}"]').fill("Thủ tục nên được rút gọn hơn.")


def answer_all_pages(page: Any, yes: tuple[str, ...] = ("q8_04",), stop_at: str | None = None) -> list[str]:
    """Page through the form answering what is required; the progress texts seen. Ends on the last page."""
    from playwright.sync_api import expect

    seen = []
    for _ in range(10):
        seen.append(page.locator(".pager .prog").inner_text())
        section = page.locator(CURRENT).get_attribute("data-s")
        if section == stop_at:
            break
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"], section
        answer_required(page, CURRENT, yes=yes)
        if page.get_by_role("button", name="Gửi phiếu").is_visible():
            break
        page.get_by_role("button", name="Tiếp tục").click()
        expect(page.locator(f"{CURRENT} h2")).to_be_focused()
    return seen


def counted(api_url: str) -> int:
    """Screened responses (accepted + flagged) of the survey, nationwide, from the results API."""
    with urllib.request.urlopen(f"{api_url}/surveys/{SURVEY}/results?include_flagged=1", timeout=30) as answer:
        results = json.load(answer)
    counts = results["counts"]
    return int(counts["accepted"]) + int(counts["flagged"])


def stored(api_url: str, receipt: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{api_url}/responses/{receipt}", timeout=30) as answer:
        return dict(json.load(answer))


def sipas() -> Survey:
    from infra.local.seed import load_survey

    return Survey.from_definition(load_survey(SEED))


def post_json(url: str, body: str) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body.encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.load(answer)


def test_citizen_answers_page_by_page_on_a_phone(browser: Any, live_stack: Any, page_errors: list[str]) -> None:
    from playwright.sync_api import expect

    live_stack.drain()
    before = counted(live_stack.api_url)
    page = open_page(browser, f"{live_stack.api_url}/s/{SURVEY}", page_errors, **PHONE)
    expect(page.locator("html")).to_have_class(re.compile(r"\bjs\b"))
    # GIVEN the first page: where the citizen lives, and a progress indicator an assistive technology reads
    expect(page.locator(".pager .prog")).to_have_text("Phần 1/5")
    expect(page.get_by_role("progressbar", name="Phần 1/5")).to_have_attribute("value", "1")
    expect(page.get_by_role("button", name="Gửi phiếu")).to_be_hidden()
    expect(page.get_by_role("button", name="Quay lại")).to_be_hidden()
    expect(page.locator('[data-s="a"]')).to_be_hidden()

    # WHEN "Tiếp tục" is pressed with the province left out THEN it says so in place, in Vietnamese, and stays
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.locator("#e-province")).to_have_text("Vui lòng chọn tỉnh/thành phố nơi Ông/Bà đang sinh sống.")
    expect(page.locator("#i-province")).to_be_focused()
    expect(page.locator("#i-province")).to_have_attribute("aria-invalid", "true")
    expect(page.locator(".pager .prog")).to_have_text("Phần 1/5")

    # WHEN a province is chosen and a commune picked from the list loaded for it
    page.select_option("#i-province", "01")
    expect(page.locator('#i-commune option[value="00004"]')).to_have_count(1)
    page.select_option("#i-commune", "00004")
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.locator("#s-a")).to_be_focused()
    expect(page.locator(".pager .prog")).to_have_text("Phần 2/5")
    expect(page.locator("#e-province")).to_have_count(0)

    # AND a page with a required question left out cannot be left forward, but can backward
    answer_required(page, CURRENT, skip=("a_age",))
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.locator("#e-a_age")).to_have_text(REQUIRED)
    expect(page.locator("#i-a_age")).to_be_focused()
    page.get_by_role("button", name="Quay lại").click()
    expect(page.locator("#s-loc")).to_be_focused()
    page.get_by_role("button", name="Tiếp tục").click()
    seen = answer_all_pages(page)
    assert seen == ["Phần 2/5", "Phần 3/5", "Phần 4/5", "Phần 5/5"]
    page.screenshot(path=str(SCREENSHOTS / "form-paged-phone.png"))
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
    expect(page.locator("#status")).to_contain_text(QUEUED)
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
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('survey.draft'))") == []
    assert page.evaluate("JSON.parse(localStorage.getItem('survey.queue'))") == []

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


def test_a_reload_or_a_closed_tab_resumes_the_answers(browser: Any, live_stack: Any, page_errors: list[str]) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(locale="vi-VN", **PHONE)
    page = context.new_page()
    page.goto(f"{live_stack.api_url}/s/{SURVEY}")
    response_id = page.locator('input[name="id"]').input_value()
    # GIVEN a citizen on the third page with some answers given
    page.select_option("#i-province", "01")
    page.select_option("#i-commune", "00004")
    answer_all_pages(page, stop_at="b")
    page.locator('input[name="q1_01"][value="2"]').check()
    page.locator('input[name="q2"][value="7"]').check()
    page.locator("#i-q2__other").fill("Loa của tổ dân phố")
    # WHEN the page is reloaded THEN the same page shows with every answer, and the same response id
    page.reload()
    expect(page.locator(".pager .prog")).to_have_text("Phần 3/5")
    expect(page.locator('input[name="q1_01"][value="2"]')).to_be_checked()
    expect(page.locator('input[name="q2"][value="7"]')).to_be_checked()
    expect(page.locator("#i-q2__other")).to_have_value("Loa của tổ dân phố")
    expect(page.locator('input[name="id"]')).to_have_value(response_id)
    # AND when the tab is closed and the form opened again, the commune list of the chosen province is back too
    page.close()
    again = context.new_page()
    again.goto(f"{live_stack.api_url}/s/{SURVEY}")
    expect(again.locator('input[name="q1_01"][value="2"]')).to_be_checked()
    again.get_by_role("button", name="Quay lại").click()
    again.get_by_role("button", name="Quay lại").click()
    expect(again.locator("#i-province")).to_have_value("01")
    expect(again.locator("#i-commune")).to_have_value("00004")
    expect(again.locator('input[name="id"]')).to_have_value(response_id)
    context.close()


def test_a_submission_made_offline_arrives_once_when_the_network_returns(
    browser: Any, live_stack: Any, page_errors: list[str]
) -> None:
    from playwright.sync_api import expect

    live_stack.drain()
    before = counted(live_stack.api_url)
    context = browser.new_context(locale="vi-VN", **PHONE)
    page = context.new_page()
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.goto(f"{live_stack.api_url}/s/{SURVEY}")
    answer_all_pages(page)
    response_id = page.locator('input[name="id"]').input_value()

    # GIVEN the network cut WHEN the form is sent THEN it is kept on the device, and the citizen is told so
    context.set_offline(True)
    page.get_by_role("button", name="Gửi phiếu").click()
    expect(page.locator("#status")).to_contain_text(QUEUED)
    expect(page.get_by_role("button", name="Thử lại")).to_be_visible()
    queue = page.evaluate("JSON.parse(localStorage.getItem('survey.queue'))")
    assert [job["body"]["id"] for job in queue] == [response_id]
    # AND a press of "Thử lại" while still offline changes nothing
    page.get_by_role("button", name="Thử lại").click()
    expect(page.locator("#status")).to_contain_text(QUEUED)

    # WHEN the network returns THEN the queued body is sent by itself and the receipt replaces the form
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.post_data or "") if r.url.endswith("/responses") else None)
    context.set_offline(False)
    expect(page.locator(".receipt .code strong")).to_have_text(response_id)
    assert len(sent) == 1
    assert json.loads(sent[0])["id"] == response_id

    # AND opening the form again sends nothing more: the queue is empty; the response was stored once
    page.goto(f"{live_stack.api_url}/s/{SURVEY}")
    expect(page.locator(".pager .prog")).to_have_text("Phần 1/5")
    assert page.evaluate("JSON.parse(localStorage.getItem('survey.queue'))") == []
    assert page.locator('input[name="id"]').input_value() != response_id
    assert len(sent) == 1
    assert stored(live_stack.api_url, response_id)["receipt"] == response_id
    live_stack.drain()
    assert counted(live_stack.api_url) == before + 1
    context.close()
    assert page_errors == []


def test_a_queued_submission_is_sent_on_the_next_load(browser: Any, live_stack: Any, page_errors: list[str]) -> None:
    from playwright.sync_api import expect

    live_stack.drain()
    before = counted(live_stack.api_url)
    context = browser.new_context(locale="vi-VN", **PHONE)
    page = context.new_page()
    page.goto(f"{live_stack.api_url}/s/{SURVEY}")
    answer_all_pages(page)
    response_id = page.locator('input[name="id"]').input_value()
    # GIVEN a submission queued offline and the tab closed before the network returned
    context.set_offline(True)
    page.get_by_role("button", name="Gửi phiếu").click()
    expect(page.locator("#status")).to_contain_text(QUEUED)
    page.close()
    context.set_offline(False)
    # WHEN the citizen opens the form again THEN the queued body is sent and its receipt shown
    again = context.new_page()
    again.goto(f"{live_stack.api_url}/s/{SURVEY}")
    expect(again.locator(".receipt .code strong")).to_have_text(response_id)
    assert again.evaluate("JSON.parse(localStorage.getItem('survey.queue'))") == []
    live_stack.drain()
    assert counted(live_stack.api_url) == before + 1
    context.close()


def test_conditions_from_the_logic_block_hide_require_check_and_skip(
    browser: Any, live_stack: Any, page_errors: list[str]
) -> None:
    """form.js's JSON Schema evaluator against conditions written by hand (whatever the survey core emits)."""
    from playwright.sync_api import expect

    yes = {"required": ["q8_04"], "properties": {"q8_04": {"const": "1"}}}
    man = {"required": ["a_sex"], "properties": {"a_sex": {"const": "1"}}}
    not_woman = {"not": {"required": ["a_sex"], "properties": {"a_sex": {"const": "2"}}}}
    some_yes = {"anyOf": [yes, {"required": ["q8_05"], "properties": {"q8_05": {"enum": ["1"]}}}]}
    logic = {  # the shape of Survey.client_logic(): conditions per section and per item (question or row)
        "sections": {"d": not_woman},
        "items": {
            **{f"q9_{n}": {"r": yes} for n in range(15, 34)},
            "q3": {"q": {"required": ["q2"], "properties": {"q2": {"contains": {"const": "3"}}}}},
            "q10_other": {
                "r": {"allOf": [not_woman, some_yes]},
                "c": {"properties": {"q10_other": {"minLength": 5, "pattern": "^[^0-9]*$"}}},
                "m": {"vi": "Vui lòng viết ít nhất 5 chữ, không có chữ số.", "en": "5 letters, no digits"},
            },
            "a_age": {"f": [[man, ["1"]], [{}, ["2", "3", "4", "5"]]]},
        },
    }
    block = f'<script type="application/json" id="logic">{json.dumps(logic)}</script>'

    def with_logic(route: Any) -> None:
        fresh = route.fetch()
        html = re.sub(r'<script type="application/json" id="logic">.*?</script>', "", fresh.text(), flags=re.DOTALL)
        route.fulfill(response=fresh, body=html.replace("<template", block + "<template", 1))

    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.route(f"**/s/{SURVEY}", with_logic)
    page.goto(f"{live_stack.api_url}/s/{SURVEY}")
    answer_all_pages(page, stop_at="a")
    # A choice filter: the first age band is offered only to men
    page.locator('input[name="a_sex"][value="2"]').check()
    expect(page.locator('input[name="a_age"][value="1"]')).to_be_hidden()
    expect(page.locator('input[name="a_age"][value="1"]')).to_be_disabled()
    page.locator('input[name="a_sex"][value="1"]').check()
    expect(page.locator('input[name="a_age"][value="1"]')).to_be_visible()
    # Section d is skipped for women: 4 pages
    page.locator('input[name="a_sex"][value="2"]').check()
    answer_required(page, CURRENT)
    expect(page.locator(".pager .prog")).to_have_text("Phần 2/4")
    page.get_by_role("button", name="Tiếp tục").click()
    # q3 becomes required when q2 includes option 3
    page.locator('input[name="q2"][value="3"]').check()
    answer_required(page, CURRENT, skip=("q3",))
    expect(page.locator('[data-q="q3"]')).to_have_attribute("data-r", "")
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.locator("#e-q3")).to_have_text(REQUIRED)
    page.locator('input[name="q3"]').first.check()
    # q8_04 "no": Part II of Q9 is hidden and disabled (not sent, not required)
    page.locator('input[name="q8_04"][value="2"]').check()
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.locator('[data-g="q9_service"]')).to_be_hidden()
    expect(page.locator('input[name="q9_15"]').first).to_be_disabled()
    answer_required(page, CURRENT)
    expect(page.locator(".pager .prog")).to_have_text("Phần 4/4")
    expect(page.get_by_role("button", name="Gửi phiếu")).to_be_visible()
    names = page.evaluate("[...new FormData(document.getElementById('survey')).keys()]")
    assert "q9_15" not in names
    assert "q10_other" not in names  # a hidden question (and its skipped section) is disabled
    # "yes" and a man: Part II is back and required, section d is back with q10_other and its constraint
    page.get_by_role("button", name="Quay lại").click()
    page.locator('input[name="q8_04"][value="1"]').check()
    page.get_by_role("button", name="Quay lại").click()
    page.locator('input[name="a_sex"][value="1"]').check()
    expect(page.locator(".pager .prog")).to_have_text("Phần 2/5")
    page.get_by_role("button", name="Tiếp tục").click()
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.locator('[data-g="q9_service"]')).to_be_visible()
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.locator("#e-q9_15")).to_have_text(REQUIRED)
    expect(page.locator("#i-q9_15")).to_be_focused()
    answer_required(page, CURRENT)
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.locator('[data-q="q10_other"]')).to_be_visible()
    page.locator("#i-q10_other").fill("Số 1")
    page.get_by_role("button", name="Gửi phiếu").click()
    expect(page.locator("#e-q10_other")).to_have_text("Vui lòng viết ít nhất 5 chữ, không có chữ số.")
    expect(page.locator("#i-q10_other")).to_be_focused()
    assert page_errors == []
    context.close()


def test_skip_logic_of_the_sipas_form(browser: Any, live_stack: Any, page_errors: list[str]) -> None:
    """q8_04 "no" hides Part II of Q9 and the submission is accepted without it; "yes" makes it required."""
    from playwright.sync_api import expect

    context = browser.new_context(locale="vi-VN", **PHONE)
    page = context.new_page()
    page.goto(f"{live_stack.api_url}/s/{SURVEY}")
    answer_all_pages(page, stop_at="c")
    page.get_by_role("button", name="Quay lại").click()
    page.locator('input[name="q8_04"][value="1"]').check()
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.locator('[data-g="q9_service"]')).to_be_visible()
    answer_required(page, CURRENT, skip=("q9_20",))
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.locator("#e-q9_20")).to_have_text(REQUIRED)
    page.get_by_role("button", name="Quay lại").click()
    page.locator('input[name="q8_04"][value="2"]').check()
    page.get_by_role("button", name="Tiếp tục").click()
    expect(page.locator('[data-g="q9_service"]')).to_be_hidden()
    answer_all_pages(page)
    response_id = page.locator('input[name="id"]').input_value()
    with page.expect_response(lambda r: r.url.endswith("/responses")) as answer:
        page.get_by_role("button", name="Gửi phiếu").click()
    assert answer.value.status == 201
    expect(page.locator(".receipt .code strong")).to_have_text(response_id)
    answers = stored(live_stack.api_url, response_id)["answers"]
    assert answers["q8_04"] == "2"
    assert "q9_15" not in answers
    context.close()


def test_citizen_answers_without_javascript(browser: Any, live_stack: Any, page_errors: list[str]) -> None:
    from playwright.sync_api import expect

    page = open_page(browser, f"{live_stack.api_url}/s/{SURVEY}", page_errors, java_script_enabled=False, **SMALL)
    expect(page.locator("html")).not_to_have_class(re.compile(r"\bjs\b"))
    response_id = page.locator('input[name="id"]').get_attribute("value")
    assert response_id
    assert ULID.match(response_id)
    expect(page.locator("#i-commune option")).to_have_count(1)  # only "— Không chọn —" without JavaScript
    # The whole survey on one page, fitting a 320 px screen
    expect(page.locator(".sec")).to_have_count(5)
    expect(page.locator('[data-s="d"]')).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    page.screenshot(path=str(SCREENSHOTS / "form-nojs-320.png"), full_page=True)

    # GIVEN one required question left out WHEN the form is posted THEN the server lists it and keeps the rest
    answer_required(page, skip=("q9_05",), yes=("q8_04",))
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
    # "no" to q8_04 while Part II stays answered: the server drops those answers
    page.locator('input[name="q8_04"][value="2"]').check()
    page.get_by_role("button", name="Gửi phiếu").click()
    page.wait_for_load_state()
    expect(page.locator(".receipt .code strong")).to_have_text(response_id)
    expect(page.locator("h1")).to_contain_text("Cảm ơn Ông/Bà")
    assert page_errors == []
    answers = stored(live_stack.api_url, response_id)["answers"]
    assert "q9_15" not in answers
    assert answers["q9_01"]


def test_form_is_usable_on_a_small_phone(browser: Any, live_stack: Any, page_errors: list[str]) -> None:
    from playwright.sync_api import expect

    page = open_page(browser, f"{live_stack.api_url}/s/{SURVEY}", page_errors, **SMALL)
    answer_all_pages(page, stop_at="c")
    page.screenshot(path=str(SCREENSHOTS / "form-mobile.png"))
    # No horizontal scrolling, even in the 5-point matrices; each option is a thumb-sized target.
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
    option = page.locator('input[name="q9_01"][value="4"]').locator("xpath=..")
    box = option.bounding_box()
    assert box
    assert box["height"] >= 44
    assert box["width"] >= 44
    expect(option).to_contain_text("Hài lòng")  # the column header's words sit on each option on a phone
    for name in ("Tiếp tục", "Quay lại"):
        button = page.get_by_role("button", name=name).bounding_box()
        assert button
        assert button["height"] >= 44
    page.locator('input[name="q9_01"][value="4"]').check()
    page.screenshot(path=str(SCREENSHOTS / "form-mobile-matrix.png"))
    assert page_errors == []


@pytest.mark.parametrize("viewport", [{"width": 320, "height": 640}, {"width": 1366, "height": 768}])
def test_every_page_of_the_paged_form_passes_axe(browser: Any, live_stack: Any, viewport: dict[str, int]) -> None:
    """axe-core (WCAG 2.1 A/AA, serious and critical) on each page of the form, with errors shown on one of them."""
    from tests.e2e.test_accessibility import _problems

    page = browser.new_context(locale="vi-VN", viewport=viewport).new_page()
    page.goto(f"{live_stack.api_url}/s/{SURVEY}")
    page.get_by_role("button", name="Tiếp tục").click()  # the province left out: inline error and summary
    failures = {"loc (errors)": _problems(page)}
    for _ in range(6):
        section = page.locator(CURRENT).get_attribute("data-s")
        failures[section] = _problems(page)
        answer_required(page, CURRENT)
        if page.get_by_role("button", name="Gửi phiếu").is_visible():
            break
        page.get_by_role("button", name="Tiếp tục").click()
    assert section == "d"
    page.context.close()
    assert not {k: v for k, v in failures.items() if v}, failures
