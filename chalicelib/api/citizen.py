"""Citizens' pages: the portal, a survey as a form (and as an embedded widget), results, reports, my response."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.api import request
from chalicelib.api.http import html_response, json_error, text_response
from chalicelib.api.operations import Answer, Param, api, page
from chalicelib.api.params import (
    EMBED,
    EMBED_AGENCY,
    INCLUDE_FLAGGED,
    LOCATION,
    RECEIPT,
    SCOPE,
    SERVICE,
    SURVEY_ID,
    VERSION,
    VIA,
)

citizen_pages = Blueprint(__name__)
ANY = ["*/*"]
HTML = "text/html"


@citizen_pages.route("/", methods=["GET"])
@page("homePage", "Portal home page", answers=(Answer(200, "Page", media=HTML),))
def home() -> Response:
    from chalicelib import wiring
    from chalicelib.web.pages import render_home

    return html_response(render_home(wiring.surveys().list_current(), share=_share(None)), cache="max-age=60")


@citizen_pages.route("/s/{survey_id}", methods=["GET"])
@page(
    "surveyPage",
    "The survey as an HTML form (works without JavaScript); embed=1 for an agency's widget. The server checks "
    "agency, location, service and via and signs what holds into the form's attribution token",
    params=(SURVEY_ID, EMBED, EMBED_AGENCY, LOCATION, SERVICE, VIA),
    answers=(Answer(200, "Form", media=HTML),),
    errors=(403, 404),
)
def survey_page(survey_id: str) -> Response:
    from chalicelib.web.pages import render_survey_form

    survey, geography, response_id, started_at = _form_parts(survey_id)
    embed, agency = request.flag("embed"), request.query("agency")
    token, attribution = _attribution(survey_id, embed, agency)
    body = render_survey_form(
        survey,
        geography,
        response_id=response_id,
        started_at=started_at,
        embed=embed,
        agency=agency,
        attribution=token,
        channel=attribution.channel,
        share=None if embed else _share(survey),
    )
    return html_response(body, embed=embed, frame_ancestors=_frame_ancestors(embed, agency))


@citizen_pages.route("/s/{survey_id}", methods=["POST"], content_types=ANY)
@page(
    "surveyPageSubmit",
    "Form post of the HTML form (no-JavaScript path)",
    params=(SURVEY_ID, EMBED, EMBED_AGENCY),
    answers=(
        Answer(201, "Receipt page", media=HTML),
        Answer(200, "Receipt page of a retry", media=HTML),
    ),
    errors=(403, 404, 415),
    form={"type": "object"},
)
def survey_page_submit(survey_id: str) -> Response:
    from urllib.parse import parse_qs

    embed, agency = request.flag("embed"), request.query("agency")
    form = parse_qs(request.raw_body().decode("utf-8", "replace"), keep_blank_values=False)
    status, body = _submit_form(survey_id, form, embed=embed, agency=agency)
    return html_response(body, status, embed=embed, frame_ancestors=_frame_ancestors(embed, agency))


@citizen_pages.route("/s/{survey_id}/results", methods=["GET"])
@page(
    "resultsPage",
    "Live results page",
    params=(SURVEY_ID, VERSION, SCOPE, INCLUDE_FLAGGED),
    answers=(Answer(200, "Results", media=HTML),),
    errors=(404, 422),
)
def results_page(survey_id: str) -> Response:
    from chalicelib import wiring
    from chalicelib.reference.geography import load_geography
    from chalicelib.web.pages import render_results

    flagged = request.flag("include_flagged")
    survey, data = wiring.results_service().results(
        survey_id, request.query("scope"), flagged, request.query("version")
    )
    geography = load_geography(survey.geography)
    pinned = bool(request.query("version"))
    body = render_results(
        survey, data, scope=data["scope"], geography=geography, include_flagged=flagged, version_pinned=pinned
    )
    return html_response(body, cache="max-age=5")


@citizen_pages.route("/reports", methods=["GET"])
@page("reportsPage", "Published report sets", answers=(Answer(200, "Report list", media=HTML),))
def reports_page() -> Response:
    from chalicelib import wiring
    from chalicelib.web.pages import render_reports

    return html_response(render_reports(wiring.report_service().report_sets()), cache="max-age=30")


@citizen_pages.route("/reports/file", methods=["GET"])
@page(
    "reportFile",
    "One file of a report set (HTML, CSV or JSON)",
    params=(Param("key", "query", "Key under reports/", {"type": "string", "minLength": 1, "maxLength": 512}, True),),
    answers=(
        Answer(200, "The file", media="text/html"),
        Answer(200, "The file", media="text/csv"),
        Answer(200, "The file", media="application/json"),
    ),
    errors=(404,),
)
def report_file() -> Response:
    from chalicelib import wiring

    content, content_type = wiring.report_service().report_file(request.query("key") or "")
    return text_response(content, content_type, _DOWNLOAD_HEADERS)


@citizen_pages.route("/r/{receipt}", methods=["GET"])
@page(
    "myResponsePage",
    "A citizen's own response as a page, with the deletion form",
    params=(RECEIPT,),
    answers=(Answer(200, "The response", media=HTML),),
    errors=(404,),
)
def my_response_page(receipt: str) -> Response:
    from chalicelib import wiring
    from chalicelib.web.pages import render_my_response

    return html_response(render_my_response(wiring.privacy_service().view(receipt)))


@citizen_pages.route("/r/{receipt}/withdrawal", methods=["POST"], content_types=ANY)
@page(
    "withdrawMyResponsePage",
    "Deletion request from the page (a form post that must carry confirm=yes)",
    params=(RECEIPT,),
    answers=(Answer(200, "Withdrawn", media=HTML),),
    errors=(404, 409),
    form={"type": "object", "required": ["confirm"], "properties": {"confirm": {"type": "string", "enum": ["yes"]}}},
)
def withdraw_my_response_page(receipt: str) -> Response:
    from urllib.parse import parse_qs

    from chalicelib import wiring
    from chalicelib.domain.errors import InvalidSubmission
    from chalicelib.web.pages import render_my_response

    form = parse_qs(request.raw_body().decode("utf-8", "replace"))
    if (form.get("confirm") or [""])[0] != "yes":
        raise InvalidSubmission(
            "Vui lòng đánh dấu ô xác nhận trước khi xóa.", "Tick the confirmation box first.", field="confirm"
        )
    privacy = wiring.privacy_service()
    privacy.withdraw(receipt)
    return html_response(render_my_response(privacy.view(receipt), notice="Đã xóa phiếu của Ông/Bà theo yêu cầu."))


@citizen_pages.route("/static/{name}", methods=["GET"])
@api(
    "staticAsset",
    "CSS and JavaScript of the pages",
    params=(Param("name", "path", "File name", {"type": "string", "pattern": "^[a-z0-9-]{1,40}\\.(css|js)$"}),),
    answers=(Answer(200, "A stylesheet", media="text/css"), Answer(200, "A script", media="text/javascript")),
    errors=(404,),
)
def static_file(name: str) -> Response:
    from chalicelib.domain.errors import NotFound
    from chalicelib.web.pages import static_file as asset

    found = asset(name)
    if found is None:
        return json_error(NotFound(field="name"))
    # pages link assets as /static/<name>?v=<content hash>, so a cached copy is never stale; agencies' sites
    # link the widget loader by a fixed URL, so it is cached for an hour only
    cache = "public, max-age=3600" if name == "embed.js" else "public, max-age=31536000, immutable"
    return text_response(found[0], found[1], {"Cache-Control": cache})


# --- helpers --------------------------------------------------------------------------------------
_DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "max-age=300",
    "Content-Security-Policy": "sandbox",
}


def _form_parts(survey_id: str) -> tuple[Any, Any, str, str]:
    """An open survey, its places, and a fresh response id and start time for the form (ULID at render time)."""
    from ulid import ULID

    from chalicelib import wiring
    from chalicelib.domain.clock import stamp
    from chalicelib.domain.errors import SurveyClosed
    from chalicelib.reference.geography import load_geography

    survey = wiring.surveys().get(survey_id)
    if not survey.is_open():
        raise SurveyClosed()
    return survey, load_geography(survey.geography), str(ULID()), stamp()


def _submit_form(survey_id: str, form: dict[str, list[str]], *, embed: bool, agency: str | None) -> tuple[int, str]:
    """The no-JavaScript path: the same service as the API; a refusal is the form again with its errors."""
    from chalicelib import wiring
    from chalicelib.domain.clock import stamp
    from chalicelib.domain.errors import DomainError, InvalidSubmission
    from chalicelib.reference.geography import load_geography
    from chalicelib.web.forms import field_of, form_errors, form_to_submission
    from chalicelib.web.pages import render_receipt, render_survey_form

    media = (request.header("content-type") or "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise InvalidSubmission("Biểu mẫu gửi lên không đúng định dạng.", "The form must be sent url-encoded.")
    survey = wiring.surveys().get(survey_id)
    body = form_to_submission(survey, form)
    errors = form_errors(survey, body)
    if not errors:
        try:
            receipt = wiring.submission_service().submit(survey_id, body, request.client())
            return (201 if receipt.created else 200), render_receipt(survey, receipt.to_dict(), embed=embed)
        except DomainError as exc:
            if exc.status not in (400, 422):
                raise
            errors = {field_of(exc.field) or "form": exc.message_vi}
    page_html = render_survey_form(
        survey,
        load_geography(survey.geography),
        response_id=str(body.get("id") or ""),
        started_at=str((body.get("paradata") or {}).get("started_at") or stamp()),
        values={k: v if len(v) > 1 else v[0] for k, v in form.items()},
        errors=errors,
        embed=embed,
        agency=agency,
        attribution=str(body.get("attribution") or ""),  # the form's own token again (checked when it is sent)
        channel=str(body.get("channel") or ""),
    )
    return 400, page_html


def _attribution(survey_id: str, embed: bool, agency: str | None) -> tuple[str, Any]:
    """The form's signed attribution token: what the link says that the server finds true."""
    from chalicelib import wiring

    return wiring.attribution_issuer().issue(
        survey_id,
        agency=agency,
        location=request.query("location"),
        service=request.query("service"),
        via=request.query("via"),
        embed=embed,
        referer=request.header("referer"),
    )


def _share(survey: Any) -> dict[str, Any]:
    """Open Graph tags and the share block: absolute addresses from the deployment's public address."""
    from chalicelib.domain.channels import share_meta

    link = {name: request.query(name) for name in ("agency", "location", "service", "via")}
    return share_meta(request.base_url(), survey, link)


def _frame_ancestors(embed: bool, agency: str | None) -> str | None:
    if not embed:
        return None
    from chalicelib import wiring

    return wiring.agency_directory().frame_ancestors(agency)
