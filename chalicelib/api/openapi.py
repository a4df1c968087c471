"""The OpenAPI 3.1 document of the public API, built from schemas/ so the contract has one source."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from chalicelib.contracts import load_schema

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "Invalid input (code, Vietnamese message, field path)",
        401: "No valid bearer token",
        403: "Survey not open",
        404: "Unknown survey",
        409: "Id reused with different content",
        413: "Body too large",
        415: "Not JSON",
        422: "Valid JSON, wrong meaning (location, version)",
        500: "Server fault",
    }
    return {str(c): _json(_ERROR, text[c]) for c in codes}


def _html(description: str) -> dict[str, Any]:
    return {"200": {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}}


def _param(
    name: str, where: str, description: str, schema: dict[str, Any] | None = None, required: bool = False
) -> dict[str, Any]:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "description": description,
        "schema": schema or {"type": "string"},
    }


SURVEY_ID = _param(
    "survey_id", "path", "Survey id, e.g. sipas-2026", {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{2,62}$"}
)
RECEIPT = _param("receipt", "path", "Receipt code (the response's ULID)", {"type": "string"})
VERSION = _param(
    "version", "query", "A survey version (default: the current one)", {"type": "string", "pattern": "^[0-9]+$"}
)


def _embed(name: str, prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A schemas/ file as an OpenAPI component: its definitions become components, its refs follow them."""
    schema = json.loads(json.dumps(load_schema(name)))
    definitions = {**schema.pop("definitions", {}), **schema.pop("$defs", {})}

    def rewrite(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: (
                    v.replace("#/definitions/", f"#/components/schemas/{prefix}").replace(
                        "#/$defs/", f"#/components/schemas/{prefix}"
                    )
                    if k == "$ref"
                    else rewrite(v)
                )
                for k, v in node.items()
                if not (k.startswith("$") and k != "$ref")
            }
        if isinstance(node, list):
            return [rewrite(v) for v in node]
        return node

    return rewrite(schema), {f"{prefix}{key}": rewrite(value) for key, value in definitions.items()}


def _officials(
    operation_id: str,
    view: str,
    summary: str,
    ok: str,
    params: list[dict[str, Any]] | None = None,
    ok_content: dict[str, Any] | None = None,
    body: str | None = None,
    ok_status: str = "200",
    errors: tuple[int, ...] = (),
) -> dict[str, Any]:
    """An operation for officials: bearer token, the permission and roles from the one matrix."""
    from chalicelib.api.guard import PROTECTED
    from chalicelib.auth.permissions import PERMISSIONS

    protection = PROTECTED[view]
    permission = PERMISSIONS[protection.permission]
    scope = (
        "the caller's own"
        if protection.any_scope
        else f"the agency in '{protection.agency_param}'"
        if protection.agency_param
        else "national"
    )
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "description": f"Needs permission `{permission.id}` ({permission.description}); resource scope: {scope}.",
        "security": [{"bearer": []}],
        "x-permission": permission.id,
        "x-roles": sorted(permission.roles),
        "x-scope": scope,
        "parameters": params or [],
        "responses": {
            ok_status: ok_content or _json({"type": "object"}, ok),
            **_errors(401, 403, 404, *errors),
        },
    }
    if body:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{body}"}}},
        }
    return operation


def _console(
    operation_id: str, view: str, summary: str, params: list[dict[str, Any]] | None = None, form: bool = False
) -> dict[str, Any]:
    """A console page: session cookie, the permission from its @console_page registration."""
    from chalicelib.api.console import CONSOLE_PAGES

    page = CONSOLE_PAGES[view]
    responses: dict[str, Any] = {
        "302": {"description": "To sign-in (no session) or onward"},
        "403": {"description": "Not allowed (or a bad CSRF token)"},
    }
    if form:
        responses = {**responses, **_html("The page again, with the error"), "303": {"description": "Saved"}}
        responses["400"] = {"description": "Refused, with the error on the page"}
    else:
        responses = {**_html("Page"), **responses}
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": f"{summary} (session cookie; permission {page.permission or 'none, a session only'})",
        "security": [{"session": []}],
        **({"x-permission": page.permission} if page.permission else {}),
        "parameters": params or [],
        "responses": responses,
    }
    if form:
        operation["requestBody"] = {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "required": ["csrf"], "properties": {"csrf": {"type": "string"}}}
                }
            }
        }
    return operation


