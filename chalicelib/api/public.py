"""The public JSON API: surveys and their contracts, submissions, live results, places, agencies, my response."""

from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.api import request
from chalicelib.api.http import json_response
from chalicelib.api.operations import Answer, Param, api
from chalicelib.api.params import GEOGRAPHY, INCLUDE_FLAGGED, RECEIPT, SCOPE, SURVEY_ID, VERSION

public_api = Blueprint(__name__)
ANY = ["*/*"]  # content types are checked by the service, so a wrong one gets our 415, not Chalice's


@public_api.route("/openapi.json", methods=["GET"], cors=True)
@api("openapi", "This document", answers=(Answer(200, "OpenAPI 3.1", "OpenApiDocument"),))
def openapi() -> Response:
    from chalicelib.api.openapi import document

    return json_response(document(request.current_app_routes()))


@public_api.route("/surveys", methods=["GET"], cors=True)
@api("listSurveys", "Surveys and their current versions", answers=(Answer(200, "Survey list", "SurveyList"),))
def list_surveys() -> Response:
    from chalicelib import wiring

    return json_response(wiring.catalog_service().survey_list())


@public_api.route("/surveys/{survey_id}", methods=["GET"], cors=True)
@api(
    "getSurvey",
    "A survey definition and its compiled submission schema",
    params=(SURVEY_ID, VERSION),
    answers=(Answer(200, "Definition and schema", "SurveyContract"),),
    errors=(404, 422),
)
def get_survey(survey_id: str) -> Response:
    from chalicelib import wiring

    contract = wiring.catalog_service().contract(survey_id, request.query("version"))
    return json_response(contract, headers={"Cache-Control": "max-age=60"})


@public_api.route("/surveys/{survey_id}/responses", methods=["POST"], content_types=ANY, cors=True)
@api(
    "submitResponse",
    "Submit a response; a retry with the same id returns the same receipt. Agency, location and the widget, qr "
    "and link channels are taken only from a valid `attribution` token (see the description of the API)",
    params=(SURVEY_ID,),
    body="Submission",
    answers=(
        Answer(201, "Stored", "Receipt"),
        Answer(200, "Already stored (an honest retry): the same receipt", "Receipt"),
    ),
    errors=(403, 404, 409, 413, 415, 422),
)
def submit_response(survey_id: str) -> Response:
    from chalicelib import wiring

    service = wiring.submission_service()
    body = service.parse_body(request.raw_body(), request.header("content-type"))
    receipt = service.submit(survey_id, body, request.client())
    return json_response(receipt.to_dict(), status=201 if receipt.created else 200)


@public_api.route("/surveys/{survey_id}/results", methods=["GET"], cors=True)
@api(
    "getResults",
    "Live results from the aggregates (never a scan of responses)",
    params=(SURVEY_ID, VERSION, SCOPE, INCLUDE_FLAGGED),
    answers=(Answer(200, "Indices and distributions", "Results"),),
    errors=(404, 422),
)
def get_results(survey_id: str) -> Response:
    from chalicelib import wiring

    _, results = wiring.results_service().results(
        survey_id, request.query("scope"), request.flag("include_flagged"), request.query("version")
    )
    return json_response(results, headers={"Cache-Control": "max-age=5"})


@public_api.route("/geo/provinces", methods=["GET"], cors=True)
@api(
    "listProvinces",
    "Provinces of a geography version (default vn-2025: 34 provinces)",
    params=(GEOGRAPHY,),
    answers=(Answer(200, "Provinces", "Provinces"),),
)
def list_provinces() -> Response:
    from chalicelib import wiring

    provinces = wiring.catalog_service().provinces(request.query("geography"))
    return json_response(provinces, headers={"Cache-Control": "max-age=86400"})


@public_api.route("/geo/provinces/{code}/communes", methods=["GET"], cors=True)
@api(
    "listCommunes",
    "Communes of a province",
    params=(Param("code", "path", "Province code", {"type": "string", "pattern": "^[0-9]{2}$"}), GEOGRAPHY),
    answers=(Answer(200, "Communes", "Communes"),),
    errors=(404,),
)
def list_communes(code: str) -> Response:
    from chalicelib import wiring

    communes = wiring.catalog_service().communes(code, request.query("geography"))
    return json_response(communes, headers={"Cache-Control": "max-age=86400"})


@public_api.route("/agencies", methods=["GET"], cors=True)
@api(
    "listAgencies",
    "Agencies (ministries and provinces) in force on a day, or all with their successors",
    params=(
        Param("on", "query", "A day, YYYY-MM-DD (default today)", {"type": "string", "format": "date"}),
        Param("include_ended", "query", "1: every agency ever known, with validity dates", {"enum": ["0", "1"]}),
    ),
    answers=(Answer(200, "Agencies", "Agencies"),),
)
def list_agencies() -> Response:
    from chalicelib import wiring

    body = wiring.agency_directory().reference(request.query("on"), request.flag("include_ended"))
    return json_response(body, headers={"Cache-Control": "max-age=3600"})


@public_api.route("/responses/{receipt}", methods=["GET"], cors=True)
@api(
    "myResponse",
    "A citizen sees their own response by its receipt code (Decree 13/2023)",
    params=(RECEIPT,),
    answers=(Answer(200, "The response, its status, which identifiers are kept", "MyResponse"),),
    errors=(404,),
)
def my_response(receipt: str) -> Response:
    from chalicelib import wiring

    return json_response(wiring.privacy_service().view(receipt), headers={"Cache-Control": "no-store"})


@public_api.route("/responses/{receipt}/withdrawal", methods=["POST"], content_types=ANY, cors=True)
@api(
    "withdrawMyResponse",
    "A citizen withdraws their response: answers and identifiers deleted, counts removed",
    params=(RECEIPT,),
    answers=(Answer(200, "Withdrawn", "Withdrawn"),),
    errors=(404, 409),
)
def withdraw_my_response(receipt: str) -> Response:
    from chalicelib import wiring

    return json_response(wiring.privacy_service().withdraw(receipt), headers={"Cache-Control": "no-store"})
