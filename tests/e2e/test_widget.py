"""End to end in Chromium: the survey widget's prompt mode on an agency's site (another origin than the platform).

The demo portal of `make run` (infra/local/demo_site.py) is served from http://localhost:<port> and registered
for Hà Nội (P01) with its two locations; the platform is http://127.0.0.1:<port>.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.demo_site import LOCATIONS, QUESTION, DemoSite, register
from tests.e2e.conftest import open_page
from tests.e2e.test_accessibility import AXE_OPTIONS
from tests.e2e.test_citizen_form import CURRENT, answer_required

pytestmark = pytest.mark.e2e

PROMPT = "div[data-par-mode=prompt]"
NARROW = {"width": 320, "height": 640}
# The host element (light DOM) and, inside its shadow root, what has focus: "IFRAME", "BUTTON:Đóng", ...
FOCUS = """() => {
  const a = document.activeElement, inner = a && a.shadowRoot ? a.shadowRoot.activeElement : null;
  return inner ? inner.tagName + (inner.tagName === 'BUTTON' ? ':' + inner.textContent : '')
               + (inner.type === 'radio' ? ':' + inner.value : '') : (a ? a.tagName : '');
}"""
OPEN = "() => document.querySelector('div[data-par-mode=prompt]').shadowRoot.querySelector('dialog').open"


@pytest.fixture(scope="module")
def portal(live_stack: Any) -> Iterator[DemoSite]:
    """The demo portal, its origin allowed for P01 and its locations registered (as `make run` does)."""
    site = DemoSite(live_stack.api_url)
    register(site.origin)
    yield site
    site.stop()


def _focus_is(page: Any, expected: str) -> None:
    """Waits until the focus is there (focus moving into or out of a frame of another origin settles a bit later)."""
    try:
        page.wait_for_function(f"expected => ({FOCUS})() === expected", arg=expected, timeout=5000)
    except Exception:
        raise AssertionError(f"focus on {page.evaluate(FOCUS)!r}, expected {expected!r}") from None


def _dialog(page: Any) -> Any:
    return page.get_by_role("dialog", name="Phiếu khảo sát sự hài lòng")


def _form(page: Any) -> Any:
    frame = page.frame_locator(f"{PROMPT} dialog iframe")
    frame.locator("form#survey").wait_for(state="attached", timeout=15000)
    return frame


def test_the_prompt_opens_an_accessible_dialog_with_the_form(browser, live_stack, portal, page_errors):
    from playwright.sync_api import expect

    page = open_page(browser, f"{portal.origin}/quay-3", page_errors, viewport=NARROW)
    group = page.get_by_role("radiogroup", name=re.compile("hài lòng thế nào với dịch vụ hôm nay"))
    expect(group.get_by_role("radio")).to_have_count(5)
    expect(group.get_by_role("radio", name="Rất hài lòng")).to_be_visible()
    expect(page.get_by_role("button", name="Xem lại mã phiếu")).to_be_hidden()  # only once there is a receipt

    # GIVEN the keyboard: arrows move through the five points without opening anything, Enter opens the form.
    group.get_by_role("radio", name="Rất không hài lòng").focus()
    for _ in range(3):
        page.keyboard.press("ArrowRight")
    expect(group.get_by_role("radio", name="Hài lòng", exact=True)).to_be_checked()
    assert page.evaluate(OPEN) is False
    page.keyboard.press("Enter")

    # THEN a modal dialog, labelled, takes the focus; the page behind is inert and does not scroll.
    dialog = _dialog(page)
    expect(dialog).to_be_visible()
    expect(dialog).to_have_attribute("aria-modal", "true")
    _focus_is(page, "BUTTON:Đóng")
    assert page.evaluate("() => document.documentElement.style.overflow") == "hidden"
    page.locator("header a").first.focus()  # an inert link cannot take the focus
    _focus_is(page, "BUTTON:Đóng")
    box = dialog.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= NARROW["width"]  # fits a 320 px phone
    form = _form(page)
    expect(form.locator('input[name="q9_23"][value="4"]')).to_be_checked()  # the quick answer, pre-filled

    # Tab goes into the form; past the form's last control it comes back to the close button (trapped).
    page.keyboard.press("Tab")
    _focus_is(page, "IFRAME")
    last = form.get_by_role("button", name="Tiếp tục")  # the paged form's last control on its first page
    last.focus()
    page.keyboard.press("Tab")
    _focus_is(page, "BUTTON:Đóng")
    # Shift+Tab from the close button goes to the form's last control, not to the page behind.
    page.keyboard.press("Shift+Tab")
    expect(last).to_be_focused()
    _focus_is(page, "IFRAME")

    # Esc inside the form closes the dialog; the focus returns to the chosen point.
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    _focus_is(page, "INPUT:4")
    page.wait_for_function("() => document.documentElement.style.overflow === ''")  # the page scrolls again

    # A click on a point opens the form at once with that answer; Esc on the dialog itself, then the close button.
    group.get_by_text("Rất hài lòng").click()
    expect(dialog).to_be_visible()
    expect(form.locator('input[name="q9_23"][value="5"]')).to_be_checked()
    # the citizen answers otherwise in the form itself (on a later page of it)
    form.locator('input[name="q9_23"][value="2"]').dispatch_event("click")
    _focus_is(page, "BUTTON:Đóng")
    page.keyboard.press("Escape")  # on the close button: the browser's own Esc of a modal dialog
    expect(dialog).to_be_hidden()
    _focus_is(page, "INPUT:5")
    page.wait_for_function("() => document.documentElement.style.overflow === ''")
    page.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    expect(form.locator('input[name="q9_23"][value="2"]')).to_be_checked()  # the prompt does not overwrite it
    dialog.get_by_role("button", name="Đóng").click()
    expect(dialog).to_be_hidden()
    _focus_is(page, "INPUT:5")
    assert not page_errors, page_errors


def test_an_answer_through_the_prompt_is_received_and_attributed(browser, live_stack, portal, page_errors):
    from playwright.sync_api import expect

    from chalicelib import wiring

    context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.on("pageerror", lambda exc: page_errors.append(str(exc)))
    page.goto(f"{portal.origin}/quay-3")
    page.get_by_role("radio", name="Rất hài lòng").click()
    form = _form(page)
    expect(form.locator(f'input[name="{QUESTION}"][value="5"]')).to_be_checked()

    # the form, page by page (a third-party frame here: this Chromium refuses it localStorage, so the form's
    # draft and send queue live in memory, see form.js `store`)
    inside = next(f for f in page.frames if "/s/sipas-2026" in f.url)
    for _ in range(10):
        answer_required(inside, CURRENT, skip=(QUESTION,), yes=("q8_04",))
        if inside.get_by_role("button", name="Gửi phiếu").is_visible():
            break
        inside.get_by_role("button", name="Tiếp tục").click()
    inside.get_by_role("button", name="Gửi phiếu").click()
    receipt = form.locator(".receipt .code strong")
    expect(receipt).to_have_text(re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$"), timeout=15000)

    # The host is told (no code): the prompt thanks the citizen; closing returns the focus to that thanks.
    status = page.locator(f"{PROMPT} [role=status]")
    expect(status).to_have_text("Cảm ơn Ông/Bà đã tham gia khảo sát!")
    expect(page.get_by_role("radio")).to_have_count(0)
    _dialog(page).get_by_role("button", name="Đóng").click()
    expect(status).to_be_focused()
    code = receipt.inner_text()
    page.get_by_role("button", name="Xem lại mã phiếu").click()  # the receipt code again, if it was not noted
    expect(_dialog(page)).to_be_visible()
    expect(receipt).to_have_text(code)
    page.keyboard.press("Escape")
    expect(page.get_by_role("button", name="Xem lại mã phiếu")).to_be_focused()

    # The server recorded where it came from, from its own signed token: the agency, the widget, the counter.
    stored = wiring.responses().get(receipt.inner_text())
    assert stored is not None
    counter = LOCATIONS[1]
    assert (stored.agency, stored.channel, stored.location) == ("P01", "widget", counter["code"])
    assert stored.service == counter["service"]
    assert stored.paradata.get("embed_origin_check") == "registered"  # framed from P01's registered origin
    assert stored.answers[QUESTION] == "5"  # the quick answer went in with the form
    # The loader put nothing on the host's origin.
    assert context.cookies() == []
    assert page.evaluate("() => localStorage.length + sessionStorage.length") == 0
    context.close()


HOSTILE_CSS = """
* { color: red !important; font-size: 40px !important; font-family: monospace !important; line-height: 3 !important }
fieldset, legend, label, button, dialog, iframe, p { border: 7px dotted red !important; background: yellow !important;
  padding: 30px !important; margin: 30px !important; display: block !important; }
