"""Share channels of a survey: the links, QR codes and counter posters that carry agency, location and channel.

A link to the citizen's form names where it was handed out: `/s/{survey}?agency=P01&location=Q01&service=…&via=qr`.
The form page turns those parameters into a server-signed attribution (chalicelib/domain/attribution.py), so
every response records its channel (qr, link, widget) and location. This module builds the links, checks
that the agency and location exist, and gathers what a counter's printed poster and a share card say.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote, urlencode, urlsplit

from chalicelib.domain.errors import DomainError
from chalicelib.domain.texts import text_en, text_vi

VIA_QR, VIA_LINK, VIA_WIDGET = "qr", "link", "widget"
CHANNELS = (VIA_QR, VIA_LINK, VIA_WIDGET)
AGENCY_CODE = re.compile(r"^(P[0-9]{2}|M-[A-Z]{2,12})$")
LOCATION_CODE = re.compile(r"^[A-Za-z0-9-]{1,32}$")
SERVICE_CODE = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")  # a procedure's code; by default the location's own service
MINISTRY_LINE_VI = "Bộ Nội vụ — Khảo sát sự hài lòng của người dân, tổ chức"
MINISTRY_LINE_EN = "Ministry of Home Affairs of Viet Nam — citizen satisfaction survey"


class ChannelNotFound(DomainError):
    code = "channel_not_found"
    status = 404
    message_vi = "Không có điểm tiếp nhận với mã này ở cơ quan đã chọn."
    message_en = "The agency has no location with that code."


class SurveyNotOpen(DomainError):
    code = "survey_not_open"
    status = 409
    message_vi = "Khảo sát này không nhận phiếu vào lúc này; không in áp phích cho khảo sát đã đóng."
    message_en = "This survey is not taking answers now; posters are printed for open surveys only."


class SurveyCatalog(Protocol):
    def get(self, survey_id: str) -> Any: ...

    def list_current(self) -> list[Any]: ...


class AgencyLocations(Protocol):
    """What the agency directory tells about an agency and its locations (chalicelib/domain/agencies.py)."""

    def agency(self, code: str) -> Any: ...  # raises AgencyNotFound

    def locations(self, agency: str) -> list[dict[str, Any]]: ...  # code, name, kind, service

    def location(self, agency: str, code: str) -> dict[str, Any] | None: ...


def survey_link(
    base: str,
    survey_id: str,
    *,
    agency: str | None = None,
    location: str | None = None,
    service: str | None = None,
    via: str | None = None,
) -> str:
    """The absolute address of a survey's form, with its attribution in a fixed order (one URL per counter)."""
    params = [(k, v) for k, v in (("agency", agency), ("location", location), ("service", service), ("via", via)) if v]
    query = urlencode(params, quote_via=quote)  # %20, not +: API Gateway does not read + as a space
    return f"{base.rstrip('/')}/s/{survey_id}" + (f"?{query}" if query else "")


def counter_address(base: str, survey_id: str, agency: str, location: str) -> str:
    """The short address printed under the QR code, for whoever types it: host/s/{survey}/{agency}/{location}."""
    parts = urlsplit(base)
    return f"{parts.netloc}{parts.path.rstrip('/')}/s/{survey_id}/{agency}/{location}"


def shared_link(base: str, survey_id: str, query: dict[str, str | None]) -> str:
    """What a page shares (og:url, the "Chia sẻ" links): the link channel, keeping the agency and its page.

    A person who scanned a counter's QR code and shares the page is not sharing the counter: the
    location and service of a QR visit are dropped, the agency kept. A link that names a location
    (an agency's web page or fan page) keeps it, so a share of that link still counts for that page.
    Anything malformed is left out rather than echoed.
    """
    agency = query.get("agency") or None
    agency = agency if agency and AGENCY_CODE.match(agency) else None
    location = query.get("location") or None
    location = location if agency and location and LOCATION_CODE.match(location) else None
    service = query.get("service") or None
    service = service if agency and service and SERVICE_CODE.match(service) else None
    if query.get("via") == VIA_QR:
        location = service = None
    return survey_link(base, survey_id, agency=agency, location=location, service=service, via=VIA_LINK)


@dataclass(frozen=True)
class Poster:
    """What a counter's A4 poster says (Vietnamese first), and the address its QR code encodes."""

    survey_id: str
    title_vi: str
    title_en: str
    agency_code: str
    agency_name: str
    location_code: str
    location_name: str
    service: str | None
    url: str  # what the QR code encodes (via=qr)
    short_address: str  # printed under the code, for typing

    @property
    def filename(self) -> str:
        return f"ap-phich-qr-{self.survey_id}-{self.agency_code}-{self.location_code}.pdf"


@dataclass(frozen=True)
class ShareCard:
    """A survey's 1200x630 share picture: its title on the Ministry's colours."""

    survey_id: str
    version: int
    title_vi: str
    title_en: str


