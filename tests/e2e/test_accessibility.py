"""Accessibility and tablet layout: axe-core (bundled, run in Chromium) on citizens' and officials' pages.

Every page must have no serious or critical axe violation (WCAG 2.1 A/AA rules), at a laptop's width
and a tablet's, and must not scroll sideways on the tablet.
"""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.api.session import SESSION_COOKIE

pytestmark = pytest.mark.e2e

VIEWPORTS = {"laptop": {"width": 1366, "height": 768}, "tablet": {"width": 768, "height": 1024}}
CITIZEN_PAGES = ["/", "/s/sipas-2026", "/s/sipas-2026/results", "/reports", "/s/sipas-2026?embed=1&agency=P01"]
CONSOLE_PAGES = [
    "/admin",
    "/admin/audit",
    "/admin/agencies",
    "/admin/agencies/P01",
    "/admin/agencies/P79",
    "/admin/agencies/P01/users",
    "/admin/agencies/P01/users/traloi.hanoi",
    "/admin/agencies/national/users",
    "/admin/agencies/P01/channels",
    "/admin/surveys",
    "/admin/surveys/sipas-2026",
    "/admin/surveys/sipas-2026/versions/1/preview",
    "/admin/sampling",
    "/admin/fieldwork",
    "/admin/fieldwork?province=01",
    "/admin/fieldwork/risk",
    "/admin/fieldwork/risk?survey_id=sipas-2026&version=1",
    "/admin/coding",
    "/admin/coding?survey_id=sipas-2026&version=1&question=q10_other",
]
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}}


def _problems(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=AXE_OPTIONS).response
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    width = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if width[0] > width[1]:
        problems.append(f"scrolls sideways: content {width[0]}px in a {width[1]}px window")
    return problems


@pytest.fixture(scope="module")
def long_audit_entry(live_stack: Any) -> None:
    """The audit page must stay inside a tablet's width with long values in it (20 origins, hashes)."""
    from chalicelib import wiring
    from chalicelib.domain.audit import Actor

    current = wiring.agency_service().settings("P79")
    origins = [f"https://dich-vu-cong-truc-tuyen-so-{n:02d}.hochiminhcity.gov.vn" for n in range(20)]
    actor = Actor("a11y", "Kiểm thử", "system_admin")
    wiring.agency_service().set_embed_origins(actor, "P79", origins, current.version, "2026-11-23T00:00:00Z")


@pytest.fixture(scope="module")
def fieldwork(live_stack: Any) -> None:
    """The fieldwork pages with a sample, an assignment and its villages' rows to walk."""
    from tests.integration.test_fieldwork import assigned

    assigned(live_stack)


@pytest.fixture(scope="module")
def field_quality(live_stack: Any, sipas: Any) -> None:
    """The risk and coding pages with interviews, a re-check form, a draw, a re-check and a code frame; the
    re-check entry form of a drawn household (radio buttons) and its comparison are walked too."""
    from tests.integration.test_authoring import call
    from tests.integration.test_field_quality import CODING, RECHECKS, interviews

    interviews(live_stack, sipas)
    call(live_stack, "PUT", RECHECKS + "/form", "admin", {"questions": ["a_sex", "a_age"]})
    _, drawn, _ = call(live_stack, "POST", RECHECKS + "/draws", "admin", {"rate": 0.1, "seed": "a11y"})
    target = drawn["draws"][0]["response_id"]
    body = {"answers": {"interview_happened": "yes", "a_sex": "1"}}
    call(live_stack, "POST", f"{RECHECKS}/results/{target}", "admin", body)
    frame = {
        "categories": [
            {"code": "thu-tuc", "label_vi": "Thủ tục", "keywords": ["thủ tục"]},
            {"code": "khong", "label_vi": "Không có ý kiến"},
        ]
    }
    call(live_stack, "PUT", CODING + "/frame", "admin", frame)
    # only the "no opinion" answers: tests/integration/test_field_quality.py codes the others in the same session
    rule = {"code": "khong", "keywords": ["không có ý kiến"], "why": "kiểm thử trợ năng"}
    call(live_stack, "POST", CODING + "/apply", "admin", rule)
    FIELD_QUALITY_PAGES[:] = [f"/admin/fieldwork/risk?survey_id=sipas-2026&version=1&response_id={target}"]


FIELD_QUALITY_PAGES: list[str] = []


@pytest.mark.parametrize("viewport", list(VIEWPORTS))
def test_citizen_and_console_pages_pass_axe_on_a_laptop_and_a_tablet(
    browser, live_stack, long_audit_entry, fieldwork, field_quality, viewport
):
    context = browser.new_context(locale="vi-VN", viewport=VIEWPORTS[viewport])
    host = live_stack.api_url.split("//")[1].split(":")[0]
    context.add_cookies(
        [{"name": SESSION_COOKIE, "value": live_stack.idp.issue("admin"), "domain": host, "path": "/admin"}]
    )
    page = context.new_page()
    failures = {}
    for path in CITIZEN_PAGES + CONSOLE_PAGES + FIELD_QUALITY_PAGES:
        answer = page.goto(f"{live_stack.api_url}{path}")
        assert answer is not None and answer.status == 200, (path, answer and answer.status)  # the page itself
        assert page.url.startswith(live_stack.api_url), (path, page.url)  # signed in, not sent to the provider
        found = _problems(page)
        if found:
            failures[path] = found
    context.close()
    assert not failures, failures


def test_the_checker_itself_catches_a_broken_page(browser, live_stack):
    """So a green run above means axe ran: an unlabelled field and a too-wide table are reported."""
    page = browser.new_context(viewport=VIEWPORTS["tablet"]).new_page()
    page.goto(f"{live_stack.api_url}/")
    page.evaluate(
        """() => {
        const i = document.createElement('input'); i.type = 'text'; document.querySelector('main').appendChild(i);
        const d = document.createElement('div'); d.style.width = '2000px'; d.textContent = 'x';
        document.querySelector('main').appendChild(d);
    }"""
    )
    found = " ".join(_problems(page))
    assert "label" in found
    assert "scrolls sideways" in found
