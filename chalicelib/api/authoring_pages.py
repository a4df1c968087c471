"""The console's survey authoring pages (session cookie; `survey.manage`): list, one survey, preview, XLSForm.

Every form carries the page's CSRF token (checked by the @console declaration); the XLSForm upload is a
multipart form. A refused change shows the page again with its error (and an XLSForm's located problems).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.authoring import VERSION
from chalicelib.api.guard import form_field
from chalicelib.api.http import redirect
from chalicelib.api.operations import console
from chalicelib.api.params import SAVED, SURVEY_ID

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

authoring_pages = Blueprint(__name__)
ANY = ["*/*"]
Form = dict[str, list[str]]
REFUSED = (400, 403, 409, 413, 422)  # shown on the page again (403: e.g. an editor naming another agency)


@authoring_pages.route("/admin/surveys", methods=["GET"])
@console("adminSurveys", "Surveys this official manages: versions, status, window, counts", "survey.manage", own=True)
def admin_surveys(principal: Principal, token: str, _form: Form) -> Any:
    return _list_page(principal, token)


@authoring_pages.route("/admin/surveys", methods=["POST"], content_types=ANY)
@console(
    "adminSurveysCreate",
    "Create a survey's first draft from an XLSForm upload or a JSON definition",
    "survey.manage",
    own=True,
    form=True,
    upload="xlsform",
)
def admin_surveys_create(principal: Principal, token: str, form: Form) -> Any:
    import json

    from chalicelib import wiring
    from chalicelib.api import guard
    from chalicelib.api.authoring import read_xlsform
    from chalicelib.domain.errors import BadQuery, DomainError, InvalidJson

    survey_id, text = form_field(form, "survey_id").strip(), form_field(form, "definition")
    try:
        upload = guard.uploaded_file("xlsform")
        if upload is not None:
            definition, source = read_xlsform(upload[1], survey_id or None), "xlsform"
        elif text.strip():
            try:
                definition, source = json.loads(text), "json"
            except ValueError:
                raise InvalidJson(field="definition") from None
        else:
            raise BadQuery(
                "Hãy chọn tệp XLSForm hoặc dán định nghĩa JSON.",
                "Choose an XLSForm file or paste a JSON definition.",
                field="xlsform",
            )
        created = wiring.authoring_service().create(principal, definition, source)
    except DomainError as exc:
        if exc.status not in REFUSED:
            raise
        return _list_page(principal, token, error=exc, draft_id=survey_id, draft_json=text), exc.status
    return redirect(f"/admin/surveys/{created.survey_id}?saved=1", after_post=True)


@authoring_pages.route("/admin/surveys/{survey_id}", methods=["GET"])
@console(
    "adminSurvey",
    "One survey: versions, lifecycle actions, schedule, XLSForm upload and download, draft JSON",
    "survey.manage",
    survey_param="survey_id",
    params=(SURVEY_ID, SAVED),
)
def admin_survey(principal: Principal, token: str, _form: Form, survey_id: str) -> Any:
    from chalicelib.api.console import saved_notice

    notice = saved_notice()
    return _survey_page(principal, token, survey_id, notice=notice)


@authoring_pages.route("/admin/surveys/{survey_id}", methods=["POST"], content_types=ANY)
@console(
    "adminSurveyChange",
    "Publish, schedule, close, start a new version, save the draft's JSON or upload an XLSForm (audited)",
    "survey.manage",
    survey_param="survey_id",
    params=(SURVEY_ID,),
    form=True,
    upload="xlsform",
)
def admin_survey_change(principal: Principal, token: str, form: Form, survey_id: str) -> Any:
    from chalicelib.domain.errors import DomainError

    try:
        _change(principal, form, survey_id)
    except DomainError as exc:
        if exc.status not in REFUSED:
            raise
        text = form_field(form, "definition") if form_field(form, "action") == "save_json" else None
        return _survey_page(principal, token, survey_id, error=exc, draft_json=text), exc.status
    return redirect(f"/admin/surveys/{survey_id}?saved=1", after_post=True)


@authoring_pages.route("/admin/surveys/{survey_id}/versions/{version}/preview", methods=["GET"])
@console(
    "adminSurveyPreview",
    "A version (a draft too) exactly as citizens will see the form, with sending disabled",
    "survey.manage",
    survey_param="survey_id",
    params=(SURVEY_ID, VERSION),
)
def admin_survey_preview(principal: Principal, _token: str, _form: Form, survey_id: str, version: str) -> Any:
    from ulid import ULID

    from chalicelib import wiring
    from chalicelib.domain.clock import stamp
    from chalicelib.reference.geography import load_geography
    from chalicelib.web.pages import render_survey_form

    survey = wiring.authoring_service().preview(principal, survey_id, int(version))
    geography = load_geography(survey.geography)
    return render_survey_form(survey, geography, response_id=str(ULID()), started_at=stamp(), preview=True)


@authoring_pages.route("/admin/surveys/{survey_id}/versions/{version}/xlsform", methods=["GET"])
@console(
    "adminSurveyXlsForm",
    "Download a version as an XLSForm workbook",
    "survey.manage",
    survey_param="survey_id",
    params=(SURVEY_ID, VERSION),
)
def admin_survey_xlsform(principal: Principal, _token: str, _form: Form, survey_id: str, version: str) -> Response:
    from chalicelib import wiring
    from chalicelib.api.authoring import xlsform_download
    from chalicelib.domain.xlsform import write_xlsform

    found = wiring.authoring_service().version(principal, survey_id, int(version))
    return xlsform_download(write_xlsform(found.definition), f"{survey_id}-v{found.version}.xlsx")


# --- helpers --------------------------------------------------------------------------------------
def _change(principal: Principal, form: Form, survey_id: str) -> None:
    """One lifecycle action of the survey page's forms."""
    import json

    from chalicelib import wiring
    from chalicelib.api import guard
    from chalicelib.api.authoring import read_xlsform
    from chalicelib.domain.errors import BadQuery, InvalidJson
    from chalicelib.web.survey_admin import from_local_input

    service = wiring.authoring_service()
    action, etag = form_field(form, "action"), form_field(form, "etag")
    if action == "new_version":
        service.new_version(principal, survey_id, from_version=_number(form_field(form, "version"), "version"))
    elif action == "upload":
        upload = guard.uploaded_file("xlsform")
        if upload is None:
            raise BadQuery("Hãy chọn tệp XLSForm.", "Choose an XLSForm file.", field="xlsform")
        definition = read_xlsform(upload[1], survey_id)
        if form_field(form, "version"):  # the draft's page: replace that draft
            version = _number(form_field(form, "version"), "version")
            service.replace_draft(principal, survey_id, version, definition, etag, "xlsform")
        else:
            service.new_version(principal, survey_id, definition=definition, source="xlsform")
    elif action == "save_json":
        try:
            definition = json.loads(form_field(form, "definition"))
        except ValueError:
            raise InvalidJson(field="definition") from None
        version = _number(form_field(form, "version"), "version")
        service.replace_draft(principal, survey_id, version, definition, etag)
    elif action == "publish":
        grace = form_field(form, "grace_hours")
        hours = _number(grace, "grace_hours") if grace else None
        service.publish(principal, survey_id, _number(form_field(form, "version"), "version"), etag, hours)
    elif action == "schedule":
        opens, closes = from_local_input(form_field(form, "opens_at")), from_local_input(form_field(form, "closes_at"))
        service.schedule(principal, survey_id, _number(form_field(form, "version"), "version"), etag, opens, closes)
    elif action == "close":
        reason = form_field(form, "reason").strip()
        if not reason:
            raise BadQuery("Hãy ghi lý do đóng khảo sát.", "Give the reason for closing.", field="reason")
        service.close(principal, survey_id, _number(form_field(form, "version"), "version"), etag, reason)
    else:
        raise BadQuery(field="action")


def _list_page(principal: Principal, token: str, **state: Any) -> str:
    from chalicelib import wiring
    from chalicelib.api.console import console_csrf, console_nav
    from chalicelib.web.survey_admin import render_admin_surveys

    surveys = wiring.authoring_service().overview(principal)
    national = principal.can("survey.manage", None)
    return render_admin_surveys(
        surveys, national=national, csrf=console_csrf(token), console=console_nav(principal), **state
    )


def _survey_page(principal: Principal, token: str, survey_id: str, **state: Any) -> str:
    from chalicelib import wiring
    from chalicelib.api.console import console_csrf, console_nav
    from chalicelib.web.survey_admin import render_admin_survey

    service = wiring.authoring_service()
    survey = service.survey(principal, survey_id)
    draft = survey["draft_version"]
    definition = service.version(principal, survey_id, draft).definition if draft else None
    return render_admin_survey(survey, definition, csrf=console_csrf(token), console=console_nav(principal), **state)


def _number(text: str, name: str) -> int:
    from chalicelib.domain.errors import BadQuery

    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise BadQuery(field=name)
    return int(text)
