"""Officials' survey authoring API (bearer token; `survey.manage`): versions, drafts, publishing, schedules, XLSForm.

A survey's target for the permission is its owner agency when it is an ad hoc survey, national otherwise
(chalicelib/domain/authoring.py); routes naming a survey declare `survey_param` so the guard resolves it.
Drafts are sent as a survey definition (JSON) or as an XLSForm workbook (the file itself, as the body).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api import request
from chalicelib.api.http import SECURITY_HEADERS, json_response
from chalicelib.api.operations import Answer, Param, api
from chalicelib.api.params import SURVEY_ID

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal
    from chalicelib.domain.authoring import SurveyVersion

authoring_api = Blueprint(__name__)
ANY = ["*/*"]
NO_STORE = {"Cache-Control": "no-store"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DEFINITION_MAX_BYTES = 400 * 1024
XLSFORM_MAX_BYTES = 4 * 1024 * 1024
VERSION = Param("version", "path", "Version number (1, 2, ...)", {"type": "string", "pattern": "^[1-9][0-9]{0,8}$"})
ETAG = Param(
    "etag",
    "query",
    "With an XLSForm body: the draft's etag as last read (a JSON body carries it inside)",
    {"type": "string", "pattern": "^[0-9a-f]{24}$"},
)
VERSION_ERRORS = (404, 409, 413, 415, 422)  # 422: an XLSForm with errors (sheet, row, column)


@authoring_api.route("/admin/api/surveys", methods=["GET"], cors=True)
@api(
    "listAuthoredSurveys",
    "Surveys this official manages, with every version and its status (drafts included)",
    permission="survey.manage",
    own=True,
    answers=(Answer(200, "Surveys", "AuthoredSurveys"),),
)
def list_authored_surveys(principal: Principal) -> Response:
    from chalicelib import wiring

    return json_response({"surveys": wiring.authoring_service().overview(principal)}, headers=NO_STORE)


@authoring_api.route("/admin/api/surveys", methods=["POST"], content_types=ANY, cors=True)
@api(
    "createSurveyDraft",
    "A new survey as a draft (version 1), from a definition or an XLSForm workbook (audited)",
    permission="survey.manage",
    own=True,
    body="Survey",
    uploads=(XLSX,),
    answers=(Answer(201, "The draft", "AuthoredVersionDetail"),),
    errors=(403, 409, 413, 415, 422),
)
def create_survey_draft(principal: Principal) -> Response:
    from chalicelib import wiring

    definition, source = _definition_sent()
    created = wiring.authoring_service().create(principal, definition, source)
    return _version_answer(created, status=201)


@authoring_api.route("/admin/api/surveys/{survey_id}", methods=["GET"], cors=True)
@api(
    "getAuthoredSurvey",
    "One survey's versions and their status, window and counts",
    params=(SURVEY_ID,),
    permission="survey.manage",
    survey_param="survey_id",
    answers=(Answer(200, "The survey", "AuthoredSurvey"),),
    errors=(404,),
)
def get_authored_survey(principal: Principal, survey_id: str) -> Response:
    from chalicelib import wiring

    return json_response(wiring.authoring_service().survey(principal, survey_id), headers=NO_STORE)


@authoring_api.route("/admin/api/surveys/{survey_id}/versions", methods=["POST"], content_types=ANY, cors=True)
@api(
    "newSurveyVersion",
    "Start the next version as a draft: a copy of a version, or an XLSForm workbook (audited)",
    params=(SURVEY_ID,),
    permission="survey.manage",
    survey_param="survey_id",
    body="SurveyAuthoring_new_version",
    uploads=(XLSX,),
    answers=(Answer(201, "The new draft", "AuthoredVersionDetail"),),
    errors=VERSION_ERRORS,
)
def new_survey_version(principal: Principal, survey_id: str) -> Response:
    from chalicelib import wiring

    service = wiring.authoring_service()
    if _is_xlsform():
        definition, source = _definition_sent(survey_id)
        created = service.new_version(principal, survey_id, definition=definition, source=source)
    else:
        body = _body("new_version")
        created = service.new_version(principal, survey_id, from_version=int(body["from_version"]))
    return _version_answer(created, status=201)


@authoring_api.route("/admin/api/surveys/{survey_id}/versions/{version}", methods=["GET"], cors=True)
@api(
    "getSurveyVersion",
    "One version with its definition (a draft included)",
    params=(SURVEY_ID, VERSION),
    permission="survey.manage",
    survey_param="survey_id",
    answers=(Answer(200, "The version", "AuthoredVersionDetail"),),
    errors=(404,),
)
def get_survey_version(principal: Principal, survey_id: str, version: str) -> Response:
    from chalicelib import wiring

    return _version_answer(wiring.authoring_service().version(principal, survey_id, int(version)))


@authoring_api.route("/admin/api/surveys/{survey_id}/versions/{version}", methods=["PUT"], content_types=ANY, cors=True)
@api(
    "replaceSurveyDraft",
    "Replace a draft whole, with a definition or an XLSForm workbook (audited; 409 once published)",
    params=(SURVEY_ID, VERSION, ETAG),
    permission="survey.manage",
    survey_param="survey_id",
    body="SurveyAuthoring_draft",
    uploads=(XLSX,),
    answers=(Answer(200, "The draft", "AuthoredVersionDetail"),),
    errors=VERSION_ERRORS,
)
def replace_survey_draft(principal: Principal, survey_id: str, version: str) -> Response:
    from chalicelib import wiring

    if _is_xlsform():
        definition, source = _definition_sent(survey_id)
        etag = request.query("etag") or ""
    else:
        body = _body("draft", DEFINITION_MAX_BYTES)
        definition, source, etag = body["definition"], "json", body["etag"]
    saved = wiring.authoring_service().replace_draft(principal, survey_id, int(version), definition, etag, source)
    return _version_answer(saved)


@authoring_api.route(
    "/admin/api/surveys/{survey_id}/versions/{version}/publish", methods=["POST"], content_types=ANY, cors=True
)
@api(
    "publishSurveyVersion",
    "Publish a draft (every text in every language, a valid definition); earlier versions close after a grace period",
    params=(SURVEY_ID, VERSION),
    permission="survey.manage",
    survey_param="survey_id",
    body="SurveyAuthoring_publish",
    answers=(Answer(200, "Published", "AuthoredVersionDetail"),),
    errors=VERSION_ERRORS,
)
def publish_survey_version(principal: Principal, survey_id: str, version: str) -> Response:
    from chalicelib import wiring

    body = _body("publish")
    published = wiring.authoring_service().publish(
        principal, survey_id, int(version), body["etag"], body.get("grace_hours")
    )
    return _version_answer(published)


@authoring_api.route(
    "/admin/api/surveys/{survey_id}/versions/{version}/schedule", methods=["PUT"], content_types=ANY, cors=True
)
@api(
    "scheduleSurveyVersion",
    "Set when a version accepts answers (opens_at, closes_at; audited)",
    params=(SURVEY_ID, VERSION),
    permission="survey.manage",
    survey_param="survey_id",
    body="SurveyAuthoring_schedule",
    answers=(Answer(200, "Scheduled", "AuthoredVersionDetail"),),
    errors=VERSION_ERRORS,
)
def schedule_survey_version(principal: Principal, survey_id: str, version: str) -> Response:
    from chalicelib import wiring

    body = _body("schedule")
    saved = wiring.authoring_service().schedule(
        principal, survey_id, int(version), body["etag"], body["opens_at"], body["closes_at"]
    )
    return _version_answer(saved)


@authoring_api.route(
    "/admin/api/surveys/{survey_id}/versions/{version}/close", methods=["POST"], content_types=ANY, cors=True
)
@api(
    "closeSurveyVersion",
    "Close a published version now, for good (the reason is audited)",
    params=(SURVEY_ID, VERSION),
    permission="survey.manage",
    survey_param="survey_id",
    body="SurveyAuthoring_close",
    answers=(Answer(200, "Closed", "AuthoredVersionDetail"),),
    errors=VERSION_ERRORS,
)
def close_survey_version(principal: Principal, survey_id: str, version: str) -> Response:
    from chalicelib import wiring

    body = _body("close")
    closed = wiring.authoring_service().close(principal, survey_id, int(version), body["etag"], body["reason"])
    return _version_answer(closed)


@authoring_api.route("/admin/api/surveys/{survey_id}/versions/{version}/xlsform", methods=["GET"])
@api(
    "exportSurveyXlsForm",
    "A version as an XLSForm workbook (send an Accept header that allows it, e.g. */*)",
    params=(SURVEY_ID, VERSION),
    permission="survey.manage",
    survey_param="survey_id",
    answers=(Answer(200, "The workbook", media=XLSX),),
    errors=(404,),
)
def export_survey_xlsform(principal: Principal, survey_id: str, version: str) -> Response:
    from chalicelib import wiring
    from chalicelib.domain.xlsform import write_xlsform

    found = wiring.authoring_service().version(principal, survey_id, int(version))
    return xlsform_download(write_xlsform(found.definition), f"{survey_id}-v{found.version}.xlsx")


# --- helpers (shared with the console's pages) ------------------------------------------------------
def xlsform_download(data: bytes, filename: str) -> Response:
    """A workbook as a download: a binary type of the app (API Gateway base64-encodes it in and out)."""
    headers: dict[str, str | list[str]] = {
        "Content-Type": XLSX,
        "Content-Disposition": f'attachment; filename="{filename}"',
        **SECURITY_HEADERS,
        **NO_STORE,
    }
    return Response(body=data, status_code=200, headers=headers)


def read_xlsform(data: bytes, survey_id: str | None = None) -> dict[str, Any]:
    """An uploaded workbook as a definition; its problems are a 422 listing sheet, row and column of each."""
    from chalicelib.domain.errors import BodyTooLarge
    from chalicelib.domain.xlsform import read_xlsform as read

    if len(data) > XLSFORM_MAX_BYTES:
        raise BodyTooLarge("Tệp XLSForm quá lớn (tối đa 4 MB).", "The XLSForm file is larger than 4 MB.")
    return read(data, survey_id=survey_id)


def _is_xlsform() -> bool:
    return (request.header("content-type") or "").split(";")[0].strip().lower() == XLSX


def _definition_sent(survey_id: str | None = None) -> tuple[dict[str, Any], str]:
    """The body as a definition: an XLSForm workbook, or JSON (checked whole by the service)."""
    from chalicelib.domain.submissions import parse_json_object

    if _is_xlsform():
        return read_xlsform(request.raw_body(), survey_id), "xlsform"
    return parse_json_object(request.raw_body(), request.header("content-type") or "", DEFINITION_MAX_BYTES), "json"


def _body(part: str, max_bytes: int = 16 * 1024) -> dict[str, Any]:
    from chalicelib.api.bodies import json_body

    return json_body(request.raw_body(), request.header("content-type"), "survey-authoring", part, max_bytes)


def _version_answer(record: SurveyVersion, status: int = 200) -> Response:
    from chalicelib.domain.clock import utcnow

    body = {"survey_id": record.survey_id, "version": record.summary(utcnow()), "definition": record.definition}
    return json_response(body, status=status, headers=NO_STORE)
