"""Officials' sampling API for direct household surveys (bearer token; `sampling.manage`, national only).

A year's frames are uploaded as the file itself (CSV or XLSX body); a draw takes a JSON design and keeps
an immutable sample (a redraw is a new sample id); samples are read as JSON or exported as CSV / XLSX.
Storage and rules: chalicelib/domain/sampling_service.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api import request
from chalicelib.api.authoring import XLSX
from chalicelib.api.http import SECURITY_HEADERS, json_response
from chalicelib.api.operations import Answer, Param, api

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

sampling_api = Blueprint(__name__)
ANY = ["*/*"]
NO_STORE = {"Cache-Control": "no-store"}
CSV = "text/csv"
FRAME_MAX_BYTES = 8 * 1024 * 1024  # 200,000 rows; API Gateway's own limit is 10 MB
YEAR = Param("year", "path", "Survey year, e.g. 2026", {"type": "string", "pattern": "^20[0-9]{2}$"})
SAMPLE_ID = Param("sample_id", "path", "A sample's id (ULID)", {"type": "string", "pattern": "^[0-9A-Z]{26}$"})
FILENAME = Param(
    "filename",
    "query",
    "The frame file's name as the analyst saved it (recorded; the extension must match the body's type)",
    {"type": "string", "maxLength": 200},
)
FORMAT = Param("format", "query", "csv (default) or xlsx", {"type": "string", "enum": ["csv", "xlsx"]})


@sampling_api.route("/admin/api/sampling/{year}", methods=["GET"], cors=True)
@api(
    "getSamplingYear",
    "A survey year's sampling frames and drawn samples, newest first",
    params=(YEAR,),
    permission="sampling.manage",
    answers=(Answer(200, "Frames and samples", "SamplingYear"),),
)
def get_sampling_year(_principal: Principal, year: str) -> Response:
    from chalicelib import wiring

    return json_response(wiring.sampling_service().overview(int(year)), headers=NO_STORE)


@sampling_api.route("/admin/api/sampling/{year}/frames", methods=["POST"], content_types=ANY, cors=True)
@api(
    "uploadSamplingFrame",
    "Upload a sampling frame (CSV in UTF-8 or XLSX, the file as the body); 422 lists every row/column problem (audited)",
    params=(YEAR, FILENAME),
    permission="sampling.manage",
    uploads=(CSV, XLSX),
    answers=(Answer(201, "The frame kept", "SamplingFrame"),),
    errors=(413, 415, 422),
)
def upload_sampling_frame(principal: Principal, year: str) -> Response:
    from chalicelib import wiring

    data, filename = frame_sent()
    summary = wiring.sampling_service().upload_frame(principal, int(year), data, filename)
    return json_response(summary, status=201, headers=NO_STORE)


@sampling_api.route("/admin/api/sampling/{year}/samples", methods=["POST"], content_types=ANY, cors=True)
@api(
    "drawSample",
    "Draw a new household sample from a frame of the year (design and seed recorded; audited)",
    params=(YEAR,),
    permission="sampling.manage",
    body="Sampling_design",
    answers=(Answer(201, "The sample, with every unit's probabilities, π and weight", "Sample"),),
    errors=(404, 413, 415, 422),
)
def draw_sample(principal: Principal, year: str) -> Response:
    from chalicelib import wiring
    from chalicelib.api.bodies import json_body

    body = json_body(request.raw_body(), request.header("content-type"), "sampling", "design")
    drawn = wiring.sampling_service().draw(principal, int(year), body)
    return json_response(drawn, status=201, headers=NO_STORE)


@sampling_api.route("/admin/api/sampling/{year}/samples/{sample_id}", methods=["GET"], cors=True)
@api(
    "getSample",
    "A drawn sample: design, seed, every commune, village and household slot with π and weight",
    params=(YEAR, SAMPLE_ID),
    permission="sampling.manage",
    answers=(Answer(200, "The sample", "Sample"),),
    errors=(404,),
)
def get_sample(_principal: Principal, year: str, sample_id: str) -> Response:
    from chalicelib import wiring

    return json_response(wiring.sampling_service().sample(int(year), sample_id), headers=NO_STORE)


@sampling_api.route("/admin/api/sampling/{year}/samples/{sample_id}/export", methods=["GET"])
@api(
    "exportSample",
    "A sample for the field teams: CSV (UTF-8 with BOM), or XLSX with the design sheet (send Accept */* for XLSX)",
    params=(YEAR, SAMPLE_ID, FORMAT),
    permission="sampling.manage",
    answers=(Answer(200, "The sample as CSV", media=CSV), Answer(200, "The sample as XLSX", media=XLSX)),
    errors=(404,),
)
def export_sample(_principal: Principal, year: str, sample_id: str) -> Response:
    from chalicelib import wiring

    fmt = request.query("format") or "csv"
    return sample_download(*wiring.sampling_service().export(int(year), sample_id, fmt))


# --- helpers (shared with the console's page) -----------------------------------------------------
def sample_download(data: bytes, media: str, filename: str) -> Response:
    headers: dict[str, str | list[str]] = {
        "Content-Type": media,
        "Content-Disposition": f'attachment; filename="{filename}"',
        **SECURITY_HEADERS,
        **NO_STORE,
    }
    return Response(body=data if media == XLSX else data.decode("utf-8"), status_code=200, headers=headers)


def check_frame_size(data: bytes) -> None:
    from chalicelib.domain.errors import BodyTooLarge

    if len(data) > FRAME_MAX_BYTES:
        raise BodyTooLarge("Tệp khung mẫu quá lớn (tối đa 8 MB).", "The frame file is larger than 8 MB.")


def frame_sent() -> tuple[bytes, str]:
    """The body as a frame file and its name: the media type says CSV or XLSX."""
    from chalicelib.domain.errors import UnsupportedMediaType

    media = (request.header("content-type") or "").split(";")[0].strip().lower()
    extension = {CSV: ".csv", XLSX: ".xlsx"}.get(media)
    if extension is None:
        raise UnsupportedMediaType(
            "Hãy gửi khung mẫu dạng text/csv hoặc tệp XLSX.",
            f"Send the frame as {CSV} or {XLSX}.",
            field="content-type",
        )
    data = request.raw_body()
    check_frame_size(data)
    name = (request.query("filename") or "").strip() or f"frame{extension}"
    if not name.lower().endswith(extension):
        name += extension
    return data, name
