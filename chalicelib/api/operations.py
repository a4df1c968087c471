"""Route declarations: each route's contract (parameters, body, answers, permission) and the guard that enforces it.

A view is declared once with one of three decorators, under its blueprint's `route`:

- `@api(...)`: a JSON route. A domain error becomes its status and stable code; anything else a logged 500.
- `@page(...)`: an HTML page for citizens; the same mapping, rendered as a page.
- `@console(...)`: an officials' console page: session cookie (else a redirect to sign-in), CSRF on a POST.

Each records an `Operation` in OPERATIONS (keyed by view name). That registry is the one source of the
OpenAPI document (chalicelib/api/openapi.py), of the generated route x role x scope test, and of the
checks run before the view: path and query parameters are validated against the very schemas the
document publishes (400 `invalid_query` naming the parameter), so the document and the API cannot
disagree. With a `permission`, the caller is authenticated and `chalicelib.auth.authorize` decides.
Parameters are checked before the caller: a malformed request is the same 400 for everyone.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any, NamedTuple

from chalicelib.api import request
from chalicelib.domain.errors import DomainError


# NamedTuples, not dataclasses: app.py imports this module through every blueprint, and its cold start counts.
class Param(NamedTuple):
    name: str
    where: str  # "path", "query" or "cookie"
    description: str
    schema: dict[str, Any] = {"type": "string"}  # noqa: RUF012 - read only; documented and checked as is
    required: bool = False


class Answer(NamedTuple):
    status: int
    description: str
    schema: str | None = None  # a component of the document (schemas/api.schema.json or an embedded contract)
    media: str = "application/json"


class Operation(NamedTuple):
    kind: str  # "api", "page" or "console"
    operation_id: str
    summary: str
    params: tuple[Param, ...] = ()
    answers: tuple[Answer, ...] = ()
    errors: tuple[int, ...] = ()
    permission: str | None = None
    agency_param: str | None = None  # the route parameter naming the agency the resource belongs to
    own: bool = False  # the caller's own resource: any grant of the permission
    body: str | None = None  # the JSON request body's component
    form: dict[str, Any] | None = None  # the url-encoded form body's schema
    public: bool = True  # no sign-in at all (a console route that only starts or ends one has public=True)
    survey_param: str | None = None  # the route parameter naming a survey: its owner agency is the target
    uploads: tuple[str, ...] = ()  # request media types accepted besides the JSON body (a file, as is)
    upload: str | None = None  # a console form sent multipart/form-data: the name of its file field


OPERATIONS: dict[str, Operation] = {}  # view function name -> its operation


def _register(view: Callable[..., Any], operation: Operation) -> None:
    if view.__name__ in OPERATIONS:
        raise ValueError(f"two views are named {view.__name__}: the registries key on view names")
    OPERATIONS[view.__name__] = operation


# --- parameters -------------------------------------------------------------------------------------
@functools.cache
def _param_validator(schema_text: str) -> Callable[[Any], Any]:
    from chalicelib.contracts import compile_validator

    return compile_validator(json.loads(schema_text))


def check_params(operation: Operation, path_values: dict[str, Any]) -> None:
    """Path and query values against their documented schemas (compiled once, on first use)."""
    from fastjsonschema import JsonSchemaException

    from chalicelib.domain.errors import BadQuery

    if not operation.public:
        # The officials' API and the console take only what they document: a misspelt parameter is an error,
        # not silently ignored. Public routes tolerate others: links shared in Zalo or Facebook come back with
        # fbclid and utm_*, assets carry cache-busting versions, third-party clients add their own.
        known = {p.name for p in operation.params if p.where == "query"}
        unknown = [name for name in request.query_names() if name not in known]
        if unknown:
            shown = unknown[0][:40]
            raise BadQuery(
                f"Tham số không được hỗ trợ: {shown}.",
                f"Unsupported query parameter: {shown}; the accepted ones are listed in /openapi.json.",
                field=shown,
            )
    for param in operation.params:
        if param.where == "cookie":
            continue  # the console's session: the guard reads it (no valid session is a redirect, not an error)
        value = path_values.get(param.name) if param.where == "path" else request.query(param.name)
        if value is None:
            if param.required:
                raise BadQuery(f"Thiếu tham số {param.name}.", f"Missing parameter {param.name}.", field=param.name)
            continue
        try:
            _param_validator(json.dumps(param.schema, sort_keys=True))(value)
        except JsonSchemaException:
            raise BadQuery(
                f"Tham số {param.name} không hợp lệ.",
                f"Invalid parameter {param.name}: {param.description}.",
                field=param.name,
            ) from None


def target_of(operation: Operation, path_values: dict[str, Any]) -> Any:
    from chalicelib.auth.principal import OWN

    if operation.own:
        return OWN
    if operation.survey_param:  # an ad hoc survey belongs to its agency; any other survey is national
        from chalicelib import wiring

        return wiring.authoring_service().target(str(path_values.get(operation.survey_param)))
    return path_values.get(operation.agency_param) if operation.agency_param else None


# --- the three kinds of route ---------------------------------------------------------------------
def api(
    operation_id: str,
    summary: str,
    *,
    params: tuple[Param, ...] = (),
    answers: tuple[Answer, ...] = (),
    errors: tuple[int, ...] = (),
    permission: str | None = None,
    agency_param: str | None = None,
    own: bool = False,
    body: str | None = None,
    survey_param: str | None = None,
    uploads: tuple[str, ...] = (),
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A JSON route. With a permission the view receives the authorised Principal first."""
    operation = Operation(
        "api",
        operation_id,
        summary,
        params,
        answers,
        tuple(sorted({*errors, 400, 500, *((401, 403) if permission else ())})),
        permission,
        agency_param,
        own,
        body,
        public=permission is None,
        survey_param=survey_param,
        uploads=uploads,
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        _register(view, operation)

        @functools.wraps(view)
        def wrapped(**path_values: Any) -> Any:
            from chalicelib.api.http import json_error, server_error

            try:
                check_params(operation, path_values)
                if permission is None:
                    return view(**path_values)
                from chalicelib.api import guard
                from chalicelib.auth.principal import authorize

                principal = authorize(guard.bearer_principal(), permission, target_of(operation, path_values))
                return view(principal, **path_values)
            except DomainError as exc:
                return json_error(exc)
            except Exception as exc:  # every failure becomes an answer; an unexpected one is logged
                return server_error(view.__name__, exc, html=False)

        return wrapped

    return decorate


def page(
    operation_id: str,
    summary: str,
    *,
    params: tuple[Param, ...] = (),
    answers: tuple[Answer, ...] = (),
    errors: tuple[int, ...] = (),
    form: dict[str, Any] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """An HTML page for citizens (no sign-in); an error is a page a citizen can read."""
    operation = Operation("page", operation_id, summary, params, answers, tuple(sorted({*errors, 400, 500})), form=form)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        _register(view, operation)

        @functools.wraps(view)
        def wrapped(**path_values: Any) -> Any:
            from chalicelib.api.http import error_page, server_error

            try:
                check_params(operation, path_values)
                return view(**path_values)
            except DomainError as exc:
                return error_page(exc)
            except Exception as exc:
                return server_error(view.__name__, exc, html=True)

        return wrapped

    return decorate


FORM_MAX_BYTES = 64 * 1024
UPLOAD_MAX_BYTES = 4 * 1024 * 1024  # a console form with a file (an XLSForm workbook)
# Documented as an optional cookie, not as a security scheme: without it a browser is sent to sign in (302)
# rather than refused, and that is what the document says.
SESSION_COOKIE = Param(
    "par_session",
    "cookie",
    "The console's HttpOnly session (set by /admin/callback); without a valid one the answer is 302 to /admin/login",
)
CSRF_FORM = {"type": "object", "required": ["csrf"], "properties": {"csrf": {"type": "string", "minLength": 1}}}


def console(
    operation_id: str,
    summary: str,
    permission: str | None,
    *,
    agency_param: str | None = None,
    own: bool = False,
    params: tuple[Param, ...] = (),
    form: bool = False,
    survey_param: str | None = None,
    upload: str | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A console page. The view gets (principal, session_token, form, **path values) and returns HTML, (HTML, status)
    or a Response; `form` is the parsed url-encoded body of a POST, its CSRF token already checked ({} for a GET).

    permission None: any signed-in official (signing out, which even an account left without roles can do).
    upload: the form is multipart/form-data with a file field of that name (read it with guard.uploaded_file).
    """
    operation = Operation(
        "console",
        operation_id,
        summary,
        (*params, SESSION_COOKIE),
        (),
        (400, 403, 500),
        permission,
        agency_param,
        own,
        form=CSRF_FORM if form else None,
        public=False,
        survey_param=survey_param,
        upload=upload,
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        _register(view, operation)

        @functools.wraps(view)
        def wrapped(**path_values: Any) -> Any:
            from chalice import Response

            from chalicelib.api import guard
            from chalicelib.api.http import error_page, html_response, server_error
            from chalicelib.auth.principal import authorize

            try:
                check_params(operation, path_values)
                # The body's shape before the caller (the same 400 for everyone); a workbook in it is only
                # opened by the view, after the session and the permission.
                posted = guard.posted_form(UPLOAD_MAX_BYTES if upload else FORM_MAX_BYTES) if form else {}
                signed_in = guard.console_session()
                if signed_in is None:
                    return Response(
                        body="", status_code=302, headers={"Location": "/admin/login", "Cache-Control": "no-store"}
                    )
                principal, token = signed_in
                if form:
                    guard.check_csrf(token, posted)
                if permission is not None:
                    authorize(principal, permission, target_of(operation, path_values))
                result = view(principal, token, posted, **path_values)
            except DomainError as exc:
                return error_page(exc)
            except Exception as exc:
                return server_error(view.__name__, exc, html=True)
            if isinstance(result, tuple):  # (page, status): a form refused, shown again with its error
                return html_response(result[0], result[1])
            return result if isinstance(result, Response) else html_response(result)

        return wrapped

    return decorate
