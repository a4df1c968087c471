"""End to end in Chromium: an agency's editor uploads an XLSForm in the console, previews it as citizens will
see it, publishes it, and a citizen answers it at /s/<id> and gets a receipt."""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_page
from tests.shared.authoring_forms import adhoc_xlsform

pytestmark = pytest.mark.e2e


def _sign_in(browser: Any, live_stack: Any, username: str) -> Any:
    errors: list[str] = []
    page = open_page(browser, f"{live_stack.api_url}/admin", errors)
    page.fill("#u", username)
    page.fill("#p", live_stack.idp.users[username].password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_stack.api_url}/admin")
    return page


def _reach(page: Any, selector: str) -> Any:
    """The question, paging on ("Tiếp tục") while the form shows one section at a time."""
    target = page.locator(selector)
    for _ in range(10):
        if target.is_visible():
            return target
        page.locator("button:has-text('Tiếp tục'):visible").click()
    return target


def test_an_editor_uploads_previews_and_publishes_and_a_citizen_answers(browser, live_stack, tmp_path, page_errors):
    survey_id = f"p01-dvc-{uuid.uuid4().hex[:6]}"
    workbook = tmp_path / "khao-sat.xlsx"
    workbook.write_bytes(adhoc_xlsform(survey_id, "P01"))

    # GIVEN Hà Nội's editor in the console
    page = _sign_in(browser, live_stack, "bientap.hanoi")
    page.click("main >> text=Soạn, phát hành và quản lý phiên bản khảo sát")
    expect(page.locator("h1")).to_contain_text("Khảo sát")

    # WHEN the XLSForm is uploaded THEN it is a draft of version 1
    page.set_input_files("#xlsform", str(workbook))
    page.click("button:has-text('Tạo bản nháp')")
    page.wait_for_url(f"{live_stack.api_url}/admin/surveys/{survey_id}?saved=1")
    expect(page.locator("#versions-table")).to_contain_text("Nháp")
    assert "Khảo sát dịch vụ công trực tuyến Hà Nội" in page.inner_text("h1")

    # AND the preview is the citizens' form, with its banner and without sending
    page.click("text=Xem trước đúng như người dân sẽ thấy")
    expect(page.locator(".preview-banner")).to_contain_text("Xem trước")
    expect(page.locator("form#survey")).to_be_visible()
    expect(page.locator("button:has-text('Gửi phiếu')")).to_be_disabled()
    expect(page.locator("main")).to_contain_text("Ông/Bà đã dùng dịch vụ công trực tuyến chưa?")
    page.go_back()

    # WHEN it is published
    page.click("#publish-form button:has-text('Phát hành')")
    page.wait_for_url(f"{live_stack.api_url}/admin/surveys/{survey_id}?saved=1")
    expect(page.locator("#versions-table")).to_contain_text("Đã phát hành")

    # THEN a citizen answers it: the commune list follows the province, the rating follows "yes"
    citizen = open_page(browser, f"{live_stack.api_url}/s/{survey_id}", page_errors)
    citizen.select_option("#i-province", "01")
    _reach(citizen, "[data-q=tinh]").locator("input[value='79']").check()
    communes = _reach(citizen, "[data-q=xa]")
    expect(communes.locator("input[value='00004']")).to_be_hidden()  # Ba Đình is in Hà Nội, not in HCMC
    communes.locator("input[value='26734']").check()
    expect(citizen.locator("[data-q=hai_long]")).to_be_hidden()
    _reach(citizen, "[data-q=da_dung]").locator("input[value='co']").check()
    _reach(citizen, "[data-q=hai_long]").locator("input[value='4']").check()
    _reach(citizen, "[data-q=gop_y]").locator("textarea, input").first.fill("Thủ tục nhanh, cán bộ nhiệt tình.")
    _reach(citizen, "button:has-text('Gửi phiếu')").click()
    expect(citizen.locator(".receipt .code strong")).to_be_visible(timeout=15000)
    code = citizen.locator(".receipt .code strong").inner_text().strip()
    assert len(code) == 26

    # AND the response is stored for version 1 with the answers given
    with urllib.request.urlopen(f"{live_stack.api_url}/responses/{code}", timeout=30) as answer:
        mine = json.loads(answer.read())
    assert mine["survey_id"] == survey_id and mine["survey_version"] == 1
    assert mine["answers"]["xa"] == "26734" and mine["answers"]["hai_long"] == "4"
    assert not [e for e in page_errors if "Content Security Policy" in e]
