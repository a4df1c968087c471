"""Clerks' paper-form entry, JSON API for third-party tools (bearer token): batches, double entry, resolve, import.

Writes need `response.enter` (data_entry, enumerator) on the agency in the path; reading a batch and resolving a
mismatch need `paper.review` (a third clerk of the agency, or a national survey manager). A clerk's own agency
bounds everything: P01's clerks key Hà Nội's forms only. Rules: chalicelib/domain/paper.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api import request
from chalicelib.api.http import json_response
from chalicelib.api.operations import Answer, Param, api
from chalicelib.api.params import AGENCY

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

paper_api = Blueprint(__name__)
ANY = ["*/*"]
NO_STORE = {"Cache-Control": "no-store"}
CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
BATCH = Param(
    "batch",
    "path",
    "The batch number written on the bundle",
    {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9-]{0,31}$"},
)
FORM_NUMBER = Param(
    "form_number",
    "path",
    "The form's number as printed",
    {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9-]{0,23}$"},
)
PARTIAL = Param(
    "partial",
    "query",
    "true: import the good rows and report the bad; otherwise any bad row refuses the whole file (nothing imported)",
    {"type": "string", "enum": ["true", "false"]},
)
FILENAME = Param(
    "filename",
    "query",
    "The file's name as the clerk saved it (recorded in the report)",
    {"type": "string", "maxLength": 200},
)
BASE = "/admin/api/paper/{agency}/batches"


@paper_api.route(BASE, methods=["GET"], cors=True)
@api(
    "listPaperBatches",
    "An agency's paper-form batches, newest first",
    params=(AGENCY,),
    permission="paper.review",
    agency_param="agency",
    answers=(Answer(200, "The batches", "PaperBatches"),),
)
def list_paper_batches(_principal: Principal, agency: str) -> Response:
    from chalicelib import wiring

    batches = wiring.paper_service().batches(agency)
    return json_response({"agency": agency, "batches": batches}, headers=NO_STORE)


@paper_api.route(BASE, methods=["POST"], content_types=ANY, cors=True)
@api(
    "openPaperBatch",
    "Open a batch of paper forms: its number, survey version and province (audited)",
    params=(AGENCY,),
    permission="response.enter",
    agency_param="agency",
    body="Paper_batch",
    answers=(Answer(201, "The batch", "PaperBatch"),),
    errors=(404, 409, 413, 415, 422),
)
def open_paper_batch(principal: Principal, agency: str) -> Response:
    from chalicelib import wiring
    from chalicelib.api.bodies import json_body

    body = json_body(request.raw_body(), request.header("content-type"), "paper", "batch")
    return json_response(wiring.paper_service().open_batch(principal, agency, body), status=201, headers=NO_STORE)


@paper_api.route(BASE + "/{batch}", methods=["GET"], cors=True)
@api(
    "getPaperBatch",
    "A batch and its forms' states (no answers: the second clerk keys blind); the resolve queue is state mismatch",
    params=(AGENCY, BATCH),
    permission="paper.review",
    agency_param="agency",
    answers=(Answer(200, "The batch", "PaperBatchDetail"),),
    errors=(404,),
)
def get_paper_batch(_principal: Principal, agency: str, batch: str) -> Response:
    from chalicelib import wiring

    return json_response(wiring.paper_service().batch_view(agency, batch), headers=NO_STORE)


@paper_api.route(BASE + "/{batch}/forms", methods=["POST"], content_types=ANY, cors=True)
@api(
    "enterPaperForm",
    "Key one form: the first entry, or the second by another clerk (equal: the response is created; different: "
    "the form goes to the resolve queue). 409 paper_same_clerk, paper_form_complete (audited)",
    params=(AGENCY, BATCH),
    permission="response.enter",
    agency_param="agency",
    body="Paper_entry",
    answers=(
        Answer(201, "The entry stored", "PaperEntryOutcome"),
        Answer(200, "The same entry again", "PaperEntryOutcome"),
    ),
    errors=(404, 409, 413, 415, 422),
)
def enter_paper_form(principal: Principal, agency: str, batch: str) -> Response:
    from chalicelib import wiring
    from chalicelib.api.bodies import json_body

    body = json_body(request.raw_body(), request.header("content-type"), "paper", "entry")
    outcome = wiring.paper_service().enter(principal, agency, batch, body)
    return json_response(outcome, status=201 if outcome["created"] else 200, headers=NO_STORE)


@paper_api.route(BASE + "/{batch}/forms/{form_number}", methods=["GET"], cors=True)
@api(
    "getPaperForm",
    "A form's state; once both entries exist, both side by side with the fields that differ",
    params=(AGENCY, BATCH, FORM_NUMBER),
    permission="paper.review",
    agency_param="agency",
    answers=(Answer(200, "The form", "PaperForm"),),
    errors=(404,),
)
def get_paper_form(principal: Principal, agency: str, batch: str, form_number: str) -> Response:
    from chalicelib import wiring

    return json_response(wiring.paper_service().form_view(principal, agency, batch, form_number), headers=NO_STORE)


@paper_api.route(BASE + "/{batch}/forms/{form_number}/resolution", methods=["POST"], content_types=ANY, cors=True)
@api(
    "resolvePaperForm",
    "A third clerk's final values for a form whose two entries differ: the response is created (audited)",
    params=(AGENCY, BATCH, FORM_NUMBER),
    permission="paper.review",
    agency_param="agency",
    body="Paper_resolution",
    answers=(Answer(201, "Resolved", "PaperFormState"),),
    errors=(404, 409, 413, 415, 422),
)
def resolve_paper_form(principal: Principal, agency: str, batch: str, form_number: str) -> Response:
    from chalicelib import wiring
    from chalicelib.api.bodies import json_body

    body = json_body(request.raw_body(), request.header("content-type"), "paper", "resolution")
    outcome = wiring.paper_service().resolve(principal, agency, batch, form_number, body)
    return json_response(outcome, status=201, headers=NO_STORE)


@paper_api.route(BASE + "/{batch}/imports", methods=["POST"], content_types=ANY, cors=True)
@api(
    "importPaperForms",
    "Import forms from CSV (UTF-8) or XLSX, the file as the body: header form_number + question ids, a form per row, "
    "each row an entry by the caller. 422 paper_import_refused lists every row, column and reason; nothing is "
    "imported unless partial=true (audited per form)",
    params=(AGENCY, BATCH, PARTIAL, FILENAME),
    permission="response.enter",
    agency_param="agency",
    uploads=(CSV, XLSX),
    answers=(Answer(200, "The import report", "PaperImport"),),
    errors=(404, 409, 413, 415, 422),
)
def import_paper_forms(principal: Principal, agency: str, batch: str) -> Response:
    from chalicelib import wiring

    data, filename = file_sent()
    partial = request.query("partial") == "true"
    report = wiring.paper_service().import_file(principal, agency, batch, data, filename, partial)
    return json_response(report, headers=NO_STORE)


def file_sent() -> tuple[bytes, str]:
    """The body as a CSV or XLSX file and its name; the media type decides which."""
    from chalicelib.domain.errors import BodyTooLarge, UnsupportedMediaType
    from chalicelib.domain.paper import IMPORT_MAX_BYTES

    media = (request.header("content-type") or "").split(";")[0].strip().lower()
    extension = {CSV: ".csv", XLSX: ".xlsx"}.get(media)
    if extension is None:
        raise UnsupportedMediaType(
            "Hãy gửi tệp dạng text/csv hoặc XLSX.", f"Send the file as {CSV} or {XLSX}.", field="content-type"
        )
    data = request.raw_body()
    if len(data) > IMPORT_MAX_BYTES:
        raise BodyTooLarge("Tệp quá lớn (tối đa 4 MB).", "The file is larger than 4 MB.")
    name = (request.query("filename") or "").strip() or f"phieu{extension}"
    if not name.lower().endswith(extension):
        name += extension
    return data, name
