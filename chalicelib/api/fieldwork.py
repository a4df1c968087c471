"""Direct surveys in the field (docs/FIELDWORK.md): assignments and progress for field managers (bearer token,
`fieldwork.manage`), and the enumerators' device API (a device token from `POST /field/api/device`).

The device routes are declared without a permission because their credential is the device token, which
the service verifies (401 `field_token_invalid` / `field_token_expired`); everything else is the usual guard.
Rules and storage: chalicelib/domain/fieldwork.py, chalicelib/domain/field_progress.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api import request
from chalicelib.api.http import json_response
from chalicelib.api.operations import Answer, Param, api
from chalicelib.api.params import USERNAME
from chalicelib.api.sampling import SAMPLE_ID, YEAR

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

fieldwork_api = Blueprint(__name__)
NO_STORE = {"Cache-Control": "no-store"}
VISIT_MAX_BYTES = 256 * 1024  # answers, per-question times and a long note; a survey is ~100 questions
PROVINCE = Param(
    "province",
    "query",
    "A province code (01): that province's villages and enumerators; without it the national view by province",
    {"type": "string", "pattern": "^[0-9]{2}$"},
)
DEVICE_NOTE = " Credential: `Authorization: Bearer <device token>` from POST /field/api/device."


@fieldwork_api.route("/admin/api/fieldwork/{year}/{sample_id}/assignments", methods=["GET"], cors=True)
@api(
    "listFieldAssignments",
    "Enumerators' assignments in a sample (a province's field manager sees that province's)",
    params=(YEAR, SAMPLE_ID),
    permission="fieldwork.manage",
    own=True,
    answers=(Answer(200, "The assignments", "FieldAssignments"),),
    errors=(404,),
)
def list_field_assignments(principal: Principal, year: str, sample_id: str) -> Response:
    from chalicelib import wiring

    return json_response(wiring.fieldwork_service().assignments(principal, int(year), sample_id), headers=NO_STORE)


@fieldwork_api.route("/admin/api/fieldwork/{year}/{sample_id}/assignments/{username}", methods=["PUT"], cors=True)
@api(
    "assignEnumerator",
    "Set an enumerator's villages in a sample for one survey (replaces the earlier ones; [] ends it; audited)",
    params=(YEAR, SAMPLE_ID, USERNAME),
    permission="fieldwork.manage",
    own=True,
    body="FieldAssignment",
    answers=(Answer(200, "The assignment with its household slots", "FieldAssignmentDetail"),),
    errors=(404, 413, 415, 422),
)
def assign_enumerator(principal: Principal, year: str, sample_id: str, username: str) -> Response:
    from chalicelib import wiring
    from chalicelib.domain.submissions import parse_json_object

    body = parse_json_object(request.raw_body(), request.header("content-type") or "", 64 * 1024)
    assigned = wiring.fieldwork_service().assign(principal, int(year), sample_id, username, body)
    return json_response(assigned, headers=NO_STORE)


@fieldwork_api.route("/admin/api/fieldwork/{year}/{sample_id}/progress", methods=["GET"], cors=True)
@api(
    "getFieldProgress",
    "Field progress (completed, replaced, refused, not at home, vacant): nationally by province, or one "
    "province's villages and enumerators",
    params=(YEAR, SAMPLE_ID, PROVINCE),
    permission="fieldwork.manage",
    own=True,
    answers=(Answer(200, "The counters", "FieldProgress"),),
)
def get_field_progress(principal: Principal, year: str, sample_id: str) -> Response:
    from chalicelib import wiring
    from chalicelib.auth.principal import Forbidden

    province = request.query("province")
    if province is None and not principal.can("fieldwork.manage", None):
        agency = principal.agency or ""
        province = agency[1:] if agency.startswith("P") else None  # a province's manager: their province
    if province is None and not principal.can("fieldwork.manage", None):
        raise Forbidden()
    if province is not None and not principal.can("fieldwork.manage", f"P{province}"):
        raise Forbidden(field="province")
    progress = wiring.progress_service().progress(int(year), sample_id, province)
    return json_response(progress, headers=NO_STORE)


@fieldwork_api.route("/field/api/device", methods=["POST"], cors=True)
@api(
    "linkFieldDevice",
    "Link a device: a device token for the signed-in enumerator (30 days; an access change ends it sooner)",
    permission="field.collect",
    own=True,
    answers=(Answer(201, "The device token", "FieldDeviceLink"),),
)
def link_field_device(principal: Principal) -> Response:
    from chalicelib import wiring

    return json_response(wiring.field_device_tokens().issue(principal), status=201, headers=NO_STORE)


@fieldwork_api.route("/field/api/package", methods=["GET"], cors=True)
@api(
    "getFieldPackage",
    "The enumerator's assignments (villages, household slots) and survey versions, for offline work." + DEVICE_NOTE,
    answers=(Answer(200, "The package", "FieldPackage"),),
    errors=(401,),
)
def get_field_package() -> Response:
    from chalicelib import wiring

    device = wiring.field_device_tokens().verify(_device_token())
    return json_response(wiring.fieldwork_service().package(device), headers=NO_STORE)


@fieldwork_api.route("/field/api/visits", methods=["POST"], cors=True)
@api(
    "recordFieldVisit",
    "One household visit (completed with answers, refused, not at home, vacant), exactly once by its ULID: "
    "201 stored, 200 the same again, 409 the id with other content. A completed interview names its respondent "
    "(`respondent`: the household's adults and the one the draw chose, docs/FIELDWORK.md); 400 "
    "`invalid_submission` at `/respondent` if missing, at `/respondent/selected` if another adult was named."
    + DEVICE_NOTE,
    body="FieldVisit",
    answers=(Answer(201, "Stored", "FieldVisitReceipt"), Answer(200, "Already stored", "FieldVisitReceipt")),
    errors=(401, 403, 404, 409, 413, 415),
)
def record_field_visit() -> Response:
    from chalicelib import wiring
    from chalicelib.domain.submissions import parse_json_object

    device = wiring.field_device_tokens().verify(_device_token())
    body = parse_json_object(request.raw_body(), request.header("content-type") or "", VISIT_MAX_BYTES)
    receipt = wiring.fieldwork_service().record_visit(device, body)
    return json_response(receipt.to_dict(), status=201 if receipt.created else 200, headers=NO_STORE)


def _device_token() -> str | None:
    header = request.header("authorization") or ""
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None