AGENCY = _param(
    "agency",
    "path",
    "Agency code: P + province code (P01 Hà Nội) or M- + ministry (M-BNV); 'national' for the Ministry's own",
    {"type": "string", "pattern": "^(national|[A-Z][A-Z0-9-]{1,15})$"},
)
USERNAME = _param("username", "path", "Account username", {"type": "string", "pattern": "^[a-z0-9][a-z0-9._-]{2,63}$"})


@cache
def document() -> dict[str, Any]:
    survey, survey_parts = _embed("survey", "Survey_")
    submission, submission_parts = _embed("submission", "Submission_")
    _, user_parts = _embed("user", "User_")
    agency_change, _ = _embed("agency-settings", "AgencySettings_")
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "PAR Index and SIPAS platform API",
            "version": "1.0.0",
            "description": "Surveys, submissions and live results of the Ministry of Home Affairs' PAR/SIPAS platform. "
            "Errors carry a stable code, a Vietnamese message and an English one. Authentication arrives with the "
            "officials' features; every route below is public.",
        },
        "paths": {
            "/surveys": {
                "get": {
                    "operationId": "listSurveys",
                    "summary": "Surveys and their current versions",
                    "responses": {"200": _json({"type": "object"}, "Survey list"), **_errors(500)},
                }
            },
            "/surveys/{survey_id}": {
                "get": {
                    "operationId": "getSurvey",
                    "summary": "A survey definition and its compiled submission schema",
                    "parameters": [SURVEY_ID, VERSION],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/SurveyContract"}, "Definition and schema"),
                        **_errors(400, 404, 422, 500),
                    },
                }
            },
            "/surveys/{survey_id}/responses": {
                "post": {
                    "operationId": "submitResponse",
                    "summary": "Submit a response; a retry with the same id returns the same receipt",
                    "parameters": [SURVEY_ID],
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submission"}}},
                    },
                    "responses": {
                        "201": _json({"$ref": "#/components/schemas/Receipt"}, "Stored"),
                        "200": _json(
                            {"$ref": "#/components/schemas/Receipt"},
                            "Already stored (an honest retry): the same receipt",
                        ),
                        **_errors(400, 403, 404, 409, 413, 415, 422, 500),
                    },
                }
            },
            "/surveys/{survey_id}/results": {
                "get": {
                    "operationId": "getResults",
                    "summary": "Live results from the aggregates (never a scan of responses)",
                    "parameters": [
                        SURVEY_ID,
                        VERSION,
                        _param(
                            "scope",
                            "query",
                            "all, p<province code> (p01) or c<commune code> (c00004)",
                            {"type": "string", "pattern": "^(all|p[0-9]{2}|c[0-9]{5})$"},
                        ),
                        _param(
                            "include_flagged",
                            "query",
                            "Count flagged responses too",
                            {"type": "string", "enum": ["0", "1", "true", "false"]},
                        ),
                    ],
                    "responses": {
                        "200": _json({"$ref": "#/components/schemas/Results"}, "Indices and distributions"),
                        **_errors(400, 404, 422, 500),
                    },
                }
            },
            "/responses/{receipt}": {
                "get": {
                    "operationId": "myResponse",
                    "summary": "A citizen sees their own response by its receipt code (Decree 13/2023)",
                    "parameters": [RECEIPT],
                    "responses": {
                        "200": _json({"type": "object"}, "The response, its status, which identifiers are kept"),
                        **_errors(404),
                    },
                }
            },
            "/responses/{receipt}/withdrawal": {
                "post": {
                    "operationId": "withdrawMyResponse",
                    "summary": "A citizen withdraws their response: answers and identifiers deleted, counts removed",
                    "parameters": [RECEIPT],
                    "responses": {"200": _json({"type": "object"}, "Withdrawn"), **_errors(404, 409)},
                }
            },
            "/r/{receipt}": {
                "get": {
                    "operationId": "myResponsePage",
                    "summary": "A citizen's own response as a page, with the deletion form",
                    "parameters": [RECEIPT],
                    "responses": {**_html("The response"), "404": {"description": "Unknown receipt code"}},
                }
            },
            "/r/{receipt}/withdrawal": {
                "post": {
                    "operationId": "withdrawMyResponsePage",
                    "summary": "Deletion request from the page (form post with confirm=yes)",
                    "parameters": [RECEIPT],
                    "requestBody": {
                        "content": {
                            "application/x-www-form-urlencoded": {
                                "schema": {
                                    "type": "object",
                                    "properties": {"confirm": {"type": "string", "enum": ["yes"]}},
                                }
                            }
                        }
                    },
                    "responses": {
                        **_html("Withdrawn"),
                        "400": {"description": "Not confirmed"},
                        "404": {"description": "Unknown receipt code"},
                        "409": {"description": "Already withdrawn"},
                    },
                }
            },
            "/geo/provinces": {
                "get": {
                    "operationId": "listProvinces",
                    "summary": "Provinces of a geography version (default vn-2025: 34 provinces)",
                    "parameters": [
                        _param("geography", "query", "Reference-data version", {"type": "string", "enum": ["vn-2025"]})
                    ],
                    "responses": {"200": _json({"type": "object"}, "Provinces"), **_errors(400)},
                }
            },
            "/geo/provinces/{code}/communes": {
                "get": {
                    "operationId": "listCommunes",
                    "summary": "Communes of a province",
                    "parameters": [
                        _param("code", "path", "Province code", {"type": "string", "pattern": "^[0-9]{2}$"}),
                        _param("geography", "query", "Reference-data version", {"type": "string", "enum": ["vn-2025"]}),
                    ],
                    "responses": {"200": _json({"type": "object"}, "Communes"), **_errors(400, 404)},
                }
            },
            "/admin/api/me": {
                "get": _officials("whoAmI", "whoami", "The signed-in official and their grants", "Principal")
            },
            "/admin/api/dashboard": {
                "get": _officials(
                    "nationalDashboard",
                    "national_dashboard",
                    "Response counts of every survey, nationally",
                    "Dashboard",
                )
            },
            "/admin/api/agencies/{agency}/dashboard": {
                "get": _officials(
                    "agencyDashboard",
                    "agency_dashboard",
                    "Response counts of every survey in one agency's area",
                    "Dashboard",
                    [
                        _param(
                            "agency",
                            "path",
                            "Agency code, e.g. P01 (Hà Nội)",
                            {"type": "string", "pattern": "^[A-Z][A-Z0-9-]{1,15}$"},
                        )
                    ],
                )
            },
            "/surveys/{survey_id}/reports": {
                "post": _officials(
                    "requestReport",
                    "request_report",
                    "Build this survey's report now (asynchronously)",
                    "Requested",
                    [SURVEY_ID],
                    ok_status="202",
                )
            },
            "/admin/api/audit": {
                "get": _officials(
                    "auditLog",
                    "audit_log",
                    "Audit log entries in sequence order (hash-chained)",
                    "Entries",
                    [
                        _param(
                            "from_seq",
                            "query",
                            "First sequence number (default 1)",
                            {"type": "string", "pattern": "^[0-9]+$"},
                        ),
                        _param(
                            "limit",
                            "query",
                            "At most this many (default 100, max 500)",
                            {"type": "string", "pattern": "^[0-9]+$"},
                        ),
                    ],
                )
            },
            "/admin/api/audit.csv": {
                "get": _officials(
                    "auditLogCsv",
                    "audit_log_csv",
                    "The whole audit log as CSV for inspectors",
                    "CSV",
                    ok_content={
                        "description": "CSV (UTF-8 with BOM)",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                )
            },
            "/admin/login": {
                "get": {
                    "operationId": "adminLogin",
                    "summary": "Start the console sign-in (redirect to the OpenID provider)",
                    "responses": {
                        "302": {"description": "To the provider's sign-in page"},
                        "401": {"description": "Sign-in not configured"},
                    },
                }
            },
            "/admin/callback": {
                "get": {
                    "operationId": "adminCallback",
                    "summary": "Finish sign-in: exchange the code, set the HttpOnly session cookie",
                    "parameters": [
                        _param("code", "query", "Authorization code"),
                        _param("state", "query", "State from /admin/login"),
                    ],
                    "responses": {
                        "302": {"description": "To /admin, with the session cookie"},
                        "401": {"description": "Bad state or code"},
                    },
                }
            },
            "/admin": {"get": _console("adminDashboard", "admin_dashboard", "Console dashboard")},
            "/admin/audit": {
                "get": _console(
                    "adminAudit",
                    "admin_audit",
                    "Audit log viewer",
                    [_param("from_seq", "query", "First sequence number", {"type": "string", "pattern": "^[0-9]+$"})],
                )
            },
            "/admin/agencies": {"get": _console("adminAgencies", "admin_agencies", "Agencies in the caller's scope")},
            "/admin/agencies/{agency}": {
                "get": _console("adminAgency", "admin_agency", "An agency: embed origins and embed code", [AGENCY])
            },
            "/admin/agencies/{agency}/origins": {
                "post": _console(
                    "adminAgencyOrigins", "admin_agency_origins", "Save the embed origins", [AGENCY], form=True
                )
            },
            "/admin/agencies/{agency}/users": {
                "get": _console("adminUsers", "admin_users", "Accounts of an agency", [AGENCY]),
                "post": _console("adminUsersCreate", "admin_users_create", "Create an account", [AGENCY], form=True),
            },
            "/admin/agencies/{agency}/users/{username}": {
                "get": _console("adminUser", "admin_user", "One account", [AGENCY, USERNAME]),
                "post": _console(
                    "adminUserChange", "admin_user_change", "Change roles, scope or sign-in", [AGENCY, USERNAME], True
                ),
            },
            "/admin/logout": {"post": _console("adminLogout", "admin_logout", "Sign out", form=True)},
            "/agencies": {
                "get": {
                    "operationId": "listAgencies",
                    "summary": "Agencies (ministries and provinces) in force on a day, or all with their successors",
                    "parameters": [
                        _param("on", "query", "A day, YYYY-MM-DD (default today)", {"type": "string"}),
                        _param("include_ended", "query", "1: every agency ever known, with validity dates"),
                    ],
                    "responses": {"200": _json({"$ref": "#/components/schemas/Agencies"}, "Agencies"), **_errors(400)},
                }
            },
            "/admin/api/agencies/{agency}/settings": {
                "get": _officials(
                    "getAgencySettings", "get_agency_settings", "An agency's embed origins", "AgencySettings", [AGENCY]
                ),
                "put": _officials(
                    "putAgencySettings",
                    "put_agency_settings",
                    "Replace an agency's embed origins (audited; 409 if someone saved first)",
                    "AgencySettings",
                    [AGENCY],
                    body="AgencySettingsChange",
                    errors=(400, 409, 415),
                ),
            },
            "/admin/api/agencies/{agency}/users": {
                "get": _officials("listAgencyUsers", "list_agency_users", "Accounts of an agency", "Users", [AGENCY]),
                "post": _officials(
                    "createAgencyUser",
                    "create_agency_user",
                    "Create an account in this agency (audited)",
                    "Created",
                    [AGENCY],
                    body="User_new_user",
                    ok_status="201",
                    errors=(400, 409, 415),
                ),
            },
            "/admin/api/agencies/{agency}/users/{username}/access": {
                "put": _officials(
                    "setUserAccess",
                    "set_user_access",
                    "Replace an account's roles and scope (audited)",
                    "User",
                    [AGENCY, USERNAME],
                    body="User_access",
                    errors=(400, 415),
                )
            },
            "/admin/api/agencies/{agency}/users/{username}/enabled": {
                "put": _officials(
                    "setUserEnabled",
                    "set_user_enabled",
                    "Turn an account's sign-in on or off (audited)",
                    "User",
                    [AGENCY, USERNAME],
                    body="User_enabled",
                    errors=(400, 415),
                )
            },
            "/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "responses": {"200": _json({"type": "object"}, "OpenAPI")},
                }
            },
            "/": {"get": {"operationId": "homePage", "summary": "Portal home page", "responses": _html("Page")}},
            "/s/{survey_id}": {
                "get": {
                    "operationId": "surveyPage",
                    "summary": "The survey as an HTML form (works without JavaScript)",
                    "parameters": [
                        SURVEY_ID,
                        _param("embed", "query", "Render for an iframe widget", {"type": "string", "enum": ["0", "1"]}),
                    ],
                    "responses": {
                        **_html("Form"),
                        "403": {"description": "Survey closed"},
                        "404": {"description": "Unknown survey"},
                    },
                },
                "post": {
                    "operationId": "surveyPageSubmit",
                    "summary": "Form post of the HTML form (no-JavaScript path)",
                    "parameters": [
                        SURVEY_ID,
                        _param("embed", "query", "Render for an iframe widget", {"type": "string", "enum": ["0", "1"]}),
                    ],
                    "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}},
                    "responses": {
                        "201": {"description": "Receipt page"},
                        "200": {"description": "Receipt page of a retry"},
                        "400": {"description": "The form again, with errors"},
                        "403": {"description": "Survey closed"},
                        "404": {"description": "Unknown survey"},
                    },
                },
            },
            "/s/{survey_id}/results": {
                "get": {
                    "operationId": "resultsPage",
                    "summary": "Live results page",
                    "parameters": [
                        SURVEY_ID,
                        VERSION,
                        _param("scope", "query", "all, pNN or cNNNNN"),
                        _param("include_flagged", "query", "1 to count flagged responses"),
                    ],
                    "responses": {
                        **_html("Results"),
                        "400": {"description": "Bad scope"},
                        "404": {"description": "Unknown survey"},
                        "422": {"description": "Unknown version of this survey"},
                    },
                }
            },
            "/reports": {
                "get": {
                    "operationId": "reportsPage",
                    "summary": "Published report sets in S3",
                    "responses": _html("Report list"),
                }
            },
            "/reports/file": {
                "get": {
                    "operationId": "reportFile",
                    "summary": "One file of a report set",
                    "parameters": [_param("key", "query", "S3 key under reports/", required=True)],
                    "responses": {
                        "200": {"description": "The file (HTML, CSV or JSON)"},
                        "404": {"description": "No such report file"},
                    },
                }
            },
            "/static/{name}": {
                "get": {
                    "operationId": "staticAsset",
                    "summary": "CSS and JavaScript of the pages",
                    "parameters": [_param("name", "path", "File name")],
                    "responses": {"200": {"description": "The asset"}, "404": {"description": "No such asset"}},
                }
            },
        },
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT (OpenID Connect ID or access token)",
                },
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "par_session",
                    "description": "The console's HttpOnly session cookie, set by /admin/callback",
                },
            },
            "schemas": {
                **survey_parts,
                **submission_parts,
                **user_parts,
                "AgencySettingsChange": agency_change,
                "AgencySettings": {
                    "type": "object",
                    "required": ["agency", "embed_origins", "version"],
                    "properties": {
                        "agency": {"type": "string"},
                        "embed_origins": {"type": "array", "items": {"type": "string"}},
                        "version": {"type": "integer"},
                        "updated_at": {"type": ["string", "null"]},
                        "updated_by": {"type": ["string", "null"]},
                    },
                },
                "User": {
                    "type": "object",
                    "required": ["username", "name", "email", "roles", "agency", "enabled", "status"],
                    "properties": {
                        "username": {"type": "string"},
                        "name": {"type": "string"},
                        "email": {"type": "string"},
                        "roles": {"type": "array", "items": {"type": "string"}},
                        "agency": {"type": "string"},
                        "enabled": {"type": "boolean"},
                        "status": {"type": "string"},
                        "created_at": {"type": ["string", "null"]},
                    },
                },
                "Users": {
                    "type": "object",
                    "required": ["agency", "users"],
                    "properties": {
                        "agency": {"type": "string"},
                        "users": {"type": "array", "items": {"$ref": "#/components/schemas/User"}},
                    },
                },
                "Created": {
                    "type": "object",
                    "required": ["user"],
                    "properties": {
                        "user": {"$ref": "#/components/schemas/User"},
                        "temporary_password": {
                            "type": "string",
                            "description": "Only from the local identity provider; Cognito e-mails it",
                        },
                    },
                },
                "Agencies": {
                    "type": "object",
                    "required": ["agencies"],
                    "properties": {
                        "on": {"type": ["string", "null"]},
                        "agencies": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["code", "name", "kind", "valid_from"],
                                "properties": {
                                    "code": {"type": "string"},
                                    "name": {"type": "string"},
                                    "short_name": {"type": "string"},
                                    "kind": {"enum": ["ministry", "ministry_level", "province"]},
                                    "valid_from": {"type": "string"},
                                    "valid_to": {"type": ["string", "null"]},
                                    "successors": {"type": "array", "items": {"type": "string"}},
                                },
                            },
                        },
                    },
                },
                "Survey": survey,
                "Submission": submission,
                "SurveyContract": {
                    "type": "object",
                    "required": ["survey", "submission_schema", "open"],
                    "properties": {
                        "survey": {"$ref": "#/components/schemas/Survey"},
                        "submission_schema": {"type": "object"},
                        "open": {"type": "boolean"},
                    },
                },
                "Receipt": {
                    "type": "object",
                    "required": ["receipt", "survey_id", "survey_version", "status", "received_at"],
                    "additionalProperties": False,
                    "properties": {
                        "receipt": {"type": "string", "pattern": "^[0-7][0-9A-HJKMNP-TV-Z]{25}$"},
                        "survey_id": {"type": "string"},
                        "survey_version": {"type": "integer"},
                        "status": {"const": "received"},
                        "received_at": {"type": "string", "format": "date-time"},
                    },
                },
                "Results": {
                    "type": "object",
                    "required": ["survey_id", "survey_version", "scope", "include_flagged", "counts", "n", "questions"],
                    "properties": {
                        "survey_id": {"type": "string"},
                        "survey_version": {"type": "integer"},
                        "scope": {"type": "string"},
                        "include_flagged": {"type": "boolean"},
                        "weighted": {"type": "boolean"},
                        "n": {"type": "integer"},
                        "counts": {"type": "object", "additionalProperties": {"type": "integer"}},
                        "index": {"type": "object"},
                        "questions": {"type": "array"},
                    },
                },
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message", "message_en"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string", "description": "Vietnamese, for the citizen"},
                                "message_en": {"type": "string"},
                                "field": {"type": "string", "description": "JSON pointer of the offending field"},
                                "details": {"type": "array"},
                            },
                        }
                    },
                },
            },
        },
    }
