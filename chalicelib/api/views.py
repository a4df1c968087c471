"""What each route does, in a few lines: call the service, shape the answer (imported on first request)."""

from __future__ import annotations

import mimetypes
from datetime import datetime, timezone
from typing import Any

from chalicelib import wiring
from chalicelib.domain.aggregation import aggregate_pk
from chalicelib.domain.errors import DomainError, InvalidSubmission, SurveyClosed
from chalicelib.domain.results import compute_results, parse_scope
from chalicelib.domain.submissions import ClientInfo, Receipt
from chalicelib.reference.geography import UnknownGeography, load_geography

REPORTS_PREFIX = "reports/"


class NotFound(DomainError):
    code = "not_found"
    status = 404
    message_vi = "Không tìm thấy nội dung yêu cầu."
    message_en = "Not found."


class BadQuery(DomainError):
    code = "invalid_query"
    status = 400
    message_vi = "Tham số truy vấn không hợp lệ."
    message_en = "Invalid query parameter."


def _version(value: str | None) -> int | None:
    if value is None:
        return None
    if not value.isdigit() or len(value) > 9:
        raise BadQuery(field="version")
    return int(value)


# --- JSON -----------------------------------------------------------------------------------------
def survey_list() -> dict[str, Any]:
    surveys = wiring.surveys().list_current()
    return {
        "surveys": [
            {"id": s.id, "version": s.version, "title": s.definition["title"], "status": s.status, "open": s.is_open()}
            for s in surveys
        ]
    }


def survey_contract(survey_id: str, version: str | None) -> dict[str, Any]:
    survey = wiring.surveys().get(survey_id, _version(version))
    return {"survey": survey.definition, "submission_schema": survey.submission_schema(), "open": survey.is_open()}


def submit_json(survey_id: str, raw: bytes | None, content_type: str | None, client: ClientInfo) -> Receipt:
    service = wiring.submission_service()
    return service.submit(survey_id, service.parse_body(raw, content_type), client)


def results(survey_id: str, scope: str | None, include_flagged: bool, version: str | None) -> dict[str, Any]:
    survey = wiring.surveys().get(survey_id, _version(version))
    scope = parse_scope(scope)
    items = wiring.aggregates().scope_items(aggregate_pk(survey.key, scope))
    return compute_results(survey, items, scope, include_flagged)


def provinces(geography: str | None) -> dict[str, Any]:
    geo = _geography(geography)
    return {"geography": geo.name, "provinces": [{"code": p.code, "name": p.name} for p in geo.provinces]}


def communes(code: str, geography: str | None) -> dict[str, Any]:
    geo = _geography(geography)
    if geo.province(code) is None:
        raise NotFound("Không có tỉnh/thành phố với mã này.", "No province with that code.", field="code")
    return {"province": code, "communes": [{"code": c.code, "name": c.name} for c in geo.communes_of(code)]}


def _geography(name: str | None) -> Any:
    try:
        return load_geography(name or "vn-2025")
    except UnknownGeography:
        raise BadQuery("Bộ danh mục địa giới không tồn tại.", "Unknown geography.", field="geography") from None


# --- pages ----------------------------------------------------------------------------------------
def home_page() -> str:
    from chalicelib.web.pages import render_home

    return render_home(wiring.surveys().list_current())


def survey_form_page(survey_id: str, *, embed: bool, agency: str | None = None) -> str:
    from ulid import ULID

    from chalicelib.web.pages import render_survey_form

    survey = wiring.surveys().get(survey_id)
    if not survey.is_open():
        raise SurveyClosed()
    return render_survey_form(
        survey,
        load_geography(survey.geography),
        response_id=str(ULID()),
        started_at=_now(),
        embed=embed,
        agency=agency,
    )


