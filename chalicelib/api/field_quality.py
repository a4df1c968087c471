"""Officials' API for the quality of direct surveys (docs/FIELDWORK.md, "Re-check, risk and coding").

Re-checks (phúc tra) and the enumerators' risk: `fieldwork.manage`; a national grant sees every province,
a province's manager (agency grant P01) the interviews of that province only. The re-check form is one per
survey version: a national grant sets it. Coding of open answers: `coding.manage` (national). Every change
is audited before it is stored; an interview's stored answers are never changed.
Rules: chalicelib/domain/field_quality_desk.py, field_quality.py, field_risk.py, field_recheck.py, coding.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api import request
from chalicelib.api.http import json_response
from chalicelib.api.operations import Answer, Param, api
from chalicelib.api.params import SURVEY_ID

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

field_quality_api = Blueprint(__name__)
ANY = ["*/*"]
NO_STORE = {"Cache-Control": "no-store"}
BODY_MAX_BYTES = 256 * 1024  # a rule listing up to 5,000 response ids
VERSION = Param("version", "path", "Survey version (1, 2, ...)", {"type": "string", "pattern": "^[1-9][0-9]{0,8}$"})
RESPONSE_ID = Param(
    "response_id",
    "path",
    "An interview's response id (ULID)",
    {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{26}$"},
)
QUESTION_ID = Param(
    "question_id",
    "path",
    "An open (text) question of the survey version, e.g. q10_other",
    {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{0,63}$"},
)
RECHECKS = "/admin/api/fieldwork/rechecks/{survey_id}/{version}"
CODING = "/admin/api/coding/{survey_id}/{version}/{question_id}"


def _body(part: str) -> dict[str, Any]:
    from chalicelib.api.bodies import json_body

    return json_body(request.raw_body(), request.header("content-type"), "field-quality", part, BODY_MAX_BYTES)


# --- re-check and risk ----------------------------------------------------------------------------
RISK_PROVINCE = Param(
    "province",
    "query",
    "A province code (01): the enumerators who interviewed there (a province's manager: only their own)",
    {"type": "string", "pattern": "^[0-9]{2}$"},
)


@field_quality_api.route(RECHECKS, methods=["GET"], cors=True)
@api(
    "getFieldRechecks",
    "A survey version's re-check form, drawn households and re-checks recorded (a province's manager: theirs)",
    params=(SURVEY_ID, VERSION),
    permission="fieldwork.manage",
    own=True,
    answers=(Answer(200, "The re-checks", "FieldRechecks"),),
    errors=(404,),
)
def get_field_rechecks(principal: Principal, survey_id: str, version: str) -> Response:
    from chalicelib import wiring

    desk = wiring.field_quality_service()
    return json_response(desk.rechecks(principal, principal.agency, survey_id, int(version)), headers=NO_STORE)


@field_quality_api.route(RECHECKS + "/form", methods=["PUT"], content_types=ANY, cors=True)
@api(
    "setRecheckForm",
    "Choose the closed questions a re-check asks again (one form per survey version; national grant; audited)",
    params=(SURVEY_ID, VERSION),
    permission="fieldwork.manage",
    own=True,
    body="FieldQuality_recheck_form",
    answers=(Answer(200, "The form", "RecheckForm"),),
    errors=(404, 413, 415),
)
def set_recheck_form(principal: Principal, survey_id: str, version: str) -> Response:
    from chalicelib import wiring

    body = _body("recheck_form")
    form = wiring.field_quality_service().set_recheck_form(principal, survey_id, int(version), body)
    return json_response(form, headers=NO_STORE)


@field_quality_api.route(RECHECKS + "/draws", methods=["POST"], content_types=ANY, cors=True)
@api(
    "drawRechecks",
    "Draw (or extend) the re-check sample: a share of each enumerator's completed interviews, by a recorded "
    "seed; interviews drawn before stay drawn (a province's manager: their province; audited)",
    params=(SURVEY_ID, VERSION),
    permission="fieldwork.manage",
    own=True,
    body="FieldQuality_draw",
    answers=(Answer(200, "The whole sample in the caller's scope", "RecheckDraws"),),
    errors=(404, 413, 415),
)
def draw_rechecks(principal: Principal, survey_id: str, version: str) -> Response:
    from chalicelib import wiring

    body = _body("draw")
    drawn = wiring.field_quality_service().draw(principal, principal.agency, survey_id, int(version), body)
    return json_response(drawn, headers=NO_STORE)


@field_quality_api.route(RECHECKS + "/results/{response_id}", methods=["POST"], content_types=ANY, cors=True)
@api(
    "recordRecheck",
    "Record a drawn household's re-check and compare it with the interview, question by question (the "
    "interview is never changed; a later re-check of it counts instead; audited)",
    params=(SURVEY_ID, VERSION, RESPONSE_ID),
    permission="fieldwork.manage",
    own=True,
    body="FieldQuality_recheck",
    answers=(Answer(201, "The comparison", "RecheckResult"),),
    errors=(404, 409, 413, 415),
)
def record_recheck(principal: Principal, survey_id: str, version: str, response_id: str) -> Response:
    from chalicelib import wiring

    body = _body("recheck")
    desk = wiring.field_quality_service()
    result = desk.record(principal, principal.agency, survey_id, int(version), response_id, body)
    return json_response(result, status=201, headers=NO_STORE)


@field_quality_api.route("/admin/api/fieldwork/risk/{survey_id}/{version}", methods=["GET"], cors=True)
@api(
    "getEnumeratorRisk",
    "Each enumerator's risk score with its reasons (figures, Vietnamese first), highest first; a province's "
    "manager sees the enumerators who interviewed in their province, scored with the survey's peers",
    params=(SURVEY_ID, VERSION, RISK_PROVINCE),
    permission="fieldwork.manage",
    own=True,
    answers=(Answer(200, "The enumerators' risk", "EnumeratorRisks"),),
    errors=(404,),
)
def get_enumerator_risk(principal: Principal, survey_id: str, version: str) -> Response:
    from chalicelib import wiring

    desk = wiring.field_quality_service()
    risk = desk.risk(principal, principal.agency, survey_id, int(version), request.query("province"))
    return json_response(risk, headers=NO_STORE)


# --- coding ---------------------------------------------------------------------------------------
@field_quality_api.route(CODING, methods=["GET"], cors=True)
@api(
    "getCoding",
    "An open question's code frame, counts per code, and every answer as answered with its current code and history",
    params=(SURVEY_ID, VERSION, QUESTION_ID),
    permission="coding.manage",
    answers=(Answer(200, "The coding", "Coding"),),
    errors=(404,),
)
def get_coding(_principal: Principal, survey_id: str, version: str, question_id: str) -> Response:
    from chalicelib import wiring

    coding = wiring.field_quality_service().coding(survey_id, int(version), question_id)
    return json_response(coding, headers=NO_STORE)


@field_quality_api.route(CODING + "/frame", methods=["PUT"], content_types=ANY, cors=True)
@api(
    "saveCodeFrame",
    "Define an open question's categories: code, labels, keywords or a pattern (replaces the frame; audited)",
    params=(SURVEY_ID, VERSION, QUESTION_ID),
    permission="coding.manage",
    body="FieldQuality_code_frame",
    answers=(Answer(200, "The frame", "CodeFrame"),),
    errors=(404, 413, 415),
)
def save_code_frame(principal: Principal, survey_id: str, version: str, question_id: str) -> Response:
    from chalicelib import wiring

    body = _body("code_frame")
    frame = wiring.field_quality_service().save_frame(principal, survey_id, int(version), question_id, body)
    return json_response(frame, headers=NO_STORE)


@field_quality_api.route(CODING + "/apply", methods=["POST"], content_types=ANY, cors=True)
@api(
    "applyCoding",
    "Code answers in bulk: a rule (keywords, a pattern or listed answers -> a code) or `auto` (every "
    "category's keywords over the uncoded answers); the reason is required and kept with each change (audited)",
    params=(SURVEY_ID, VERSION, QUESTION_ID),
    permission="coding.manage",
    body="FieldQuality_coding_rule",
    answers=(Answer(200, "The changes made", "CodingChanges"),),
    errors=(404, 409, 413, 415),
)
def apply_coding(principal: Principal, survey_id: str, version: str, question_id: str) -> Response:
    from chalicelib import wiring

    body = _body("coding_rule")
    changes = wiring.field_quality_service().apply(principal, survey_id, int(version), question_id, body)
    return json_response(changes, headers=NO_STORE)


@field_quality_api.route(CODING + "/answers/{response_id}", methods=["POST"], content_types=ANY, cors=True)
@api(
    "recodeAnswer",
    "Recode one answer (or correct its cleaned text) with a reason; the earlier codes stay in its history (audited)",
    params=(SURVEY_ID, VERSION, QUESTION_ID, RESPONSE_ID),
    permission="coding.manage",
    body="FieldQuality_recode",
    answers=(Answer(201, "The change", "CodingChange"),),
    errors=(404, 409, 413, 415),
)
def recode_answer(principal: Principal, survey_id: str, version: str, question_id: str, response_id: str) -> Response:
    from chalicelib import wiring

    body = _body("recode")
    desk = wiring.field_quality_service()
    change = desk.recode(principal, survey_id, int(version), question_id, response_id, body)
    return json_response(change, status=201, headers=NO_STORE)
