"""Attribution over the live stack: an agency's counters saved from the console, a QR link's page carries
the server's signed token, a submission with it is recorded with agency, location and channel and counted
on the console's dashboard; a forged or missing token records no agency (and the answers are kept)."""

from __future__ import annotations

import html
import re
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from tests.integration.helpers import fresh_submissions, post
from tests.integration.test_console import fetch, sign_in

COUNTERS = "ATTR-Q1 | Quầy thử nghiệm số 1 | counter | Cấp giấy phép xây dựng\nATTR-WEB | Trang thử nghiệm | page"


def _hidden(page: str, name: str) -> str:
    found = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)"', page)
    assert found, f"no hidden {name}"
    return html.unescape(found.group(1))


def _page(stack: Any, query: str, referer: str | None = None) -> tuple[int, dict[str, str], str]:
    request = urllib.request.Request(
        f"{stack.api_url}/s/sipas-2026?{query}", headers={"Referer": referer} if referer else {}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, dict(response.headers), response.read().decode()


def _stored(response_id: str) -> Any:
    from chalicelib import wiring

    return wiring.responses().get(response_id)


def _save_counters(stack: Any) -> None:
    """Hà Nội's administrator saves two locations from the console (the edit is audited)."""
    from chalicelib import wiring

    cookie = sign_in(stack, "quantri.hanoi")
    status, _, page = fetch(f"{stack.api_url}/admin/agencies/P01", cookie=cookie)
    assert status == 200
    csrf = page.split('name="csrf" value="')[1].split('"')[0]
    version = wiring.agency_service().settings("P01").version
    current = wiring.agency_service().settings("P01").locations
    keep = "\n".join(f"{loc.code} | {loc.name} | {loc.kind}" for loc in current if not loc.code.startswith("ATTR-"))
    form = urllib.parse.urlencode({"csrf": csrf, "version": str(version), "locations": f"{keep}\n{COUNTERS}"})
    status, headers, _ = fetch(f"{stack.api_url}/admin/agencies/P01/locations", cookie=cookie, data=form.encode())
    assert status == 303, headers
    codes = [loc["code"] for loc in wiring.agency_directory().locations("P01")]
    assert {"ATTR-Q1", "ATTR-WEB"} <= set(codes)
    last = wiring.audit_reader().latest(1)[0]
    assert (last["action"], last["target_id"]) == ("agency.locations", "P01")


def _dashboards() -> tuple[dict[str, Any], dict[str, Any]]:
    from chalicelib import wiring

    national = wiring.results_service().attribution(None)
    hanoi = wiring.results_service().attribution("P01")
    return next(s for s in national if s["id"] == "sipas-2026"), next(s for s in hanoi if s["id"] == "sipas-2026")


def _row(rows: list[dict[str, Any]], key: str, value: Any) -> dict[str, Any]:
    return next((r for r in rows if r[key] == value), {"n": 0, "accepted": 0})


def test_a_counters_qr_link_is_attributed_and_counted(live_stack, sipas):
    _save_counters(live_stack)
    live_stack.drain()
    national_before, hanoi_before = _dashboards()

    # GIVEN the page a citizen opens from the QR code at counter ATTR-Q1 of Hà Nội
    status, _, page = _page(live_stack, "agency=P01&location=ATTR-Q1&via=qr")
    assert status == 200
    token = _hidden(page, "attribution")
    assert token.startswith("v1.") and _hidden(page, "channel") == "qr"
    # WHEN the form is sent with it (the body says "web": the token decides)
    attributed, forged, missing = fresh_submissions(sipas, 3)
    attributed.update(channel="web", attribution=token)
    forged.update(channel="widget", attribution=token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB"))
    missing.update(channel="qr")
    missing.pop("attribution", None)
    assert [post(live_stack, s)[0] for s in (attributed, forged, missing)] == [201, 201, 201]
    # THEN the first is recorded with the agency, the counter, its service and the channel qr
    first = _stored(attributed["id"])
    assert (first.agency, first.location, first.channel) == ("P01", "ATTR-Q1", "qr")
    assert first.service == "Cấp giấy phép xây dựng" and first.paradata["rendered_at"]
    # AND the forged and the missing ones keep their answers but no agency, with the reason noted
    for body, reason in ((forged, "invalid"), (missing, "missing")):
        stored = _stored(body["id"])
        assert (stored.agency, stored.location, stored.channel) == (None, None, "web")
        assert stored.paradata["attribution"] == reason and stored.answers

    # AND after the workers ran, the counts moved: one for Hà Nội at ATTR-Q1 by QR, two unattributed
    live_stack.drain()
    national, hanoi = _dashboards()
    assert national["n"] == national_before["n"] + 3
    assert (
        _row(national["by_agency"], "agency", "P01")["n"]
        == _row(national_before["by_agency"], "agency", "P01")["n"] + 1
    )
    assert (
        _row(national["by_agency"], "agency", None)["n"] == _row(national_before["by_agency"], "agency", None)["n"] + 2
    )
    assert (
        _row(national["by_channel"], "channel", "qr")["n"]
        == _row(national_before["by_channel"], "channel", "qr")["n"] + 1
    )
    counter = _row(hanoi["by_location"], "location", "ATTR-Q1")
    assert counter["n"] == _row(hanoi_before["by_location"], "location", "ATTR-Q1")["n"] + 1
    assert counter["name"] == "Quầy thử nghiệm số 1"

    # AND the console shows them: nationally by agency, to Hà Nội's administrator by its own counters
    status, _, board = fetch(f"{live_stack.api_url}/admin", cookie=sign_in(live_stack, "admin"))
    assert status == 200 and "Nguồn phiếu" in board and "Mã QR tại điểm tiếp nhận" in board
    status, _, board = fetch(f"{live_stack.api_url}/admin", cookie=sign_in(live_stack, "quantri.hanoi"))
    assert status == 200 and "Quầy thử nghiệm số 1" in board and "ATTR-Q1" in board

    # AND reconcile agrees with the stream's counts, attribution cells included
    from tests.integration.helpers import reconcile

    assert reconcile(live_stack)["difference_count"] == 0


def test_what_does_not_hold_in_a_link_is_not_signed(live_stack):
    from chalicelib import wiring

    signer = wiring.attribution_signer()
    # another agency's counter code, an unknown agency: the page renders, without what does not hold
    _, _, page = _page(live_stack, "agency=P46&location=ATTR-Q1&via=qr")
    found = signer.verify(_hidden(page, "attribution"), "sipas-2026")
    assert (found.agency, found.location, found.channel) == ("P46", None, "qr")
    _, _, page = _page(live_stack, "agency=P99&location=ATTR-Q1")
    found = signer.verify(_hidden(page, "attribution"), "sipas-2026")
    assert (found.agency, found.location, found.channel) == (None, None, "web")
    # a malformed location code is a 400 like any bad parameter
    with pytest.raises(urllib.error.HTTPError) as refused:
        _page(live_stack, "agency=P01&location=Q%201")
    assert refused.value.code == 400


def test_a_widget_is_attributed_to_the_agency_whose_origins_may_frame_it(live_stack, sipas):
    from chalicelib import wiring
    from chalicelib.domain.audit import Actor

    origin = "https://khaosat.hanoi.gov.vn"
    current = wiring.agency_service().settings("P01")
    if origin not in current.embed_origins:
        actor = Actor(sub="test", name="Kiểm thử", role="system_admin", agency=None)
        wiring.agency_service().set_embed_origins(
            actor, "P01", [*current.embed_origins, origin], current.version, "2026-06-01T00:00:00Z"
        )
    _, headers, page = _page(live_stack, "embed=1&agency=P01", referer=f"{origin}/gop-y")
    assert origin in headers["Content-Security-Policy"]
    token = _hidden(page, "attribution")
    found = wiring.attribution_signer().verify(token, "sipas-2026")
    assert (found.channel, found.agency, found.embed_origin) == ("widget", "P01", origin)

    body = fresh_submissions(sipas, 1)[0]
    body.update(channel="widget", attribution=token)
    body.setdefault("paradata", {})["embed_origin"] = "https://elsewhere.example.com"
    assert post(live_stack, body)[0] == 201
    stored = _stored(body["id"])
    assert (stored.channel, stored.agency) == ("widget", "P01")
    # the origin the server saw framing the page (in the token) is checked, not the one the client reports
    assert stored.paradata["embed_origin_check"] == "registered"
    assert stored.paradata["embed_origin"] == "https://elsewhere.example.com"  # the report is kept as it came

    # the same page through the no-JavaScript path keeps the token in the form it renders again
    form = urllib.parse.urlencode({"id": body["id"][:-1] + "X", "attribution": token, "channel": "widget"}).encode()
    request = urllib.request.Request(
        f"{live_stack.api_url}/s/sipas-2026?embed=1&agency=P01",
        data=form,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    with pytest.raises(urllib.error.HTTPError) as refused:  # an empty form comes back with its errors
        urllib.request.urlopen(request, timeout=30)
    assert refused.value.code == 400
    assert _hidden(refused.value.read().decode(), "attribution") == token
