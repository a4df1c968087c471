"""End to end in Chromium: two clerks key the same paper form with the keyboard only (codes as printed, Enter to
move on), the screen checks codes and ranges as they type and skips what the answers skip; the second, equal
entry creates the response."""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import open_page
from tests.integration.test_paper import SURVEY, ensure_paper_survey

pytestmark = pytest.mark.e2e


def _sign_in(browser: Any, live_stack: Any, username: str, errors: list[str]) -> Any:
    """Signed in on the console; script errors from then on are collected (the identity provider's are not ours)."""
    page = open_page(browser, f"{live_stack.api_url}/admin", [])
    page.fill("#u", username)
    page.fill("#p", live_stack.idp.users[username].password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_stack.api_url}/admin")
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    return page


def _key_form(page: Any, number: str) -> None:
    """Form 5 as printed: c1 = 3, c2 = 45, c3 = 2 (Không: c4 is skipped), c5 = a comment; keyboard only."""
    keys = page.keyboard
    expect(page.locator("#form_number")).to_be_focused()
    keys.type(number)
    keys.press("Enter")
    expect(page.locator("#a-c1")).to_be_focused()
    keys.type("7")  # not a printed code
    expect(page.locator("#e-c1")).to_have_text("Mã không có trên phiếu: 7")
    keys.press("Backspace")
    keys.type("3")
    expect(page.locator("#e-c1")).to_have_text("")
    keys.press("Enter")
    keys.type("15")  # below the printed range
    expect(page.locator("#e-c2")).to_contain_text("từ 18")
    keys.press("Control+a")
    keys.type("45")
    keys.press("Enter")
    expect(page.locator("#a-c3")).to_be_focused()
    keys.type("2")
    keys.press("Enter")
    expect(page.locator("#a-c4")).to_be_disabled()  # "Số tiền" only when a fee was paid
    expect(page.locator("#a-c5")).to_be_focused()
    keys.type("Cán bộ nhiệt tình")
    keys.press("Enter")  # the last box: save


def test_two_clerks_key_a_paper_form_with_the_keyboard_only(browser, live_stack, page_errors):
    ensure_paper_survey()
    batch = "E" + secrets.token_hex(3).upper()
    first = _sign_in(browser, live_stack, "nhaplieu.hanoi", page_errors)
    first.click("nav >> text=Phiếu giấy")
    first.wait_for_url(f"{live_stack.api_url}/admin/paper/P01")
    first.fill("#batch", batch)
    first.select_option("#survey", f"{SURVEY}:1")
    first.click("form.stack button[type=submit]")
    first.wait_for_url(f"**/admin/paper/P01/batches/{batch}")

    _key_form(first, "5")
    expect(first.locator("[role=status].intro")).to_contain_text("Đã lưu phiếu số 5 (lần nhập 1)")
    expect(first.locator("tr[data-form='5']")).to_contain_text("Chờ nhập lần 2")
    expect(first.locator("#form_number")).to_be_focused()  # ready for the next form

    second = _sign_in(browser, live_stack, "nhaplieu2.hanoi", page_errors)
    second.goto(f"{live_stack.api_url}/admin/paper/P01/batches/{batch}")
    _key_form(second, "5")
    expect(second.locator("[role=status].intro")).to_contain_text("hai lần nhập khớp nhau")
    expect(second.locator("tr[data-form='5']")).to_contain_text("Khớp — đã tạo phiếu")
    assert not page_errors, page_errors


def test_the_entry_and_resolve_screens_pass_axe_and_a_third_clerk_resolves_by_keyboard(
    browser, live_stack, page_errors
):
    from chalicelib.api.session import SESSION_COOKIE
    from tests.e2e.test_accessibility import _problems
    from tests.integration.test_authoring import call
    from tests.shared.paper_forms import good_answers

    ensure_paper_survey()
    batch = "R" + secrets.token_hex(3).upper()
    api = f"/admin/api/paper/P01/batches/{batch}"
    status, _, _ = call(
        live_stack,
        "POST",
        "/admin/api/paper/P01/batches",
        "nhaplieu.hanoi",
        {"batch": batch, "survey_id": SURVEY, "survey_version": 1},
    )
    assert status == 201
    call(live_stack, "POST", f"{api}/forms", "nhaplieu.hanoi", {"form_number": "3", "answers": good_answers(3)})
    call(
        live_stack,
        "POST",
        f"{api}/forms",
        "nhaplieu2.hanoi",
        {"form_number": "3", "answers": {**good_answers(3), "c2": "32"}},
    )

    context = browser.new_context(locale="vi-VN", viewport={"width": 768, "height": 1024})
    host = live_stack.api_url.split("//")[1].split(":")[0]
    cookie = live_stack.idp.issue("nhaplieu3.hanoi")
    context.add_cookies([{"name": SESSION_COOKIE, "value": cookie, "domain": host, "path": "/admin"}])
    page = context.new_page()
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    base = f"{live_stack.api_url}/admin/paper/P01/batches/{batch}"
    failures = {}
    for path in ("/admin/paper/P01", f"/admin/paper/P01/batches/{batch}", f"/admin/paper/P01/batches/{batch}/forms/3"):
        answer = page.goto(f"{live_stack.api_url}{path}")
        assert answer is not None and answer.status == 200, path
        found = _problems(page)
        if found:
            failures[path] = found
    assert not failures, failures

    expect(page.locator("#side-by-side tr.diff")).to_contain_text("23")  # entry 1's age beside entry 2's 32
    expect(page.locator("#a-c2")).to_be_focused()  # the agreed answers are filled in; the differing one waits
    page.keyboard.type("23")
    page.keyboard.press("Control+Enter")
    page.wait_for_url(f"{base}?saved=3&state=resolved")
    expect(page.locator("tr[data-form='3']")).to_contain_text("Đã đối chiếu")
    context.close()
    assert not page_errors, page_errors
