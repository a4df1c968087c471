"""The API and the citizen pages (Chalice): wiring only — each route parses, calls one service, shapes the answer."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from chalice import Chalice, Response

from chalicelib.api import console
from chalicelib.api.console import console_page
from chalicelib.api.console import current_request as _request
from chalicelib.api.console import raw_body as _raw_body
from chalicelib.api.guard import protected
from chalicelib.api.http import api_errors, html_response, json_response, page_errors
from chalicelib.domain.errors import DomainError

app = Chalice(app_name="par-platform")
app.api.binary_types = []  # every body we serve is text; keeps API Gateway from base64-encoding pages
ANY = ["*/*"]  # content types are checked by the service, so a wrong one gets our 415, not Chalice's


# --- JSON API -------------------------------------------------------------------------------------
@app.route("/openapi.json", methods=["GET"], cors=True)
def openapi() -> Response:
    from chalicelib.api.openapi import document

    return json_response(document())


@app.route("/surveys", methods=["GET"], cors=True)
@api_errors
def list_surveys() -> Response:
    from chalicelib.api import views

    return json_response(views.survey_list())


@app.route("/surveys/{survey_id}", methods=["GET"], cors=True)
@api_errors
def get_survey(survey_id: str) -> Response:
    from chalicelib.api import views

    return json_response(views.survey_contract(survey_id, _query("version")), headers={"Cache-Control": "max-age=60"})


@app.route("/surveys/{survey_id}/responses", methods=["POST"], content_types=ANY, cors=True)
@api_errors
def submit_response(survey_id: str) -> Response:
    from chalicelib.api import views

    request = _request()
    receipt = views.submit_json(survey_id, _raw_body(request), request.headers.get("content-type"), _client())
    return json_response(receipt.to_dict(), status=201 if receipt.created else 200)


@app.route("/surveys/{survey_id}/results", methods=["GET"], cors=True)
@api_errors
def get_results(survey_id: str) -> Response:
    from chalicelib.api import views

    results = views.results(survey_id, _query("scope"), _flag("include_flagged"), _query("version"))
    return json_response(results, headers={"Cache-Control": "max-age=5"})


@app.route("/geo/provinces", methods=["GET"], cors=True)
@api_errors
def list_provinces() -> Response:
    from chalicelib.api import views

    return json_response(views.provinces(_query("geography")), headers={"Cache-Control": "max-age=86400"})


@app.route("/geo/provinces/{code}/communes", methods=["GET"], cors=True)
@api_errors
def list_communes(code: str) -> Response:
    from chalicelib.api import views

    return json_response(views.communes(code, _query("geography")), headers={"Cache-Control": "max-age=86400"})


@app.route("/agencies", methods=["GET"], cors=True)
@api_errors
def list_agencies() -> Response:
    from chalicelib.api import admin_views

    body = admin_views.agencies_reference(_query("on"), _flag("include_ended"))
    return json_response(body, headers={"Cache-Control": "max-age=3600"})


@app.route("/responses/{receipt}", methods=["GET"], cors=True)
@api_errors
def my_response(receipt: str) -> Response:
    from chalicelib import wiring

    return json_response(wiring.privacy_service().view(receipt), headers={"Cache-Control": "no-store"})


@app.route("/responses/{receipt}/withdrawal", methods=["POST"], content_types=ANY, cors=True)
@api_errors
def withdraw_my_response(receipt: str) -> Response:
    from chalicelib import wiring

    return json_response(wiring.privacy_service().withdraw(receipt), headers={"Cache-Control": "no-store"})


@app.route("/r/{receipt}", methods=["GET"])
@page_errors
def my_response_page(receipt: str) -> Response:
    from chalicelib import wiring
    from chalicelib.web.pages import render_my_response

    return html_response(render_my_response(wiring.privacy_service().view(receipt)))


@app.route("/r/{receipt}/withdrawal", methods=["POST"], content_types=ANY)
@page_errors
def withdraw_my_response_page(receipt: str) -> Response:
    from chalicelib import wiring
    from chalicelib.domain.errors import InvalidSubmission
    from chalicelib.web.pages import render_my_response

    form = parse_qs(_raw_body(_request()).decode("utf-8", "replace"))
    if (form.get("confirm") or [""])[0] != "yes":
        raise InvalidSubmission(
            "Vui lòng đánh dấu ô xác nhận trước khi xóa.", "Tick the confirmation box first.", field="confirm"
        )
    privacy = wiring.privacy_service()
    privacy.withdraw(receipt)
    return html_response(render_my_response(privacy.view(receipt), notice="Đã xóa phiếu của Ông/Bà theo yêu cầu."))


# --- Officials' API (bearer token; permissions in docs/PERMISSIONS.md) ---------------------------
@app.route("/admin/api/me", methods=["GET"], cors=True)
@api_errors
@protected("console.view", agency_param=None, any_scope=True)
def whoami(principal: Any) -> Response:
    from chalicelib.api import views

    return json_response(views.principal_summary(principal))


@app.route("/admin/api/dashboard", methods=["GET"], cors=True)
@api_errors
@protected("console.view")
def national_dashboard(_principal: Any) -> Response:
    from chalicelib.api import views

    return json_response(views.dashboard(None))


@app.route("/admin/api/agencies/{agency}/dashboard", methods=["GET"], cors=True)
@api_errors
@protected("results.read", agency_param="agency")
def agency_dashboard(_principal: Any, agency: str) -> Response:
    from chalicelib.api import views

    return json_response(views.dashboard(agency))


@app.route("/surveys/{survey_id}/reports", methods=["POST"], content_types=ANY, cors=True)
@api_errors
@protected("report.request")
def request_report(principal: Any, survey_id: str) -> Response:
    from chalicelib.api import views

    return json_response(views.request_report(principal, survey_id), status=202)


@app.route("/admin/api/audit", methods=["GET"], cors=True)
@api_errors
@protected("audit.read")
def audit_log(_principal: Any) -> Response:
    from chalicelib.api import views

    return json_response(views.audit_entries(_query("from_seq"), _query("limit")))


@app.route("/admin/api/audit.csv", methods=["GET"])
@api_errors
@protected("audit.read")
def audit_log_csv(_principal: Any) -> Response:
    from chalicelib.api import views

    headers: dict[str, str | list[str]] = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="audit-log.csv"',
    }
    return Response(body=_text(views.audit_csv()), status_code=200, headers=headers)


@app.route("/admin/api/agencies/{agency}/settings", methods=["GET"], cors=True)
@api_errors
@protected("agency.manage", agency_param="agency")
def get_agency_settings(_principal: Any, agency: str) -> Response:
    from chalicelib.api import admin_views

    return json_response(admin_views.agency_settings(agency), headers={"Cache-Control": "no-store"})


@app.route("/admin/api/agencies/{agency}/settings", methods=["PUT"], content_types=ANY, cors=True)
@api_errors
@protected("agency.manage", agency_param="agency")
def put_agency_settings(principal: Any, agency: str) -> Response:
    from chalicelib.api import admin_views

    request = _request()
    saved = admin_views.put_agency_settings(principal, agency, _raw_body(request), request.headers.get("content-type"))
    return json_response(saved)


@app.route("/admin/api/agencies/{agency}/users", methods=["GET"], cors=True)
@api_errors
@protected("user.manage", agency_param="agency")
def list_agency_users(principal: Any, agency: str) -> Response:
    from chalicelib.api import admin_views

    return json_response(admin_views.list_users(principal, agency), headers={"Cache-Control": "no-store"})


@app.route("/admin/api/agencies/{agency}/users", methods=["POST"], content_types=ANY, cors=True)
@api_errors
@protected("user.manage", agency_param="agency")
def create_agency_user(principal: Any, agency: str) -> Response:
    from chalicelib.api import admin_views

    request = _request()
    created = admin_views.create_user(principal, agency, _raw_body(request), request.headers.get("content-type"))
    return json_response(created, status=201, headers={"Cache-Control": "no-store"})


@app.route("/admin/api/agencies/{agency}/users/{username}/access", methods=["PUT"], content_types=ANY, cors=True)
@api_errors
@protected("user.manage", agency_param="agency")
def set_user_access(principal: Any, agency: str, username: str) -> Response:
    from chalicelib.api import admin_views

    request = _request()
    body, kind = _raw_body(request), request.headers.get("content-type")
    return json_response(admin_views.set_access(principal, agency, username, body, kind))


@app.route("/admin/api/agencies/{agency}/users/{username}/enabled", methods=["PUT"], content_types=ANY, cors=True)
@api_errors
@protected("user.manage", agency_param="agency")
def set_user_enabled(principal: Any, agency: str, username: str) -> Response:
    from chalicelib.api import admin_views

    request = _request()
    body, kind = _raw_body(request), request.headers.get("content-type")
    return json_response(admin_views.set_enabled(principal, agency, username, body, kind))


# --- Admin console (session cookie from the OIDC code flow) -------------------------------------
@app.route("/admin/login", methods=["GET"])
@page_errors
def admin_login() -> Response:
    from chalicelib import wiring
    from chalicelib.api import session
    from chalicelib.auth.tokens import Unauthenticated

    config = wiring.token_config()
    if config is None:
        raise Unauthenticated("Hệ thống chưa cấu hình đăng nhập.", "Sign-in is not configured.")
    url, state = session.authorize_url(config, f"{console.base_url()}/admin/callback")
    cookie = session.cookie_header(session.STATE_COOKIE, state, secure=console.secure(), max_age=600)
    return Response(
        body="", status_code=302, headers={"Location": url, "Set-Cookie": cookie, "Cache-Control": "no-store"}
    )


@app.route("/admin/callback", methods=["GET"])
@page_errors
def admin_callback() -> Response:
    from chalicelib import wiring
    from chalicelib.api import session
    from chalicelib.auth.tokens import Unauthenticated, verify_token

    config = wiring.token_config()
    expected = session.cookies(_request().headers).get(session.STATE_COOKIE)
    if config is None or not expected or _query("state") != expected or not _query("code"):
        raise Unauthenticated(
            "Phiên đăng nhập không hợp lệ; vui lòng đăng nhập lại.", "Invalid sign-in state; sign in again."
        )
    token = session.exchange_code(config, _query("code") or "", f"{console.base_url()}/admin/callback")
    verify_token(token, config)
    headers: dict[str, str | list[str]] = {
        "Location": "/admin",
        "Cache-Control": "no-store",
        "Set-Cookie": [
            session.cookie_header(session.SESSION_COOKIE, token, secure=console.secure()),
            session.cookie_header(session.STATE_COOKIE, "", secure=console.secure(), max_age=0),
        ],
    }
    return Response(body="", status_code=302, headers=headers)


@app.route("/admin", methods=["GET"])
@console_page("console.view", any_scope=True)
def admin_dashboard(principal: Any, token: str, _form: Any) -> Any:
    from chalicelib.api import views

    return views.admin_dashboard_page(principal, token)


@app.route("/admin/audit", methods=["GET"])
@console_page("audit.read")
def admin_audit(principal: Any, _token: str, _form: Any) -> Any:
    from chalicelib.api import views

    return views.admin_audit_page(principal, _query("from_seq"))


@app.route("/admin/agencies", methods=["GET"])
@console_page("console.view", any_scope=True)
def admin_agencies(principal: Any, _token: str, _form: Any) -> Any:
    from chalicelib.api import admin_views

    return admin_views.agencies_page(principal)


@app.route("/admin/agencies/{agency}", methods=["GET"])
@console_page("console.view", agency_param="agency")
def admin_agency(principal: Any, token: str, _form: Any, agency: str) -> Any:
    from chalicelib.api import admin_views

    return admin_views.agency_page(principal, token, agency, console.base_url(), notice=_saved_notice())


@app.route("/admin/agencies/{agency}/origins", methods=["POST"], content_types=ANY)
@console_page("agency.manage", agency_param="agency")
def admin_agency_origins(principal: Any, token: str, form: Any, agency: str) -> Any:
    from chalicelib.api import admin_views

    return admin_views.agency_origins_form(principal, token, agency, form, console.base_url())


@app.route("/admin/agencies/{agency}/users", methods=["GET"])
@console_page("user.manage", agency_param="agency")
def admin_users(principal: Any, token: str, _form: Any, agency: str) -> Any:
    from chalicelib.api import admin_views

    return admin_views.users_page(principal, token, agency, notice=_saved_notice())


@app.route("/admin/agencies/{agency}/users", methods=["POST"], content_types=ANY)
@console_page("user.manage", agency_param="agency")
def admin_users_create(principal: Any, token: str, form: Any, agency: str) -> Any:
    from chalicelib.api import admin_views

    return admin_views.create_user_form(principal, token, agency, form)


@app.route("/admin/agencies/{agency}/users/{username}", methods=["GET"])
@console_page("user.manage", agency_param="agency")
def admin_user(principal: Any, token: str, _form: Any, agency: str, username: str) -> Any:
    from chalicelib.api import admin_views

    return admin_views.user_page(principal, token, agency, username, notice=_saved_notice())


@app.route("/admin/agencies/{agency}/users/{username}", methods=["POST"], content_types=ANY)
@console_page("user.manage", agency_param="agency")
def admin_user_change(principal: Any, token: str, form: Any, agency: str, username: str) -> Any:
    from chalicelib.api import admin_views

    return admin_views.user_form(principal, token, agency, username, form)


@app.route("/admin/logout", methods=["POST"], content_types=ANY)
@console_page(None)  # even an account left without roles can end its session
def admin_logout(_principal: Any, _token: str, _form: Any) -> Any:
    from chalicelib.api import session

    return Response(
        body="",
        status_code=303,
        headers={
            "Location": "/",
            "Set-Cookie": session.cookie_header(session.SESSION_COOKIE, "", secure=console.secure(), max_age=0),
        },
    )


# --- Pages ----------------------------------------------------------------------------------------
@app.route("/", methods=["GET"])
@page_errors
def home() -> Response:
    from chalicelib.api import views

    return html_response(views.home_page(), cache="max-age=60")


@app.route("/s/{survey_id}", methods=["GET"])
@page_errors
def survey_page(survey_id: str) -> Response:
    from chalicelib.api import views

    embed, agency = _flag("embed"), _embed_agency()
    page = views.survey_form_page(survey_id, embed=embed, agency=agency)
    return html_response(page, embed=embed, frame_ancestors=_frame_ancestors(embed, agency))


@app.route("/s/{survey_id}", methods=["POST"], content_types=ANY)
@page_errors
def survey_page_submit(survey_id: str) -> Response:
    from chalicelib.api import views

    request = _request()
    embed, agency = _flag("embed"), _embed_agency()
    form = parse_qs(_raw_body(request).decode("utf-8", "replace"), keep_blank_values=False)
    kind = request.headers.get("content-type")
    status, body = views.submit_form(survey_id, form, kind, _client(), embed=embed, agency=agency)
    return html_response(body, status, embed=embed, frame_ancestors=_frame_ancestors(embed, agency))


@app.route("/s/{survey_id}/results", methods=["GET"])
@page_errors
def results_page(survey_id: str) -> Response:
    from chalicelib.api import views

    body = views.results_page(survey_id, _query("scope"), _flag("include_flagged"), _query("version"))
    return html_response(body, cache="max-age=5")


@app.route("/reports", methods=["GET"])
@page_errors
def reports_page() -> Response:
    from chalicelib.api import views

    return html_response(views.reports_page(), cache="max-age=30")


@app.route("/reports/file", methods=["GET"])
@page_errors
def report_file() -> Response:
    from chalicelib.api import views

    content, content_type = views.report_file(_query("key") or "")
    return Response(body=_text(content), status_code=200, headers={"Content-Type": content_type, **_download_headers()})


@app.route("/static/{name}", methods=["GET"])
def static_file(name: str) -> Response:
    from chalicelib.api import views

    try:
        content, content_type = views.static_asset(name)
    except DomainError as exc:
        return json_response(exc.to_dict(), status=exc.status)
    return Response(
        body=_text(content),
        status_code=200,
        # pages link assets as /static/<name>?v=<content hash>, so a cached copy is never stale; agencies'
        # sites link the widget loader by a fixed URL, so it is cached for an hour only
        headers={
            "Content-Type": content_type,
            "Cache-Control": "public, max-age=3600" if name == "embed.js" else "public, max-age=31536000, immutable",
        },
    )


# --- helpers --------------------------------------------------------------------------------------
def _text(content: bytes) -> str:
    """Lambda's proxy response must be JSON: every body we serve is UTF-8 text (no binary types)."""
    return content.decode("utf-8")


def _query(name: str) -> str | None:
    params: Any = _request().query_params or {}
    value = params.get(name)
    return value if value not in (None, "") else None


def _flag(name: str) -> bool:
    return (_query(name) or "").lower() in ("1", "true", "yes", "on")


def _client() -> Any:
    from chalicelib.domain.submissions import ClientInfo

    request = _request()
    identity = (request.context or {}).get("identity") or {}
    return ClientInfo(source_ip=identity.get("sourceIp"), user_agent=request.headers.get("user-agent"))


def _embed_agency() -> str | None:
    """The agency whose site embeds the widget (?agency=P01); anything that is not a code is ignored."""
    from chalicelib.reference.agencies import CODE

    value = _query("agency")
    return value if value and CODE.match(value) else None


def _frame_ancestors(embed: bool, agency: str | None) -> str | None:
    if not embed:
        return None
    from chalicelib.api import admin_views

    return admin_views.embed_frame_ancestors(agency)


def _saved_notice() -> str:
    return "Đã lưu thay đổi." if _flag("saved") else ""


def _download_headers() -> dict[str, str]:
    return {"X-Content-Type-Options": "nosniff", "Cache-Control": "max-age=300", "Content-Security-Policy": "sandbox"}
