"""Share channels: QR codes of survey links, counters' printable posters, share cards, and the console's page for them.

Binary answers (PNG, PDF) are base64 in Lambda's proxy response; app.py lists their media types in
`app.api.binary_types`, and API Gateway turns them back into bytes (see docs in /work/notes/channels.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api import request
from chalicelib.api.http import binary_response, redirect, text_response
from chalicelib.api.operations import Answer, Param, api, console, page
from chalicelib.api.params import AGENCY, EMBED_AGENCY, LOCATION, SERVICE, SURVEY_ID

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

    Form = dict[str, list[str]]

channel_pages = Blueprint(__name__)
PNG, PDF, SVG = "image/png", "application/pdf", "image/svg+xml"
LOCATION_PATH = LOCATION._replace(
    where="path", description="One of the agency's location codes (counter, office, page)"
)
QR_AGENCY = EMBED_AGENCY._replace(description="The agency that hands the code out", required=True)
QR_LOCATION = LOCATION._replace(
    description="One of the agency's location codes; without it the code names the agency only"
)
CARD_VERSION = Param(
    "v", "query", "The survey version the page linked (cache key)", {"type": "string", "pattern": "^[0-9]{1,9}$"}
)
QR_CACHE = "public, max-age=3600"  # a location renamed or removed shows within the hour
YEAR = "public, max-age=31536000, immutable"


@channel_pages.route("/s/{survey_id}/qr.svg", methods=["GET"])
@api(
    "surveyQrSvg",
    "QR code (SVG) of the survey's link for an agency and one of its locations (via=qr)",
    params=(SURVEY_ID, QR_AGENCY, QR_LOCATION, SERVICE),
    answers=(Answer(200, "The QR code", media=SVG),),
    errors=(404,),
)
def survey_qr_svg(survey_id: str) -> Response:
    from chalicelib.web.qr import qr_svg

    url = _qr_link(survey_id)
    return text_response(qr_svg(url, title=url), f"{SVG}; charset=utf-8", {"Cache-Control": QR_CACHE})


@channel_pages.route("/s/{survey_id}/qr.png", methods=["GET"])
@api(
    "surveyQrPng",
    "QR code (PNG) of the survey's link for an agency and one of its locations (via=qr)",
    params=(SURVEY_ID, QR_AGENCY, QR_LOCATION, SERVICE),
    answers=(Answer(200, "The QR code", media=PNG),),
    errors=(404,),
)
def survey_qr_png(survey_id: str) -> Response:
    from chalicelib.web.qr import qr_png

    return binary_response(qr_png(_qr_link(survey_id)), PNG, {"Cache-Control": QR_CACHE})


@channel_pages.route("/s/{survey_id}/share.png", methods=["GET"])
@api(
    "surveyShareCard",
    "The survey's share picture (Open Graph og:image, 1200x630 PNG)",
    params=(SURVEY_ID, CARD_VERSION),
    answers=(Answer(200, "The picture", media=PNG),),
    errors=(404,),
)
def survey_share_card(survey_id: str) -> Response:
    from chalicelib import wiring

    card = wiring.channel_service().share_card(survey_id)
    # the page links ?v=<version>: that address never changes content; any other is the current card, for a day
    cache = YEAR if request.query("v") == str(card.version) else "public, max-age=86400"
    return binary_response(_card_bytes(card), PNG, {"Cache-Control": cache})


@channel_pages.route("/share.png", methods=["GET"])
@api(
    "portalShareCard",
    "The portal's share picture (og:image of the home page)",
    answers=(Answer(200, "The picture", media=PNG),),
)
def portal_share_card() -> Response:
    return binary_response(_card_bytes(None), PNG, {"Cache-Control": "public, max-age=86400"})


@channel_pages.route("/s/{survey_id}/{agency}/{location}", methods=["GET"])
@page(
    "counterAddress",
    "The short address printed on a counter's poster: to the form, as the poster's QR code leads",
    params=(
        SURVEY_ID,
        AGENCY._replace(schema={"type": "string", "pattern": "^(P[0-9]{2}|M-[A-Z]{2,12})$"}),
        LOCATION_PATH,
    ),
    answers=(Answer(302, "To the form with agency, location and via=qr", media=""),),
    errors=(404,),
)
def counter_address(survey_id: str, agency: str, location: str) -> Response:
    from chalicelib import wiring

    return redirect(wiring.channel_service().counter_redirect(_base(), survey_id, agency, location))


@channel_pages.route("/admin/agencies/{agency}/channels", methods=["GET"])
@console(
    "adminAgencyChannels",
    "An agency's locations with each open survey's link, QR code and printable poster",
    "channel.print",
    agency_param="agency",
    params=(AGENCY,),
)
def admin_agency_channels(principal: Principal, _token: str, _form: Form, agency: str) -> Any:
    from chalicelib import wiring
    from chalicelib.api.console import _nav
    from chalicelib.web.pages import render_admin_channels

    return render_admin_channels(wiring.channel_service().counters(_base(), agency), console=_nav(principal))


@channel_pages.route("/admin/agencies/{agency}/posters/{survey_id}/{location}", methods=["GET"])
@console(
    "adminCounterPoster",
    "A counter's A4 poster (PDF): the survey, the agency and counter, a large QR code, the address",
    "channel.print",
    agency_param="agency",
    params=(AGENCY, SURVEY_ID, LOCATION_PATH),
)
def admin_counter_poster(
    _principal: Principal, _token: str, _form: Form, agency: str, survey_id: str, location: str
) -> Any:
    from chalicelib import wiring
    from chalicelib.web.poster import render_poster

    poster = wiring.channel_service().poster(_base(), survey_id, agency, location)
    disposition = f'inline; filename="{poster.filename}"'
    return binary_response(
        render_poster(poster), PDF, {"Content-Disposition": disposition, "Cache-Control": "no-store"}
    )


# --- helpers --------------------------------------------------------------------------------------
def _qr_link(survey_id: str) -> str:
    from chalicelib import wiring

    agency = request.query("agency") or ""
    return wiring.channel_service().qr_link(
        _base(), survey_id, agency, request.query("location"), request.query("service")
    )


def _card_bytes(card: Any) -> bytes:
    """One drawing per survey version and container: a crawler's burst of requests draws it once."""
    from chalicelib.web.share_card import render_share_card

    key = (card.survey_id, card.version, card.title_vi, card.title_en) if card else None
    if key not in _CARDS:
        if len(_CARDS) >= 32:
            _CARDS.clear()
        _CARDS[key] = render_share_card(card)
    return _CARDS[key]


_CARDS: dict[Any, bytes] = {}


def _base() -> str:
    return request.base_url()
