"""Share channels: survey links with their attribution, QR codes that scan to them, counters' posters, share cards."""

from __future__ import annotations

import copy
import io
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from chalicelib.domain.agencies import AgencyDirectory, AgencySettings, Location
from chalicelib.domain.channels import (
    ChannelNotFound,
    ChannelService,
    SurveyNotOpen,
    share_meta,
    shared_link,
    survey_link,
)
from chalicelib.domain.survey import Survey
from chalicelib.reference.agencies import agency_registry
from tests.shared.fakes import FakeAgencySettingsStore, FakeCatalog, sipas_definition

BASE = "https://khaosat.moha.gov.vn"
COUNTER = Location("MOTCUA-1", "Bộ phận Một cửa — Quầy số 1", "counter", "Cấp giấy phép xây dựng")
PAGE = Location("FANPAGE", "Trang Facebook của Sở", "page", None)


def decode_qr(png: bytes) -> list[str]:
    import zxingcpp
    from PIL import Image

    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


@pytest.fixture
def service() -> ChannelService:
    store = FakeAgencySettingsStore()
    store.items["P01"] = AgencySettings("P01", version=1, locations=(COUNTER, PAGE))
    catalog = FakeCatalog(sipas_definition())
    assert catalog.get("sipas-2026").is_open()
    return ChannelService(catalog, AgencyDirectory(agency_registry(), store, catalog))


# --- links ------------------------------------------------------------------------------------------
def test_a_counter_link_names_agency_location_and_channel_in_a_fixed_order():
    url = survey_link(BASE, "sipas-2026", via="qr", location="Q01", agency="P01", service="1.001234")
    assert url == f"{BASE}/s/sipas-2026?agency=P01&location=Q01&service=1.001234&via=qr"
    assert survey_link(BASE + "/", "sipas-2026") == f"{BASE}/s/sipas-2026"


def test_a_qr_link_is_refused_for_a_location_the_agency_does_not_have(service):
    assert service.qr_link(BASE, "sipas-2026", "P01", "MOTCUA-1") == (
        f"{BASE}/s/sipas-2026?agency=P01&location=MOTCUA-1&via=qr"
    )
    with pytest.raises(ChannelNotFound):
        service.qr_link(BASE, "sipas-2026", "P01", "Q99")
    with pytest.raises(ChannelNotFound):
        service.qr_link(BASE, "sipas-2026", "P79", "MOTCUA-1")  # another agency's code


def test_sharing_a_page_opened_from_a_counter_shares_the_agency_not_the_counter():
    opened = {"agency": "P01", "location": "MOTCUA-1", "via": "qr"}
    assert shared_link(BASE, "sipas-2026", opened) == f"{BASE}/s/sipas-2026?agency=P01&via=link"


def test_sharing_an_agency_page_link_keeps_the_page_and_drops_what_is_malformed():
    posted = {"agency": "P01", "location": "FANPAGE", "via": "link"}
    assert shared_link(BASE, "sipas-2026", posted) == f"{BASE}/s/sipas-2026?agency=P01&location=FANPAGE&via=link"
    forged = {"agency": '"><script>', "location": "FANPAGE", "service": "x y"}
    assert shared_link(BASE, "sipas-2026", forged) == f"{BASE}/s/sipas-2026?via=link"


# --- QR codes ---------------------------------------------------------------------------------------
def test_the_qr_png_scans_to_the_counters_link(service):
    from chalicelib.web.qr import qr_png

    url = service.qr_link(BASE, "sipas-2026", "P01", "MOTCUA-1", "1.001234")
    assert decode_qr(qr_png(url)) == [url]
    query = parse_qs(urlsplit(url).query)
    assert query == {"agency": ["P01"], "location": ["MOTCUA-1"], "service": ["1.001234"], "via": ["qr"]}


def test_the_qr_code_tolerates_print_damage_and_the_svg_scales():
    import xml.etree.ElementTree as ET

    from chalicelib.web.qr import qr_code, qr_svg

    assert qr_code(f"{BASE}/s/sipas-2026?agency=P01&location=MOTCUA-1&via=qr").error in ("M", "Q", "H")
    root = ET.fromstring(qr_svg("https://example.gov.vn/s/x", title="Mã QR"))
    assert root.get("viewBox") and root.get("width") is None


# --- posters ----------------------------------------------------------------------------------------
def test_a_poster_says_survey_agency_counter_service_and_address(service):
    poster = service.poster(BASE, "sipas-2026", "P01", "MOTCUA-1")
    assert poster.agency_name == "Thành phố Hà Nội"
    assert poster.location_name == COUNTER.name and poster.service == COUNTER.service
    assert poster.url == f"{BASE}/s/sipas-2026?agency=P01&location=MOTCUA-1&via=qr"
    assert poster.short_address == "khaosat.moha.gov.vn/s/sipas-2026/P01/MOTCUA-1"
    assert poster.filename == "ap-phich-qr-sipas-2026-P01-MOTCUA-1.pdf"


def test_no_poster_for_a_closed_survey():
    definition = copy.deepcopy(sipas_definition())
    definition["status"] = "closed"
    catalog = FakeCatalog(definition)
    store = FakeAgencySettingsStore()
    store.items["P01"] = AgencySettings("P01", version=1, locations=(COUNTER,))
    closed = ChannelService(catalog, AgencyDirectory(agency_registry(), store, catalog))
    with pytest.raises(SurveyNotOpen):
        closed.poster(BASE, "sipas-2026", "P01", "MOTCUA-1")