def submit_form(
    survey_id: str,
    form: dict[str, list[str]],
    content_type: str | None,
    client: ClientInfo,
    *,
    embed: bool,
    agency: str | None = None,
) -> tuple[int, str]:
    """The no-JavaScript path: the same service as the API, errors shown on the re-rendered form."""
    from chalicelib.web.pages import field_of, form_errors, form_to_submission, render_receipt, render_survey_form

    media = (content_type or "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise InvalidSubmission("Biểu mẫu gửi lên không đúng định dạng.", "The form must be sent url-encoded.")
    survey = wiring.surveys().get(survey_id)
    body = form_to_submission(survey, form)
    values = {k: v if len(v) > 1 else v[0] for k, v in form.items()}
    errors = form_errors(survey, body)
    geography = load_geography(survey.geography)
    if not errors:
        try:
            receipt = wiring.submission_service().submit(survey_id, body, client)
            return (201 if receipt.created else 200), render_receipt(survey, receipt.to_dict(), embed=embed)
        except DomainError as exc:
            if exc.status not in (400, 422):
                raise
            errors = {field_of(exc.field) or "form": exc.message_vi}
    page = render_survey_form(
        survey,
        geography,
        response_id=str(body.get("id") or ""),
        started_at=str((body.get("paradata") or {}).get("started_at") or _now()),
        values=values,
        errors=errors,
        embed=embed,
        agency=agency,
    )
    return 400, page


def results_page(survey_id: str, scope: str | None, include_flagged: bool, version: str | None) -> str:
    from chalicelib.web.pages import render_results

    survey = wiring.surveys().get(survey_id, _version(version))
    data = results(survey_id, scope, include_flagged, version)
    return render_results(
        survey, data, scope=data["scope"], geography=load_geography(survey.geography), include_flagged=include_flagged
    )


def reports_page() -> str:
    from chalicelib.web.pages import render_reports

    return render_reports(report_sets())


def report_sets() -> list[dict[str, Any]]:
    """Report sets in S3, newest first: reports/<survey>/v<version>/<timestamp>/<file>."""
    sets: dict[str, dict[str, Any]] = {}
    for obj in wiring.reports_store().list(REPORTS_PREFIX):
        parts = obj.key.split("/")
        if len(parts) != 5:
            continue
        _, survey_id, version, stamp, name = parts
        entry = sets.setdefault(
            "/".join(parts[:4]),
            {"survey_id": survey_id, "survey_version": version.lstrip("v"), "generated": stamp, "files": []},
        )
        entry["files"].append({"name": name, "key": obj.key, "bytes": obj.size})
    return sorted(sets.values(), key=lambda s: s["generated"], reverse=True)


def report_file(key: str) -> tuple[bytes, str]:
    if not key.startswith(REPORTS_PREFIX) or ".." in key:
        raise NotFound(field="key")
    content = wiring.reports_store().get(key)
    if content is None:
        raise NotFound(field="key")
    return content, _content_type(key)


def static_asset(name: str) -> tuple[bytes, str]:
    from chalicelib.web.pages import static_file

    found = static_file(name)
    if found is None:
        raise NotFound(field="name")
    return found


def _content_type(name: str) -> str:
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return (
        f"{guessed}; charset=utf-8"
        if guessed.startswith("text/") or guessed.endswith(("json", "javascript"))
        else guessed
    )


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


# --- officials ------------------------------------------------------------------------------------
def principal_summary(principal: Any) -> dict[str, Any]:
    from chalicelib.auth.permissions import PERMISSIONS, allows

    return {
        "sub": principal.sub,
        "name": principal.name,
        "grants": [{"role": g.role, "scope": g.scope} for g in principal.grants],
        "permissions": sorted(p for p in PERMISSIONS if any(allows((g,), p, g.scope) for g in principal.grants)),
    }


def _agency_scope(agency: str | None) -> str:
    """An agency's results scope: a province agency 'P01' reads scope 'p01'; the Ministry reads 'all'."""
    if agency is None:
        return "all"
    geography = load_geography()
    if len(agency) == 3 and agency[0] == "P" and geography.province(agency[1:]) is not None:
        return f"p{agency[1:]}"
    raise NotFound("Không có cơ quan với mã này.", "No agency with that code.", field="agency")


def dashboard(agency: str | None) -> dict[str, Any]:
    scope = _agency_scope(agency)
    surveys = []
    for survey in wiring.surveys().list_current():
        data = compute_results(survey, wiring.aggregates().scope_items(aggregate_pk(survey.key, scope)), scope, True)
        surveys.append(
            {
                "id": survey.id,
                "version": survey.version,
                "title": survey.definition["title"],
                "status": survey.status,
                "counts": data["counts"],
                "index_with_flagged": (data.get("index") or {}).get("value"),
            }
        )
    return {"agency": agency or "national", "scope": scope, "surveys": surveys}


def request_report(principal: Any, survey_id: str) -> dict[str, Any]:
    from chalicelib.store.events import SOURCE_REPORTS, publish

    survey = wiring.surveys().get(survey_id)
    detail = {"survey_id": survey.id, "survey_version": survey.version, "requested_by": principal.sub}
    publish(SOURCE_REPORTS, "ReportRequested", detail)
    entry = wiring.audit().record(
        _actor(principal, "report.request"), "report.request", "survey", survey.key, None, detail
    )
    return {"status": "requested", "audit_seq": entry.seq, **detail}


def _actor(principal: Any, permission: str) -> Any:
    """Who acted, named by the grant that allowed it (a principal may hold several)."""
    from chalicelib.auth.permissions import NATIONAL, PERMISSIONS
    from chalicelib.domain.audit import Actor

    roles = PERMISSIONS[permission].roles
    grant = next((g for g in principal.grants if g.role in roles), principal.grants[0])
    return Actor(principal.sub, principal.name, grant.role, None if grant.scope == NATIONAL else grant.scope)


def audit_entries(from_seq: str | None, limit: str | None) -> dict[str, Any]:
    start = int(from_seq) if from_seq and from_seq.isdigit() else 1
    size = min(int(limit), 500) if limit and limit.isdigit() and int(limit) > 0 else 100
    entries = []
    for entry in wiring.audit_repository().entries(from_seq=start):
        entries.append(entry.to_dict())
        if len(entries) >= size:
            break
    next_seq = entries[-1]["seq"] + 1 if len(entries) == size else None
    return {"entries": entries, "next_from_seq": next_seq}


def audit_csv() -> bytes:
    from chalicelib.domain.audit import to_csv

    return to_csv(wiring.audit_repository().entries())


def admin_dashboard_page(principal: Any, session_token: str) -> str:
    from chalicelib.api.session import csrf_token
    from chalicelib.settings import settings
    from chalicelib.web.pages import render_admin_dashboard

    principal.require("console.view", principal.agency or "national")
    agency = None if principal.can("console.view", None) else principal.agency
    # Counts follow the matrix: only roles with results.read on the scope see them in the console.
    if not principal.can("results.read", agency):
        board: dict[str, Any] = {
            "agency": agency or "national",
            "scope": "none",
            "surveys": [],
            "why": "no_results_permission",
        }
    elif agency is not None and not agency.startswith("P"):  # a ministry: results are by place, not by ministry
        board = {"agency": agency, "scope": "none", "surveys": [], "why": "no_area"}
    else:
        board = dashboard(agency)
    audit = None
    if principal.can("audit.read", None):
        audit = [e.to_dict() for e in wiring.audit_repository().entries()][-10:][::-1]
    from chalicelib.api.console import console_nav

    return render_admin_dashboard(
        principal_summary(principal),
        board,
        audit,
        csrf_token(session_token, settings().hmac_key),
        console_nav(principal),
    )


def admin_audit_page(principal: Any, from_seq: str | None) -> str:
    from chalicelib.web.pages import render_admin_audit

    principal.require("audit.read", None)
    page = audit_entries(from_seq, "200")
    from chalicelib.api.console import console_nav

    return render_admin_audit(page["entries"], page["next_from_seq"], console_nav(principal))