class ChannelService:
    """Links, QR targets, posters and the console's list of an agency's counters."""

    def __init__(self, surveys: SurveyCatalog, agencies: AgencyLocations) -> None:
        self._surveys, self._agencies = surveys, agencies

    def qr_link(self, base: str, survey_id: str, agency: str, location: str | None, service: str | None = None) -> str:
        """What a QR code encodes: the form with agency and location.

        The service is named only when asked for: without it the form takes the location's registered
        service (chalicelib/domain/attribution.py), which is free text and would only lengthen the code.
        """
        self._surveys.get(survey_id)  # SurveyNotFound
        self._agencies.agency(agency)  # AgencyNotFound
        if location is None:
            return survey_link(base, survey_id, agency=agency, service=service, via=VIA_QR)
        place = self._location(agency, location)
        return survey_link(base, survey_id, agency=agency, location=place["code"], service=service, via=VIA_QR)

    def poster(self, base: str, survey_id: str, agency: str, location: str) -> Poster:
        survey = self._surveys.get(survey_id)
        if not survey.is_open():
            raise SurveyNotOpen(field="survey")
        reference = self._agencies.agency(agency)
        place = self._location(agency, location)
        title = survey.definition.get("title")
        return Poster(
            survey_id=survey.id,
            title_vi=text_vi(title) or survey.id,
            title_en=text_en(title),
            agency_code=agency,
            agency_name=str(reference.name),
            location_code=place["code"],
            location_name=str(place["name"]),
            service=place.get("service") or None,
            url=survey_link(base, survey.id, agency=agency, location=place["code"], via=VIA_QR),
            short_address=counter_address(base, survey.id, agency, place["code"]),
        )

    def counter_redirect(self, base: str, survey_id: str, agency: str, location: str) -> str:
        """The printed short address leads to the same form the QR code opens."""
        return self.qr_link(base, survey_id, agency, location)

    def share_card(self, survey_id: str) -> ShareCard:
        survey = self._surveys.get(survey_id)
        title = survey.definition.get("title")
        return ShareCard(survey.id, survey.version, text_vi(title) or survey.id, text_en(title))

    def counters(self, base: str, agency: str) -> dict[str, Any]:
        """The console's page of an agency: each location with, per open survey, its link, QR code and poster."""
        reference = self._agencies.agency(agency)
        surveys = [s for s in self._surveys.list_current() if s.is_open()]
        rows = []
        for place in self._agencies.locations(agency):
            per_survey = []
            for survey in surveys:
                qr_query = urlencode({"agency": agency, "location": place["code"]})
                per_survey.append(
                    {
                        "survey_id": survey.id,
                        "title": text_vi(survey.definition.get("title")) or survey.id,
                        "qr_url": survey_link(base, survey.id, agency=agency, location=place["code"], via=VIA_QR),
                        "link_url": survey_link(base, survey.id, agency=agency, location=place["code"], via=VIA_LINK),
                        "short_address": counter_address(base, survey.id, agency, place["code"]),
                        "qr_svg": f"/s/{survey.id}/qr.svg?{qr_query}",
                        "qr_png": f"/s/{survey.id}/qr.png?{qr_query}",
                        "poster": f"/admin/agencies/{agency}/posters/{survey.id}/{place['code']}",
                    }
                )
            rows.append({**place, "surveys": per_survey})
        return {"agency": reference.to_dict(), "locations": rows, "surveys": [s.id for s in surveys]}

    def _location(self, agency: str, code: str) -> dict[str, Any]:
        found = self._agencies.location(agency, code) if LOCATION_CODE.match(code) else None
        if found is None:
            raise ChannelNotFound(field="location")
        return found


PORTAL_TITLE = "Khảo sát sự hài lòng của người dân, tổ chức — Bộ Nội vụ"
PORTAL_DESCRIPTION = (
    "Ý kiến của Ông/Bà giúp cơ quan hành chính nhà nước phục vụ người dân tốt hơn. Phiếu trả lời trực tuyến."
)
CARD_WIDTH, CARD_HEIGHT = 1200, 630


def share_meta(base: str, survey: Any | None, query: dict[str, str | None]) -> dict[str, Any]:
    """What a page tells Zalo and Facebook (Open Graph) and its "Chia sẻ" block: absolute addresses only.

    survey None: the portal's home page.
    """
    from urllib.parse import quote as quote_all

    base = base.rstrip("/")
    if survey is None:
        title, description, url = PORTAL_TITLE, PORTAL_DESCRIPTION, f"{base}/"
        image, alt = f"{base}/share.png", "Khảo sát sự hài lòng của người dân, tổ chức — Bộ Nội vụ"
    else:
        title = text_vi(survey.definition.get("title")) or survey.id
        description = _clip(text_vi(survey.definition.get("description")) or PORTAL_DESCRIPTION, 200)
        url = shared_link(base, survey.id, query)
        image, alt = f"{base}/s/{survey.id}/share.png?v={survey.version}", f"{title} — Bộ Nội vụ"
    return {
        "title": title,
        "description": description,
        "url": url,
        "image": image,
        "image_alt": alt,
        "image_width": CARD_WIDTH,
        "image_height": CARD_HEIGHT,
        "facebook": f"https://www.facebook.com/sharer/sharer.php?u={quote_all(url, safe='')}",
    }


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"
