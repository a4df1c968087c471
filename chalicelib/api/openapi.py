"""The OpenAPI 3.1 document, generated: the app's route table x each route's declaration x the contracts in schemas/.

Nothing here lists routes: a route that is not declared with chalicelib/api/operations.py fails the
generation, and tests/integration/test_openapi.py checks the document against the routes both ways.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from chalicelib.api.operations import OPERATIONS, Operation
from chalicelib.contracts import load_schema

ERROR = {"$ref": "#/components/schemas/Error"}
WHY = {
    302: "To the console's sign-in (no session, or the session ended)",
    400: "Invalid input: a stable code, a Vietnamese message, the field or parameter",
    401: "No valid bearer token",
    403: "Not allowed (the permission matrix), the survey is closed, or a bad CSRF token",
    404: "No such resource",
    409: "A conflict: an id reused with other content, or someone saved first",
    413: "Body too large",
    415: "Wrong content type",
    422: "Valid input that means nothing here (unknown place, unknown version)",
    500: "Server fault",
    503: "A service we depend on is unavailable; try again",
}
# Request contracts taken whole: (schema file, prefix of its definitions, the component of its top level)
EMBEDDED = (
    ("survey", "Survey_", "Survey"),
    ("submission", "Submission_", "Submission"),
    ("user", "User_", None),  # its parts are the bodies: User_new_user, User_access, User_enabled
    ("agency-settings", "AgencySettings_", "AgencySettingsChange"),
    ("survey-authoring", "SurveyAuthoring_", None),  # its parts are the bodies: SurveyAuthoring_publish, ...
    ("sampling", "Sampling_", None),  # its parts are the bodies: Sampling_design
    ("field-visit", "FieldVisit_", "FieldVisit"),
    ("field-assignment", "FieldAssignment_", "FieldAssignment"),
    ("paper", "Paper_", None),  # its parts are the bodies: Paper_batch, Paper_entry, Paper_resolution
    ("field-quality", "FieldQuality_", None),  # its parts are the bodies: FieldQuality_draw, FieldQuality_recode, ...
)


class UndocumentedRoute(RuntimeError):
    """A route without a declaration, or with a path parameter its declaration does not describe."""


def document(routes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The document of this route table (Chalice's app.routes: path -> method -> RouteEntry)."""
    key = tuple(
        sorted((path, method, entry.view_name) for path, methods in routes.items() for method, entry in methods.items())
    )
    return json.loads(_document(key))


@cache
def _document(routes: tuple[tuple[str, str, str], ...]) -> str:
    paths: dict[str, dict[str, Any]] = {}
    for path, method, view_name in routes:
        operation = OPERATIONS.get(view_name)
        if operation is None:
            raise UndocumentedRoute(f"{method} {path} ({view_name}) is not declared with chalicelib.api.operations")
        paths.setdefault(path, {})[method.lower()] = _operation(path, operation)
    return json.dumps(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "PAR Index and SIPAS platform API",
                "version": "1.0.0",
                "description": "Surveys, submissions, live results and the officials' administration of the Ministry of "
                "Home Affairs' PAR/SIPAS platform. Errors carry a stable code, a Vietnamese message and an English one. "
                "Officials' routes need an OpenID Connect bearer token (x-permission, x-roles and x-scope say which); "
                "console pages need the console's session cookie. "
                "Attribution of a response (agency, location, service, channel widget/qr/link) is recorded only from the "
                "signed `attribution` token that GET /s/{survey_id} puts in its form (valid 7 days, for that survey): a "
                "direct API client without one gets its channel recorded only if it is web, api, field or paper (else "
                "web), no agency and no location; its answers are accepted all the same.",
            },
            "paths": paths,
            "components": {"securitySchemes": SECURITY_SCHEMES, "schemas": _components()},
        },
        ensure_ascii=False,
    )


SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (OpenID Connect ID or access token)"},
}


def _operation(path: str, op: Operation) -> dict[str, Any]:
    declared = {p.name for p in op.params if p.where == "path"}
    missing = set(re.findall(r"{([^}]+)}", path)) - declared
    if missing:
        raise UndocumentedRoute(f"{path}: path parameters {sorted(missing)} are not declared")
    out: dict[str, Any] = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "parameters": [
            {
                "name": p.name,
                "in": p.where,
                "required": p.required or p.where == "path",
                "description": p.description,
                "schema": p.schema,
            }
            for p in op.params
        ],
        "responses": _responses(op),
    }
    if op.permission and op.kind == "api":
        out["security"] = [{"bearer": []}]
    if op.permission:
        out.update(_permission(op))
    if op.body or op.uploads:
        content: dict[str, Any] = {}
        if op.body:
            content["application/json"] = {"schema": {"$ref": f"#/components/schemas/{op.body}"}}
        for media in op.uploads:  # a file sent as is (an XLSForm workbook, a sampling frame)
            content[media] = {"schema": {"type": "string", "format": "binary"}}
        out["requestBody"] = {"required": True, "content": content}
    elif op.form is not None and op.upload:
        schema = {
            **op.form,
            "properties": {**op.form.get("properties", {}), op.upload: {"type": "string", "format": "binary"}},
        }
        out["requestBody"] = {  # the file's form is multipart; the page's other forms are url-encoded
            "required": True,
            "content": {
                "multipart/form-data": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": op.form},
            },
        }
    elif op.form is not None:
        out["requestBody"] = {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": op.form}}}
    return out


def _responses(op: Operation) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for answer in op.answers:
        entry = answers.setdefault(str(answer.status), {"description": answer.description})
        if answer.media:
            schema = {"$ref": f"#/components/schemas/{answer.schema}"} if answer.schema else {"type": "string"}
            entry.setdefault("content", {})[answer.media] = {"schema": schema}
    if op.kind == "console":
        answers["200"] = {"description": "The page", "content": {"text/html": {"schema": {"type": "string"}}}}
        if op.form is not None:
            answers["303"] = {"description": "Saved; on to the page that shows it"}
        answers["302"] = {"description": WHY[302]}
    for status in op.errors:
        if op.kind == "api":
            answers[str(status)] = {"description": WHY[status], "content": {"application/json": {"schema": ERROR}}}
        else:  # a page: the error is a page a person can read
            html = {"text/html": {"schema": {"type": "string"}}}
            answers[str(status)] = {"description": WHY[status], "content": html}
    return answers


def _permission(op: Operation) -> dict[str, Any]:
    from chalicelib.auth.permissions import PERMISSIONS

    permission = PERMISSIONS[op.permission or ""]
    if op.own:
        scope = "the caller's own"
    elif op.agency_param:
        scope = f"the agency in '{op.agency_param}'"
    elif op.survey_param:
        scope = f"the agency owning the ad hoc survey in '{op.survey_param}' (national for any other survey)"
    else:
        scope = "national"
    return {
        "description": f"Needs permission `{permission.id}` ({permission.description}); resource scope: {scope}.",
        "x-permission": permission.id,
        "x-roles": sorted(permission.roles),
        "x-scope": scope,
    }


def _components() -> dict[str, Any]:
    answers = load_schema("api")
    components: dict[str, Any] = dict(answers["$defs"])
    for name, prefix, top in EMBEDDED:
        schema, parts = _embed(name, prefix)
        components.update(parts)
        if top:
            components[top] = schema
    return components


def _embed(name: str, prefix: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A schemas/ file as a component: its definitions become components, its refs follow them."""
    schema = load_schema(name)
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