input { width: 80px !important; height: 80px !important; }
"""
STYLES = """host => {
  const root = host.shadowRoot, pick = (sel) => {
    const s = getComputedStyle(root.querySelector(sel));
    return [s.color, s.fontSize, s.fontFamily, s.lineHeight, s.borderTopWidth, s.backgroundColor, s.paddingTop,
            s.marginTop, s.display, s.width];
  };
  return { legend: pick('legend'), label: pick('label'), input: pick('input'), button: pick('button.b'),
           fieldset: pick('fieldset') };
}"""
HOST_STYLES = """() => {
  const s = e => { const c = getComputedStyle(e); return [c.fontWeight, c.display, c.fontFamily, c.backgroundColor]; };
  const fs = document.body.appendChild(document.createElement('fieldset'));
  const legend = fs.appendChild(document.createElement('legend')), label = fs.appendChild(document.createElement('label'));
  const out = { legend: s(legend), label: s(label), button: s(document.querySelector('button.site-button')),
                body: s(document.body), sheets: document.styleSheets.length, adopted: document.adoptedStyleSheets.length };
  fs.remove();
  return out;
}"""


def test_host_css_and_widget_css_stay_apart(browser, live_stack, portal, page_errors):
    page = open_page(browser, f"{portal.origin}/", page_errors)
    page.add_init_script("window.__globals = Object.getOwnPropertyNames(window)")
    page.reload()
    prompt = page.locator(PROMPT)
    prompt.get_by_role("radio").first.wait_for()
    before = prompt.evaluate(STYLES)
    assert before["legend"][0] != "rgb(255, 0, 0)" and before["legend"][1] != "40px"

    # The widget's styles do not leak out: the host's own elements look as the host styled them (or the browser).
    host = page.evaluate(HOST_STYLES)
    assert host["legend"][0] == "400" and host["label"][1] == "inline"  # ours are bold / flex
    assert host["button"][3] == "rgb(139, 0, 0)" and "Georgia" in host["body"][2]
    assert host["sheets"] == 1 and host["adopted"] == 0  # the host's one <style>; nothing added to the document
    added = page.evaluate("() => Object.getOwnPropertyNames(window).filter(k => !window.__globals.includes(k))")
    assert sorted(added) == ["ParSurvey", "__globals"]  # one namespaced global

    # The host's CSS does not leak in, even with !important on every element.
    page.add_style_tag(content=HOSTILE_CSS)
    assert page.evaluate("() => getComputedStyle(document.querySelector('h1')).color") == "rgb(255, 0, 0)"
    assert prompt.evaluate(STYLES) == before
    assert not page_errors, page_errors


@pytest.mark.parametrize("viewport", [NARROW, {"width": 1366, "height": 768}], ids=["phone", "laptop"])
def test_axe_passes_on_the_host_page_with_the_prompt_and_the_open_dialog(browser, live_stack, portal, viewport):
    from axe_playwright_python.sync_playwright import Axe

    page = browser.new_context(locale="vi-VN", viewport=viewport).new_page()
    page.goto(f"{portal.origin}/quay-3")
    page.locator(PROMPT).get_by_role("radio").first.wait_for()

    def problems(target: Any, impacts: tuple[str, ...] = ("minor", "moderate", "serious", "critical")) -> list[str]:
        found = Axe().run(target, options=AXE_OPTIONS).response["violations"]
        return [
            f"{v['id']}: {v['help']} {[n['target'] for n in v['nodes']][:3]}" for v in found if v["impact"] in impacts
        ]

    assert problems(page) == []  # the host page with the prompt: no violation at all
    page.get_by_role("radio", name="Bình thường").click()
    _form(page).locator("#i-province").wait_for()
    assert problems(page) == []  # with the dialog open
    # the form inside the dialog at this width: no serious one, as for every citizen page (test_accessibility.py)
    frame = next(f for f in page.frames if "/s/sipas-2026" in f.url)
    assert problems(frame, ("serious", "critical")) == []
    width = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert width[0] <= width[1]
