"""The console's fieldwork page (session cookie; `fieldwork.manage`): a sample's progress and its assignments.

National managers see progress by province and open one; a province's manager (its agency administrator)
sees their province: progress per village and per enumerator, counted from the fieldwork stream, and the
form that assigns an enumerator to villages of the sample. Rules: chalicelib/domain/fieldwork.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api import request
from chalicelib.api.guard import form_field
from chalicelib.api.http import redirect
from chalicelib.api.operations import Param, console
from chalicelib.api.sampling_pages import YEAR_QUERY

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

fieldwork_pages = Blueprint(__name__)
ANY = ["*/*"]
Form = dict[str, list[str]]
PERMISSION = "fieldwork.manage"
SAMPLE_QUERY = Param(
    "sample_id", "query", "A sample of the year (ULID)", {"type": "string", "pattern": "^[0-9A-Z]{26}$"}
)
PROVINCE_QUERY = Param("province", "query", "A province code (01)", {"type": "string", "pattern": "^[0-9]{2}$"})
DONE = Param("done", "query", "What was just saved (shows a notice)", {"type": "string", "enum": ["assigned"]})


@fieldwork_pages.route("/admin/fieldwork", methods=["GET"])
@console(
    "adminFieldwork",
    "Fieldwork: a sample's progress (by province, village, enumerator) and the enumerators' assignments",
    PERMISSION,
    params=(YEAR_QUERY, SAMPLE_QUERY, PROVINCE_QUERY, DONE),
    own=True,
)
def admin_fieldwork(principal: Principal, token: str, _form: Form) -> Any:
    from chalicelib.api.sampling_pages import _year

    notice = "Đã lưu phân công." if request.query("done") == "assigned" else ""
    year = _year(request.query("year"))
    return _page(principal, token, year, request.query("sample_id"), request.query("province"), notice=notice)


@fieldwork_pages.route("/admin/fieldwork", methods=["POST"], content_types=ANY)
@console(
    "adminFieldworkAssign",
    "Assign an enumerator to villages of the sample (replaces their villages in it; audited)",
    PERMISSION,
    form=True,
    own=True,
)
def admin_fieldwork_assign(principal: Principal, token: str, form: Form) -> Any:
    from chalicelib import wiring
    from chalicelib.api.sampling_pages import _year
    from chalicelib.domain.errors import BadQuery, DomainError

    year = _year(form_field(form, "year"))
    sample_id, province = form_field(form, "sample_id"), form_field(form, "province")
    try:
        username = form_field(form, "enumerator").strip().lower()
        if not username:
            raise BadQuery(
                "Hãy nhập tên đăng nhập của điều tra viên.", "Enter the enumerator's username.", field="enumerator"
            )
        villages = []
        for value in form.get("village") or []:
            commune, _, village = value.partition("/")
            villages.append({"commune_code": commune, "village_code": village})
        body = {"survey_id": form_field(form, "survey_id").strip(), "villages": villages}
        wiring.fieldwork_service().assign(principal, year, sample_id, username, body)
    except DomainError as exc:
        if exc.status not in (400, 403, 404, 422):
            raise
        return _page(principal, token, year, sample_id, province or None, error=exc, posted=form), exc.status
    return redirect(
        f"/admin/fieldwork?year={year}&sample_id={sample_id}&province={province}&done=assigned", after_post=True
    )


def _page(
    principal: Principal, token: str, year: int, sample_id: str | None, province: str | None, **state: Any
) -> str:
    from chalicelib import wiring
    from chalicelib.api.console import console_csrf, console_nav
    from chalicelib.auth.principal import Forbidden
    from chalicelib.web.fieldwork_admin import render_admin_fieldwork

    national = principal.can(PERMISSION, None)
    if province is None and not national:
        agency = principal.agency or ""
        province = agency[1:] if agency.startswith("P") else None
    if province is not None and not principal.can(PERMISSION, f"P{province}"):
        raise Forbidden()
    samples = wiring.sampling_service().overview(year)["samples"]
    sample_id = sample_id or (samples[0]["sample_id"] if samples else None)
    view: dict[str, Any] = {"year": year, "samples": samples, "sample_id": sample_id, "province": province}
    if sample_id:
        progress = wiring.progress_service()
        if national and province is None:
            view["national"] = progress.progress(year, sample_id)
        if province is not None:
            view["local"] = progress.progress(year, sample_id, province)
            sample = wiring.sampling_service().sample(year, sample_id)
            view["villages"] = _villages(sample, province)
            assignments = wiring.fieldwork_service().assignments(principal, year, sample_id)["assignments"]
            view["assignments"] = [a for a in assignments if a["province_code"] == province]
    return render_admin_fieldwork(view, csrf=console_csrf(token), console=console_nav(principal), **state)


def _villages(sample: dict[str, Any], province: str) -> list[dict[str, Any]]:
    communes = {c["commune_code"] for c in sample["units"]["communes"] if c["province_code"] == province}
    slots: dict[tuple[str, str], int] = {}
    for h in sample["units"]["households"]:
        if h["replacement"] == 0:
            key = (h["commune_code"], h["village_code"])
            slots[key] = slots.get(key, 0) + 1
    return [
        {**v, "main": slots.get((v["commune_code"], v["village_code"]), 0)}
        for v in sample["units"]["villages"]
        if v["commune_code"] in communes
    ]
