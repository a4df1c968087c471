"""Share channels through the running stack: QR codes, counters' posters in the console, Open Graph tags, share cards."""

from __future__ import annotations

import io
import urllib.error
import urllib.request
from html.parser import HTMLParser
from typing import Any

import pytest

COUNTER = {"code": "MOTCUA-1", "name": "Bộ phận Một cửa — Quầy số 1", "kind": "counter", "service": "Cấp phép xây dựng"}


def ensure_counter(agency: str = "P01", counter: dict[str, Any] = COUNTER) -> None:
    """The agency has this location (added through the service, audited, as an official would)."""
    from chalicelib import wiring
    from chalicelib.domain.audit import Actor
    from chalicelib.domain.clock import stamp

    service = wiring.agency_service()
    current = service.settings(agency)
    if current.location(counter["code"]):
        return
    places = [loc.to_dict() for loc in current.locations] + [counter]
    actor = Actor("test-seed", "Kiểm thử", "system_admin")
    service.set_locations(actor, agency, places, current.version, stamp())


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def get(url: str, *, cookie: str = "", accept: str = "*/*") -> tuple[int, dict[str, str], bytes]:
    headers = {"Accept": accept, **({"Cookie": cookie} if cookie else {})}
    try:
        response = urllib.request.build_opener(NoRedirect).open(
            urllib.request.Request(url, headers=headers), timeout=30
        )
        return response.status, {k.lower(): v for k, v in response.headers.items()}, response.read()
    except urllib.error.HTTPError as error:
        return error.code, {k.lower(): v for k, v in error.headers.items()}, error.read()


class Meta(HTMLParser):
    def __init__(self, html: str) -> None:
        super().__init__()
        self.og: dict[str, str] = {}
        self.named: dict[str, str] = {}
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "meta" and "property" in found:
            self.og[found["property"]] = found.get("content", "")
        elif tag == "meta" and "name" in found:
            self.named[found["name"]] = found.get("content", "")


@pytest.fixture(scope="module")
def counter(live_stack: Any) -> str:
    ensure_counter()
    return str(COUNTER["code"])


def session(stack: Any, username: str) -> str:
    from chalicelib.api.session import SESSION_COOKIE

    return f"{SESSION_COOKIE}={stack.idp.issue(username)}"


def test_the_qr_code_scans_to_the_counters_form_and_the_printed_address_leads_there_too(live_stack, counter):
    import zxingcpp
    from PIL import Image

    api = live_stack.api_url
    status, headers, body = get(f"{api}/s/sipas-2026/qr.png?agency=P01&location={counter}")
    assert status == 200 and headers["content-type"] == "image/png"
    scanned = [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(body)))]
    expected = f"{api}/s/sipas-2026?agency=P01&location={counter}&via=qr"
    assert scanned == [expected]
    status, headers, svg = get(f"{api}/s/sipas-2026/qr.svg?agency=P01&location={counter}")
    assert status == 200 and headers["content-type"].startswith("image/svg+xml") and svg.startswith(b"<svg")
    status, headers, _ = get(f"{api}/s/sipas-2026/P01/{counter}")
    assert (status, headers["location"]) == (302, expected)
    # a location the agency does not have is no code at all
    assert get(f"{api}/s/sipas-2026/qr.png?agency=P01&location=NOPE")[0] == 404
    assert get(f"{api}/s/sipas-2026/qr.png?agency=P79&location={counter}")[0] == 404


def test_a_counters_poster_for_the_agencys_officials_and_survey_managers_only(live_stack, counter):
    from pypdf import PdfReader

    api = live_stack.api_url
    poster = f"/admin/agencies/P01/posters/sipas-2026/{counter}"
    # GIVEN Hà Nội's administrator WHEN the agency's QR page is opened THEN each counter offers its poster
    hanoi = session(live_stack, "quantri.hanoi")
    status, _, page = get(f"{api}/admin/agencies/P01/channels", cookie=hanoi)
    assert status == 200 and poster in page.decode() and "In áp phích QR" in page.decode()
    status, headers, pdf = get(f"{api}{poster}", cookie=hanoi)
    assert status == 200 and headers["content-type"] == "application/pdf"
    assert 'filename="ap-phich-qr-sipas-2026-P01-MOTCUA-1.pdf"' in headers["content-disposition"]
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1 and "Bộ phận Một cửa — Quầy số 1" in reader.pages[0].extract_text()
    # AND a national survey manager may print it too
    assert get(f"{api}{poster}", cookie=session(live_stack, "khaosat"))[0] == 200
    # BUT another agency's administrator may not, nor an analyst, nor an editor of the agency itself
    ensure_counter("P79", {"code": "Q01", "name": "Quầy 1", "kind": "counter"})
    assert get(f"{api}/admin/agencies/P79/posters/sipas-2026/Q01", cookie=hanoi)[0] == 403
    assert get(f"{api}/admin/agencies/P79/channels", cookie=hanoi)[0] == 403
    assert get(f"{api}{poster}", cookie=session(live_stack, "phantich.hue"))[0] == 403
    assert get(f"{api}{poster}", cookie=session(live_stack, "bientap.hanoi"))[0] == 403
    assert get(f"{api}{poster}")[0] == 302  # no session: to sign-in


def test_the_survey_page_tells_zalo_and_facebook_what_to_show(live_stack):
    from PIL import Image

    api = live_stack.api_url
    status, _, body = get(f"{api}/s/sipas-2026?agency=P01&location=MOTCUA-1&via=qr", accept="text/html")
    assert status == 200
    meta = Meta(body.decode())
    assert meta.og["og:url"] == f"{api}/s/sipas-2026?agency=P01&via=link"
    assert meta.og["og:type"] == "website" and meta.og["og:locale"] == "vi_VN"
    assert meta.og["og:title"].startswith("Khảo sát sự hài lòng của người dân")
    assert meta.named["twitter:card"] == "summary_large_image"
    for key in ("og:url", "og:image"):
        assert meta.og[key].startswith(f"{api}/"), key
    # WHEN the crawler fetches the picture THEN it is a 1200x630 PNG cached for long (its address has the version)
    status, headers, png = get(meta.og["og:image"], accept="*/*")
    assert status == 200 and headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(png)).size == (1200, 630)
    assert (meta.og["og:image:width"], meta.og["og:image:height"]) == ("1200", "630")
    assert "immutable" in headers["cache-control"]
    # AND the home page has its own card
    home = Meta(get(f"{api}/", accept="text/html")[2].decode())
    assert home.og["og:url"] == f"{api}/" and home.og["og:image"] == f"{api}/share.png"
    status, headers, _ = get(home.og["og:image"])
    assert status == 200 and headers["content-type"] == "image/png"