def test_the_poster_pdf_is_one_a4_page_with_its_texts_and_an_embedded_font(service):
    from pypdf import PdfReader

    from chalicelib.web.poster import render_poster

    poster = service.poster(BASE, "sipas-2026", "P01", "MOTCUA-1")
    reader = PdfReader(io.BytesIO(render_poster(poster)))
    assert len(reader.pages) == 1
    page = reader.pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)  # A4 in points
    text = " ".join(page.extract_text().split())
    for expected in (
        "Mời Ông/Bà cho ý kiến về sự phục vụ",
        "Thành phố Hà Nội",
        "Bộ phận Một cửa — Quầy số 1 — Cấp giấy phép xây dựng",
        "khaosat.moha.gov.vn/s/sipas-2026/P01/MOTCUA-1",
        "Scan the code with your phone",
        "Bộ Nội vụ — Khảo sát sự hài lòng của người dân, tổ chức",
        "cơ quan hành chính nhà nước",  # the survey's title, wrapped over lines
    ):
        assert expected in text, expected
    fonts = [f.get_object() for f in page["/Resources"]["/Font"].values()]
    assert fonts and all("DejaVuSans" in str(f["/BaseFont"]) for f in fonts)
    descriptors = [f["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object() for f in fonts]
    assert all("/FontFile2" in d for d in descriptors)  # the TrueType program is in the file, not the printer's


def test_the_poster_draws_the_code_that_scans_to_its_link(service):
    """The poster draws dark_runs(url) as rectangles: drawn again as pixels, they scan to the poster's link."""
    from PIL import Image, ImageDraw

    from chalicelib.web.qr import BORDER, dark_runs

    poster = service.poster(BASE, "sipas-2026", "P01", "MOTCUA-1")
    size, runs = dark_runs(poster.url)
    scale = 8
    image = Image.new("L", ((size + 2 * BORDER) * scale,) * 2, 255)
    draw = ImageDraw.Draw(image)
    for row, column, length in runs:
        x, y = (BORDER + column) * scale, (BORDER + row) * scale
        draw.rectangle((x, y, x + length * scale - 1, y + scale - 1), fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    assert decode_qr(buffer.getvalue()) == [poster.url]


# --- share cards and Open Graph -----------------------------------------------------------------------
def test_the_share_card_is_a_1200_by_630_png(service):
    from PIL import Image

    from chalicelib.web.share_card import render_share_card

    for card in (service.share_card("sipas-2026"), None):
        image = Image.open(io.BytesIO(render_share_card(card)))
        assert image.format == "PNG" and image.size == (1200, 630)


def test_open_graph_addresses_are_absolute(service):
    survey = Survey.from_definition(sipas_definition())
    meta = share_meta(BASE, survey, {"agency": "P01", "location": "MOTCUA-1", "via": "qr"})
    assert meta["url"] == f"{BASE}/s/sipas-2026?agency=P01&via=link"
    assert meta["image"] == f"{BASE}/s/sipas-2026/share.png?v={survey.version}"
    assert meta["title"].startswith("Khảo sát sự hài lòng")
    assert meta["facebook"].startswith("https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2F")
    home = share_meta(BASE, None, {})
    assert home["url"] == f"{BASE}/" and home["image"] == f"{BASE}/share.png"


def test_the_form_page_carries_open_graph_tags_and_the_share_block_but_not_in_a_widget():
    from chalicelib.reference.geography import load_geography
    from chalicelib.web.pages import render_survey_form
    from tests.unit.test_pages import Tags

    survey = Survey.from_definition(sipas_definition())
    meta = share_meta(BASE, survey, {})
    args: dict[str, Any] = {"response_id": "01JXQ8Z3M4N5P6Q7R8S9T0V1W2", "started_at": "2026-06-01T07:00:00.000Z"}
    page = Tags(render_survey_form(survey, load_geography("vn-2025"), share=meta, **args))
    properties = {a["property"]: a["content"] for a in page.find("meta") if "property" in a}
    assert properties["og:url"] == f"{BASE}/s/sipas-2026?via=link"
    assert properties["og:image"].startswith(f"{BASE}/") and properties["og:locale"] == "vi_VN"
    assert (properties["og:image:width"], properties["og:image:height"]) == ("1200", "630")
    assert page.find("meta", name="twitter:card")[0]["content"] == "summary_large_image"
    assert page.find("input", id="share-link")[0]["value"] == meta["url"]
    scripts = [s for s in page.find("script") if s.get("type") != "application/json"]  # JSON is data (the logic)
    assert not [s for s in scripts if not s.get("src", "").startswith("/static/")]  # no outside script
    widget = Tags(render_survey_form(survey, load_geography("vn-2025"), share=meta, embed=True, **args))
    assert not [a for a in widget.find("meta") if a.get("property", "").startswith("og:")]
    assert not widget.find("input", id="share-link")


def test_the_console_lists_each_location_with_its_qr_poster_and_link(service):
    view = service.counters(BASE, "P01")
    assert [row["code"] for row in view["locations"]] == ["MOTCUA-1", "FANPAGE"]
    counter = view["locations"][0]["surveys"][0]
    assert counter["poster"] == "/admin/agencies/P01/posters/sipas-2026/MOTCUA-1"
    assert counter["qr_png"] == "/s/sipas-2026/qr.png?agency=P01&location=MOTCUA-1"
    assert counter["link_url"] == f"{BASE}/s/sipas-2026?agency=P01&location=MOTCUA-1&via=link"
