"""The console's sampling page (session cookie; `sampling.manage`, national only): frames, the design, draws.

A frame is uploaded by a multipart form (its problems shown as a table of row, column and message); a draw
posts the design form; every sample of the year is listed with its CSV and XLSX downloads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api import request
from chalicelib.api.guard import form_field
from chalicelib.api.http import redirect
from chalicelib.api.operations import Param, console
from chalicelib.api.sampling import FORMAT, SAMPLE_ID, YEAR

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

sampling_pages = Blueprint(__name__)
ANY = ["*/*"]
Form = dict[str, list[str]]
REFUSED = (400, 404, 413, 415, 422)
YEAR_QUERY = Param(
    "year", "query", "Survey year (this year when absent)", {"type": "string", "pattern": "^20[0-9]{2}$"}
)
DONE = Param("done", "query", "What was just saved (shows a notice)", {"type": "string", "enum": ["frame", "sample"]})
NOTICES = {"frame": "Đã tải khung mẫu lên.", "sample": "Đã chọn mẫu mới."}


@sampling_pages.route("/admin/sampling", methods=["GET"])
@console(
    "adminSampling",
    "Sampling for direct surveys: the year's frames, the design form, the samples and their downloads",
    "sampling.manage",
    params=(YEAR_QUERY, DONE),
)
def admin_sampling(principal: Principal, token: str, _form: Form) -> Any:
    return _page(principal, token, _year(request.query("year")), notice=NOTICES.get(request.query("done") or "", ""))


@sampling_pages.route("/admin/sampling", methods=["POST"], content_types=ANY)
@console(
    "adminSamplingChange",
    "Upload a sampling frame (multipart) or draw a sample from the design form (audited)",
    "sampling.manage",
    form=True,
    upload="frame",
)
def admin_sampling_change(principal: Principal, token: str, form: Form) -> Any:
    from chalicelib import wiring
    from chalicelib.api import guard
    from chalicelib.api.sampling import check_frame_size
    from chalicelib.domain.errors import BadQuery, DomainError

    year = _year(form_field(form, "year"))
    action = form_field(form, "action")
    try:
        if action == "upload":
            upload = guard.uploaded_file("frame")
            if upload is None:
                raise BadQuery("Hãy chọn tệp khung mẫu (.csv hoặc .xlsx).", "Choose a frame file.", field="frame")
            check_frame_size(upload[1])
            wiring.sampling_service().upload_frame(principal, year, upload[1], upload[0])
        elif action == "draw":
            wiring.sampling_service().draw(principal, year, _design(form))
        else:
            raise BadQuery(field="action")
    except DomainError as exc:
        if exc.status not in REFUSED:
            raise
        return _page(principal, token, year, error=exc, posted=form), exc.status
    done = "frame" if action == "upload" else "sample"
    return redirect(f"/admin/sampling?year={year}&done={done}", after_post=True)


@sampling_pages.route("/admin/sampling/{year}/samples/{sample_id}/export", methods=["GET"])
@console(
    "adminSampleExport",
    "Download a sample as CSV or XLSX (format=xlsx)",
    "sampling.manage",
    params=(YEAR, SAMPLE_ID, FORMAT),
)
def admin_sample_export(_principal: Principal, _token: str, _form: Form, year: str, sample_id: str) -> Response:
    from chalicelib import wiring
    from chalicelib.api.sampling import sample_download

    fmt = request.query("format") or "csv"
    return sample_download(*wiring.sampling_service().export(int(year), sample_id, fmt))


# --- helpers --------------------------------------------------------------------------------------
def _year(text: str | None) -> int:
    from chalicelib.domain.clock import utcnow
    from chalicelib.domain.errors import BadQuery

    if not text:
        return utcnow().year
    if not (text.isascii() and text.isdigit() and len(text) == 4 and text.startswith("20")):
        raise BadQuery(field="year")
    return int(text)


def _design(form: Form) -> dict[str, Any]:
    """The design form as the API's JSON design (the same rules then apply)."""
    from chalicelib.domain.errors import BadQuery

    def number(name: str, default: int | None = None) -> int | None:
        text = form_field(form, name).strip()
        if not text:
            return default
        if not text.isascii() or not text.isdigit() or len(text) > 9:
            raise BadQuery(f"Trường {name} phải là số nguyên.", f"{name} must be a whole number.", field=name)
        return int(text)

    def codes(name: str) -> list[str]:
        return sorted({c.strip() for c in form_field(form, name).replace(";", ",").split(",") if c.strip()})

    design: dict[str, Any] = {
        "villages_per_commune": number("villages_per_commune", 2),
        "households_per_village": number("households_per_village", 10),
        "replacements": number("replacements", 5),
        "certainty_communes": codes("certainty_communes"),
        "provinces": codes("provinces"),
    }
    size_kind, size = form_field(form, "size_kind"), number("size")
    if size is None or size < 1:
        raise BadQuery("Hãy nhập cỡ mẫu (số nguyên dương).", "Enter the sample size (a positive number).", field="size")
    if size_kind == "communes":
        design["communes"] = size
    elif size_kind == "households":
        design["households"] = size
    elif size_kind == "national":
        design["national_households"] = size
        power = form_field(form, "allocation_power")
        design["allocation_power"] = {"1": 1.0, "0.5": 0.5, "0": 0.0}.get(power, 1.0)
        design["minimum_households"] = number("minimum_households", 0)
    else:
        raise BadQuery(field="size_kind")
    seed = number("seed")
    if seed is not None:
        design["seed"] = seed
    if form_field(form, "frame_id"):
        design["frame_id"] = form_field(form, "frame_id")
    return design


def _page(principal: Principal, token: str, year: int, **state: Any) -> str:
    from chalicelib import wiring
    from chalicelib.api.console import console_csrf, console_nav
    from chalicelib.web.sampling_admin import render_admin_sampling

    overview = wiring.sampling_service().overview(year)
    return render_admin_sampling(overview, csrf=console_csrf(token), console=console_nav(principal), **state)
