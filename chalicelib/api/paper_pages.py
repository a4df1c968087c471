"""The console's paper-form entry (session cookie): batches, the keyboard-first entry screen, import, resolve.

Keying and importing need `response.enter` on the agency of the path; the batch pages and resolving need
`paper.review`. A refused form is shown again with its errors beside the questions. Rules: domain/paper.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api import request
from chalicelib.api.guard import form_field
from chalicelib.api.http import redirect
from chalicelib.api.operations import Param, console
from chalicelib.api.paper import BATCH, FORM_NUMBER
from chalicelib.api.params import AGENCY

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

paper_pages = Blueprint(__name__)
ANY = ["*/*"]
Form = dict[str, list[str]]
REFUSED = (400, 403, 404, 409, 413, 415, 422)
SAVED = Param("saved", "query", "The form number just saved (shows a notice)", FORM_NUMBER.schema)
STATE = Param(
    "state",
    "query",
    "What saving it did",
    {"type": "string", "enum": ["awaiting_second", "agreed", "mismatch", "resolved", "same"]},
)
IMPORTED = Param(
    "imported", "query", "Forms just imported (shows a notice)", {"type": "string", "pattern": "^[0-9]{1,6}$"}
)
NOTICES = {
    "awaiting_second": "Đã lưu phiếu số {n} (lần nhập 1). Cần một cán bộ khác nhập lần 2.",
    "agreed": "Phiếu số {n}: hai lần nhập khớp nhau, đã tạo phiếu trả lời.",
    "mismatch": "Phiếu số {n}: hai lần nhập lệch nhau, đã chuyển sang danh sách chờ đối chiếu.",
    "resolved": "Phiếu số {n} đã được đối chiếu và tạo phiếu trả lời.",
    "same": "Phiếu số {n} đã được Ông/Bà nhập như vậy trước đó; không có gì thay đổi.",
}
BASE = "/admin/paper/{agency}"


@paper_pages.route(BASE, methods=["GET"])
@console(
    "adminPaper",
    "Paper-form entry: the agency's batches, and a form to open one",
    "paper.review",
    agency_param="agency",
    params=(AGENCY,),
)
def admin_paper(principal: Principal, token: str, _form: Form, agency: str) -> Any:
    return _batches_page(principal, token, agency)


@paper_pages.route(BASE, methods=["POST"], content_types=ANY)
@console(
    "adminPaperOpen",
    "Open a batch of paper forms (audited)",
    "response.enter",
    agency_param="agency",
    params=(AGENCY,),
    form=True,
)
def admin_paper_open(principal: Principal, token: str, form: Form, agency: str) -> Any:
    from chalicelib import wiring
    from chalicelib.domain.errors import DomainError

    survey_id, _, version = form_field(form, "survey").partition(":")
    body: dict[str, Any] = {
        "batch": form_field(form, "batch").strip(),
        "survey_id": survey_id,
        "survey_version": int(version) if version.isdigit() and len(version) < 10 else 0,
        "label": form_field(form, "label"),
        "province": form_field(form, "province").strip(),
    }
    try:
        batch = wiring.paper_service().open_batch(principal, agency, body)
    except DomainError as exc:
        if exc.status not in REFUSED:
            raise
        return _batches_page(principal, token, agency, error=exc, form=form), exc.status
    return redirect(f"/admin/paper/{agency}/batches/{batch['batch']}", after_post=True)


@paper_pages.route(BASE + "/batches/{batch}", methods=["GET"])
@console(
    "adminPaperBatch",
    "A batch: the keyboard-first entry screen, its forms and their states, the file import",
    "paper.review",
    agency_param="agency",
    params=(AGENCY, BATCH, SAVED, STATE, IMPORTED),
)
def admin_paper_batch(principal: Principal, token: str, _form: Form, agency: str, batch: str) -> Any:
    saved, state, imported = request.query("saved"), request.query("state"), request.query("imported")
    notice = NOTICES.get(state or "", "").format(n=saved) if saved else ""
    if imported is not None:
        notice = f"Đã nhập {imported} phiếu từ tệp."
    return _batch_page(principal, token, agency, batch, notice=notice)


@paper_pages.route(BASE + "/batches/{batch}", methods=["POST"], content_types=ANY)
@console(
    "adminPaperEnter",
    "Save one keyed form: first entry, or the second (blind) by another clerk (audited)",
    "response.enter",
    agency_param="agency",
    params=(AGENCY, BATCH),
    form=True,
)
def admin_paper_enter(principal: Principal, token: str, form: Form, agency: str, batch: str) -> Any:
    from chalicelib import wiring
    from chalicelib.domain.errors import DomainError
    from chalicelib.web.paper_admin import entry_fields, from_form

    service = wiring.paper_service()
    survey = service.survey_of(service.batch(agency, batch))
    number = form_field(form, "form_number").strip()
    try:
        outcome = service.enter(
            principal, agency, batch, {"form_number": number, "answers": from_form(entry_fields(survey), form)}
        )
    except DomainError as exc:
        if exc.status not in REFUSED:
            raise
        return _batch_page(principal, token, agency, batch, error=exc, posted=form), exc.status
    state = "same" if not outcome["created"] else outcome["state"]
    return redirect(f"/admin/paper/{agency}/batches/{batch}?saved={number}&state={state}", after_post=True)


@paper_pages.route(BASE + "/batches/{batch}/import", methods=["POST"], content_types=ANY)
@console(
    "adminPaperImport",
    "Import forms from a CSV or XLSX file (multipart); a bad row refuses the file unless partial (audited)",
    "response.enter",
    agency_param="agency",
    params=(AGENCY, BATCH),
    form=True,
    upload="file",
)
def admin_paper_import(principal: Principal, token: str, form: Form, agency: str, batch: str) -> Any:
    from chalicelib import wiring
    from chalicelib.api import guard
    from chalicelib.domain.errors import BadQuery, DomainError

    try:
        upload = guard.uploaded_file("file")
        if upload is None:
            raise BadQuery("Hãy chọn tệp phiếu (.csv hoặc .xlsx).", "Choose a file of forms.", field="file")
        partial = form_field(form, "partial") == "true"
        report = wiring.paper_service().import_file(principal, agency, batch, upload[1], upload[0], partial)
    except DomainError as exc:
        if exc.status not in REFUSED:
            raise
        return _batch_page(principal, token, agency, batch, error=exc), exc.status
    if report["errors"]:
        return _batch_page(
            principal,
            token,
            agency,
            batch,
            notice=f"Đã nhập {report['imported']} phiếu; các dòng lỗi bên dưới chưa được nhập.",
            problems=report["errors"],
        )
    return redirect(f"/admin/paper/{agency}/batches/{batch}?imported={report['imported']}", after_post=True)


@paper_pages.route(BASE + "/batches/{batch}/forms/{form_number}", methods=["GET"])
@console(
    "adminPaperForm",
    "A form of the batch: both entries side by side once both exist, and the resolve form for a third clerk",
    "paper.review",
    agency_param="agency",
    params=(AGENCY, BATCH, FORM_NUMBER),
)
def admin_paper_form(principal: Principal, token: str, _form: Form, agency: str, batch: str, form_number: str) -> Any:
    return _form_page(principal, token, agency, batch, form_number)


@paper_pages.route(BASE + "/batches/{batch}/forms/{form_number}", methods=["POST"], content_types=ANY)
@console(
    "adminPaperResolve",
    "A third clerk's final values for a mismatched form: the response is created (audited)",
    "paper.review",
    agency_param="agency",
    params=(AGENCY, BATCH, FORM_NUMBER),
    form=True,
)
def admin_paper_resolve(principal: Principal, token: str, form: Form, agency: str, batch: str, form_number: str) -> Any:
    from chalicelib import wiring
    from chalicelib.domain.errors import DomainError
    from chalicelib.web.paper_admin import entry_fields, from_form

    service = wiring.paper_service()
    survey = service.survey_of(service.batch(agency, batch))
    try:
        service.resolve(principal, agency, batch, form_number, {"answers": from_form(entry_fields(survey), form)})
    except DomainError as exc:
        if exc.status not in REFUSED:
            raise
        return _form_page(principal, token, agency, batch, form_number, error=exc, posted=form), exc.status
    return redirect(f"/admin/paper/{agency}/batches/{batch}?saved={form_number}&state=resolved", after_post=True)


# --- helpers --------------------------------------------------------------------------------------
def _batches_page(principal: Principal, token: str, agency: str, **state: Any) -> str:
    from chalicelib import wiring
    from chalicelib.api.console import console_csrf, console_nav
    from chalicelib.web.paper_admin import render_paper_batches

    posted = state.pop("form", None) or {}
    surveys = [s for s in wiring.surveys().list_current() if s.status in ("published", "closed")]
    return render_paper_batches(
        agency,
        wiring.paper_service().batches(agency),
        surveys,
        csrf=console_csrf(token),
        console=console_nav(principal),
        can_enter=principal.can("response.enter", agency),
        form={k: v[0] for k, v in posted.items() if v and k != "csrf"},
        **state,
    )


def _errors(error: Any, posted: Form | None) -> tuple[dict[str, str], dict[str, str]]:
    """Errors by question (the boxes show them) and the values posted (kept in the boxes)."""
    errors: dict[str, str] = {}
    if error is not None:
        for d in [*(getattr(error, "details", None) or []), {"field": error.field, "message": error.message_vi}]:
            if isinstance(d, dict) and d.get("field"):
                errors.setdefault(str(d["field"]).removeprefix("/answers/").split("/")[0], str(d.get("message", "")))
    values = {k.removeprefix("a."): v[0] for k, v in (posted or {}).items() if v and k != "csrf"}
    return errors, values


def _batch_page(
    principal: Principal,
    token: str,
    agency: str,
    batch: str,
    *,
    error: Any = None,
    posted: Form | None = None,
    **state: Any,
) -> str:
    from chalicelib import wiring
    from chalicelib.api.console import console_csrf, console_nav
    from chalicelib.web.paper_admin import render_paper_batch

    service = wiring.paper_service()
    view = service.batch_view(agency, batch)
    survey = service.survey_of(service.batch(agency, batch))
    errors, values = _errors(error, posted)
    problems = state.pop("problems", None) or [
        d for d in getattr(error, "details", None) or [] if isinstance(d, dict) and "row" in d
    ]
    return render_paper_batch(
        view,
        survey,
        csrf=console_csrf(token),
        console=console_nav(principal),
        can_enter=principal.can("response.enter", agency),
        error=error,
        errors=errors,
        values=values,
        problems=problems,
        **state,
    )


def _form_page(
    principal: Principal,
    token: str,
    agency: str,
    batch: str,
    number: str,
    *,
    error: Any = None,
    posted: Form | None = None,
) -> str:
    from chalicelib import wiring
    from chalicelib.api.console import console_csrf, console_nav
    from chalicelib.web.paper_admin import entry_fields, keyed, render_paper_form

    service = wiring.paper_service()
    view = service.form_view(principal, agency, batch, number)
    survey = service.survey_of(service.batch(agency, batch))
    errors, values = _errors(error, posted)
    other: dict[str, list[str]] = {}
    if view.get("entries") and not posted:
        fields = entry_fields(survey)
        first, second = (keyed(fields, e["answers"]) for e in view["entries"])
        values = {k: v for k, v in first.items() if second.get(k) == v}
        other = {k: [first.get(k, ""), second.get(k, "")] for k in view.get("differences", [])}
    return render_paper_form(
        view,
        survey,
        csrf=console_csrf(token),
        console=console_nav(principal),
        error=error,
        errors=errors,
        values=values,
        other=other,
    )
