"""The officials' JSON API (bearer token; permissions in docs/PERMISSIONS.md): dashboards, reports, audit, agencies, accounts."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chalice import Blueprint, Response

from chalicelib.api import request
from chalicelib.api.http import json_response, text_response
from chalicelib.api.operations import Answer, Param, api
from chalicelib.api.params import AGENCY, FROM_SEQ, SURVEY_ID, USERNAME

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

officials_api = Blueprint(__name__)
ANY = ["*/*"]
NO_STORE = {"Cache-Control": "no-store"}


@officials_api.route("/admin/api/me", methods=["GET"], cors=True)
@api(
    "whoAmI",
    "The signed-in official and their grants",
    permission="console.view",
    own=True,
    answers=(Answer(200, "Principal", "Principal"),),
)
def whoami(principal: Principal) -> Response:
    return json_response(principal.summary())


@officials_api.route("/admin/api/dashboard", methods=["GET"], cors=True)
@api(
    "nationalDashboard",
    "Response counts of every survey, nationally",
    permission="results.read",
    answers=(Answer(200, "Dashboard", "Dashboard"),),
)
def national_dashboard(_principal: Principal) -> Response:
    from chalicelib import wiring

    return json_response(wiring.results_service().dashboard(None))


@officials_api.route("/admin/api/agencies/{agency}/dashboard", methods=["GET"], cors=True)
@api(
    "agencyDashboard",
    "Response counts of every survey in one agency's area",
    params=(AGENCY,),
    permission="results.read",
    agency_param="agency",
    answers=(Answer(200, "Dashboard", "Dashboard"),),
    errors=(404,),
)
def agency_dashboard(_principal: Principal, agency: str) -> Response:
    from chalicelib import wiring

    return json_response(wiring.results_service().dashboard(agency))


@officials_api.route("/surveys/{survey_id}/reports", methods=["POST"], content_types=ANY, cors=True)
@api(
    "requestReport",
    "Build this survey's report now (asynchronously; audited)",
    params=(SURVEY_ID,),
    permission="report.request",
    answers=(Answer(202, "Requested", "ReportRequested"),),
    errors=(404,),
)
def request_report(principal: Principal, survey_id: str) -> Response:
    from chalicelib import wiring

    requested = wiring.report_service().request(principal.actor("report.request"), survey_id)
    return json_response(requested, status=202)


@officials_api.route("/admin/api/audit", methods=["GET"], cors=True)
@api(
    "auditLog",
    "Audit log entries in sequence order (hash-chained)",
    params=(
        FROM_SEQ,
        Param(
            "limit", "query", "At most this many, 1-500 (default 100)", {"type": "string", "pattern": "^[0-9]{1,3}$"}
        ),
    ),
    permission="audit.read",
    answers=(Answer(200, "Entries", "AuditPage"),),
)
def audit_log(_principal: Principal) -> Response:
    from chalicelib import wiring

    return json_response(wiring.audit_reader().page(request.query("from_seq"), request.query("limit")))


@officials_api.route("/admin/api/audit.csv", methods=["GET"])
@api(
    "auditLogCsv",
    "The whole audit log as CSV for inspectors (UTF-8 with BOM)",
    permission="audit.read",
    answers=(Answer(200, "CSV", media="text/csv"),),
)
def audit_log_csv(_principal: Principal) -> Response:
    from chalicelib import wiring

    disposition = {"Content-Disposition": 'attachment; filename="audit-log.csv"'}
    return text_response(wiring.audit_reader().csv(), "text/csv; charset=utf-8", disposition)


SETTINGS_MAX_BYTES = 512 * 1024


@officials_api.route("/admin/api/agencies/{agency}/settings", methods=["GET"], cors=True)
@api(
    "getAgencySettings",
    "An agency's embed origins and locations (service counters, offices, web pages)",
    params=(AGENCY,),
    permission="agency.manage",
    agency_param="agency",
    answers=(Answer(200, "Settings", "AgencySettings"),),
    errors=(404,),
)
def get_agency_settings(_principal: Principal, agency: str) -> Response:
    from chalicelib import wiring

    return json_response(wiring.agency_service().settings(agency).to_dict(), headers=NO_STORE)


@officials_api.route("/admin/api/agencies/{agency}/settings", methods=["PUT"], content_types=ANY, cors=True)
@api(
    "putAgencySettings",
    "Replace an agency's embed origins and, if given, its locations (audited; 409 if someone saved first)",
    params=(AGENCY,),
    permission="agency.manage",
    agency_param="agency",
    body="AgencySettingsChange",
    answers=(Answer(200, "Saved", "AgencySettings"),),
    errors=(404, 409, 413, 415),
)
def put_agency_settings(principal: Principal, agency: str) -> Response:
    from chalicelib import wiring
    from chalicelib.api.bodies import json_body
    from chalicelib.domain.clock import stamp

    # up to 200 locations with Vietnamese names (escaped \uXXXX by many clients): more than the usual 16 KB
    body = json_body(
        request.raw_body(), request.header("content-type"), "agency-settings", max_bytes=SETTINGS_MAX_BYTES
    )
    actor = principal.actor("agency.manage")
    saved = wiring.agency_service().save(
        actor, agency, body["version"], stamp(), origins=body["embed_origins"], locations=body.get("locations")
    )
    return json_response(saved.to_dict())


@officials_api.route("/admin/api/agencies/{agency}/users", methods=["GET"], cors=True)
@api(
    "listAgencyUsers",
    "Accounts of an agency",
    params=(AGENCY,),
    permission="user.manage",
    agency_param="agency",
    answers=(Answer(200, "Users", "Users"),),
    errors=(404, 503),
)
def list_agency_users(principal: Principal, agency: str) -> Response:
    from chalicelib import wiring

    users = wiring.user_admin().list_users(principal, agency)
    return json_response({"agency": agency, "users": [u.to_dict() for u in users]}, headers=NO_STORE)


@officials_api.route("/admin/api/agencies/{agency}/users", methods=["POST"], content_types=ANY, cors=True)
@api(
    "createAgencyUser",
    "Create an account in this agency (audited)",
    params=(AGENCY,),
    permission="user.manage",
    agency_param="agency",
    body="User_new_user",
    answers=(Answer(201, "Created", "Created"),),
    errors=(404, 409, 413, 415, 503),
)
def create_agency_user(principal: Principal, agency: str) -> Response:
    from chalicelib import wiring
    from chalicelib.api.bodies import json_body
    from chalicelib.domain.users import NewUser

    body = json_body(request.raw_body(), request.header("content-type"), "user", "new_user")
    new = NewUser(body["username"], body["name"], body["email"], tuple(body["roles"]), agency)
    created = wiring.user_admin().create_user(principal, principal.actor("user.manage"), agency, new)
    return json_response(created.to_dict(), status=201, headers=NO_STORE)


@officials_api.route(
    "/admin/api/agencies/{agency}/users/{username}/access", methods=["PUT"], content_types=ANY, cors=True
)
@api(
    "setUserAccess",
    "Replace an account's roles and scope (audited)",
    params=(AGENCY, USERNAME),
    permission="user.manage",
    agency_param="agency",
    body="User_access",
    answers=(Answer(200, "The account", "User"),),
    errors=(404, 409, 413, 415, 503),
)
def set_user_access(principal: Principal, agency: str, username: str) -> Response:
    from chalicelib import wiring
    from chalicelib.api.bodies import json_body

    body = json_body(request.raw_body(), request.header("content-type"), "user", "access")
    user = wiring.user_admin().set_access(
        principal, principal.actor("user.manage"), agency, username, tuple(body["roles"]), body["agency"]
    )
    return json_response(user.to_dict())


@officials_api.route(
    "/admin/api/agencies/{agency}/users/{username}/enabled", methods=["PUT"], content_types=ANY, cors=True
)
@api(
    "setUserEnabled",
    "Turn an account's sign-in on or off (audited)",
    params=(AGENCY, USERNAME),
    permission="user.manage",
    agency_param="agency",
    body="User_enabled",
    answers=(Answer(200, "The account", "User"),),
    errors=(404, 409, 413, 415, 503),
)
def set_user_enabled(principal: Principal, agency: str, username: str) -> Response:
    from chalicelib import wiring
    from chalicelib.api.bodies import json_body

    body = json_body(request.raw_body(), request.header("content-type"), "user", "enabled")
    user = wiring.user_admin().set_enabled(principal, principal.actor("user.manage"), agency, username, body["enabled"])
    return json_response(user.to_dict())
