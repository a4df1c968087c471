"""End to end in Chromium: an agency's web site embeds the survey widget (and a stranger's cannot);
officials sign in through the identity provider's page and use the console as their role allows."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.demo_site import DemoSite
from tests.e2e.conftest import open_page

pytestmark = pytest.mark.e2e
INLINE = "div[data-par-survey]:not([data-par-mode]) iframe"  # the demo's inline widget (in its shadow root)


@pytest.fixture(scope="module")
def agency_site(live_stack: Any) -> Iterator[DemoSite]:
    """The province portal of `make run` (infra/local/demo_site.py): a page with the embed snippet."""
    site = DemoSite(live_stack.api_url)
    yield site
    site.stop()


def _api(live_stack: Any, method: str, path: str, username: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Authorization": f"Bearer {live_stack.idp.issue(username)}"}
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"{live_stack.api_url}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def test_only_the_agencys_registered_origins_can_frame_its_widget(browser, live_stack, agency_site, page_errors):
    status, current = _api(live_stack, "GET", "/admin/api/agencies/P01/settings", "quantri.hanoi")
    assert status == 200
    allowed = f"http://localhost:{agency_site.port}"
    status, saved = _api(
        live_stack,
        "PUT",
        "/admin/api/agencies/P01/settings",
        "quantri.hanoi",
        {"embed_origins": [allowed], "version": current["version"]},
    )
    assert status == 200, saved
    assert saved["embed_origins"] == [allowed]

    # The registered origin: the widget shows the form and grows to its height (frame.js -> embed.js).
    page = open_page(browser, f"{allowed}/", page_errors)
    frame = page.frame_locator(INLINE)
    frame.locator("form#survey").wait_for(state="visible", timeout=15000)
    # (the form shows one section at a time: the iframe takes the first page's height, more than its 480 px minimum)
    inner = next(f for f in page.frames if "/s/sipas-2026" in f.url).evaluate("document.documentElement.scrollHeight")
    assert inner > 480
    page.wait_for_function(
        "inner => parseInt(document.querySelector('[data-par-survey]:not([data-par-mode])')"
        ".shadowRoot.querySelector('iframe').style.height || '0') === inner",
        arg=inner,
    )
    assert not [e for e in page_errors if "frame-ancestors" in e]
    # Its form carries the server's attribution: the widget of Hà Nội, framed (Referer) by the registered site.
    from chalicelib import wiring

    token = frame.locator("input[name=attribution]").get_attribute("value")
    found = wiring.attribution_signer().verify(token or "", "sipas-2026")
    assert (found.channel, found.agency, found.embed_origin) == ("widget", "P01", allowed)

    # The same page at another origin (127.0.0.1 is not registered): the browser refuses to frame it.
    errors: list[str] = []
    stranger = open_page(browser, f"http://127.0.0.1:{agency_site.port}/", errors)
    stranger.wait_for_timeout(1500)
    widget = [f for f in stranger.frames if "/s/sipas-2026" in f.url]
    assert not any(f.locator("form#survey").count() for f in widget)
    assert any("frame-ancestors" in e for e in errors), errors


def _sign_in(browser: Any, live_stack: Any, username: str) -> Any:
    """Through the console's sign-in redirect and the identity provider's own page, as a person would."""
    user = live_stack.idp.users[username]
    errors: list[str] = []
    page = open_page(browser, f"{live_stack.api_url}/admin", errors)
    page.fill("#u", username)
    page.fill("#p", user.password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_stack.api_url}/admin")
    return page


def test_an_agency_administrator_manages_origins_and_accounts_of_their_agency_only(browser, live_stack):
    page = _sign_in(browser, live_stack, "quantri.hanoi")
    assert "Bảng điều khiển" in page.inner_text("h1")
    nav = page.inner_text("header nav")
    assert "Cơ quan" in nav and "Tài khoản" in nav and "Nhật ký" not in nav

    page.click("header nav >> text=Cơ quan")
    rows = page.locator("tbody tr")
    assert rows.count() == 1 and "Hà Nội" in rows.first.inner_text()  # own agency only
    rows.first.locator("a").click()
    assert "data-par-agency=&quot;P01&quot;" in page.content() or 'data-par-agency="P01"' in page.input_value(
        "textarea[readonly]"
    )
    page.fill("#origins", "https://dichvucong.hanoi.gov.vn\nhttps://dichvucong.hanoi.gov.vn/thu-tuc")
    page.click("button:has-text('Lưu danh sách')")
    assert page.locator("#errsum").is_visible()
    assert "đường dẫn" in page.inner_text("#errsum")  # the refusal says why, in Vietnamese
    assert "/thu-tuc" in page.input_value("#origins")  # and keeps what was typed
    page.fill("#origins", "https://dichvucong.hanoi.gov.vn\nhttps://*.hanoi.gov.vn")
    page.click("button:has-text('Lưu danh sách')")
    assert "Đã lưu thay đổi." in page.inner_text("main")
    assert "https://*.hanoi.gov.vn" in page.inner_text("main")

    page.goto(f"{live_stack.api_url}/admin/agencies/P46")
    assert page.locator("h1").inner_text().startswith("403") or "không có quyền" in page.inner_text("main")

    page.goto(f"{live_stack.api_url}/admin/agencies/P01/users")
    page.fill("#username", "e2e.canbo")
    page.fill("#name", "Cán bộ Thử nghiệm")
    page.fill("#email", "e2e.canbo@hanoi.gov.vn")
    assert page.locator("input[value=reviewer]").count() == 0  # national-only roles are not offered
    page.check("input[value=answerer]")
    page.click("button:has-text('Tạo tài khoản')")
    assert page.locator(".pd code").count(), page.inner_text("main")
    password = page.inner_text(".pd code")
    assert len(password) >= 12

    # The new official signs in with the temporary password and sees the console as an answerer.
    fresh = open_page(browser, f"{live_stack.api_url}/admin", [])
    fresh.fill("#u", "e2e.canbo")
    fresh.fill("#p", password)
    fresh.click("button[type=submit]")
    fresh.wait_for_url(f"{live_stack.api_url}/admin")
    assert "Cán bộ trả lời hỏi đáp — P01" in fresh.inner_text("main")
    assert "không gồm quyền xem số liệu" in fresh.inner_text("main")  # an answerer has no results.read
    assert "Tài khoản" not in fresh.inner_text("header nav")

    # Disabled by the administrator, the account cannot sign in again (same message as a wrong password).
    page.goto(f"{live_stack.api_url}/admin/agencies/P01/users/e2e.canbo")
    page.click("button:has-text('Khóa tài khoản')")
    assert "Đã khóa" in page.inner_text("main")
    fresh.goto(f"{live_stack.api_url}/admin")  # the session opened before is over at once
    assert fresh.url.startswith(live_stack.idp.issuer)
    again = open_page(browser, f"{live_stack.api_url}/admin", [])
    again.fill("#u", "e2e.canbo")
    again.fill("#p", password)
    again.click("button[type=submit]")
    assert "Đăng nhập không thành công" in again.inner_text("main")

    # Every change is in the audit log, with who did it.
    status, log = _api(live_stack, "GET", "/admin/api/audit?limit=500", "admin")
    assert status == 200
    mine = [(e["action"], e["target_id"]) for e in log["entries"] if e["actor"]["name"] == "Quản trị Hà Nội"]
    assert ("agency.embed_origins", "P01") in mine
    assert ("user.create", "e2e.canbo") in mine
    assert ("user.disable", "e2e.canbo") in mine
