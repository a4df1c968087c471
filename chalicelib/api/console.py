"""The admin console's pages: a session cookie (OIDC code flow), CSRF on every form, the permission matrix.

`@console_page` is to console pages what `@protected` is to the bearer API: it signs the official in
from the session cookie (or redirects to sign-in), checks the CSRF token of a POST, checks the
permission on the page's agency, and renders a domain error as a page. Its registry CONSOLE_PAGES
feeds the generated route x role x scope test, as PROTECTED does for the API.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple
from urllib.parse import parse_qs

from chalice import Response

FORM_MAX_BYTES = 64 * 1024


class ConsolePage(NamedTuple):
    permission: str | None  # None: any signed-in official (signing out)
    agency_param: str | None  # the route parameter naming the agency the page belongs to
    any_scope: bool = False  # the page shows the caller's own scope: any grant of the permission


CONSOLE_PAGES: dict[str, ConsolePage] = {}  # view function name -> its protection


def console_page(
    permission: str | None, agency_param: str | None = None, any_scope: bool = False
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """The view gets (principal, session_token, form, **route params) and returns HTML or a Response.

    `form` is the parsed urlencoded body of a POST (its CSRF token already checked), {} for a GET.
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        CONSOLE_PAGES[view.__name__] = ConsolePage(permission, agency_param, any_scope)

        @functools.wraps(view)
        def wrapped(**kwargs: Any) -> Response:
            from chalicelib import wiring
            from chalicelib.api import session
            from chalicelib.api.http import error_page, html_response, internal_error_page, log
            from chalicelib.auth.permissions import NATIONAL
            from chalicelib.auth.tokens import Forbidden
            from chalicelib.domain.errors import BodyTooLarge, DomainError
            from chalicelib.settings import settings

            request = current_request()
            try:
                principal, token = session.session_principal(request.headers, wiring.token_config())
                wiring.still_valid(principal)
            except DomainError:
                return Response(
                    body="", status_code=302, headers={"Location": "/admin/login", "Cache-Control": "no-store"}
                )
            except Exception:  # e.g. the revocations table unreachable: a page, not Chalice's JSON 500
                log.exception("could not check the session for console page %s", view.__name__)
                return internal_error_page()
            try:
                form: dict[str, list[str]] = {}
                if request.method == "POST":
                    raw = raw_body(request)
                    if len(raw) > FORM_MAX_BYTES:
                        raise BodyTooLarge()
                    form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
                    presented = (form.get("csrf") or [""])[0]
                    if not session.csrf_ok(token, settings().hmac_key, presented):
                        raise Forbidden(
                            "Phiên làm việc không hợp lệ (CSRF); vui lòng tải lại trang.",
                            "Invalid CSRF token; reload the page.",
                        )
                if permission is None:
                    pass
                elif any_scope:
                    principal.require(permission, principal.agency or NATIONAL)
                else:
                    agency = kwargs.get(agency_param) if agency_param else None
                    principal.require(permission, None if agency == NATIONAL else agency)
                result = view(principal, token, form, **kwargs)
            except DomainError as exc:
                return error_page(exc)
            except Exception:
                log.exception("unhandled error in console page %s", view.__name__)
                return internal_error_page()
            if isinstance(result, tuple):  # (page, status): a form refused, shown again with its error
                return html_response(result[0], result[1])
            return result if isinstance(result, Response) else html_response(result)

        return wrapped

    return decorate


def redirect(location: str, cookie: str | list[str] | None = None) -> Response:
    """303 after a POST (the browser then GETs the page: a reload does not post again)."""
    headers: dict[str, str | list[str]] = {"Location": location, "Cache-Control": "no-store"}
    if cookie:
        headers["Set-Cookie"] = cookie
    return Response(body="", status_code=303 if current_request().method == "POST" else 302, headers=headers)


def current_request() -> Any:
    from app import app

    request = app.current_request
    if request is None:  # only outside a request, which no route is
        raise RuntimeError("no current request")
    return request


def raw_body(request: Any) -> bytes:
    raw = request.raw_body
    return raw.encode() if isinstance(raw, str) else (raw or b"")


def base_url() -> str:
    """This deployment's public address (PAR_PUBLIC_URL), or the request's host."""
    from chalicelib.settings import settings

    configured = settings().public_url
    if configured:
        return configured.rstrip("/")
    host = current_request().headers.get("host", "127.0.0.1")
    return f"{'https' if secure() else 'http'}://{host}"


def secure() -> bool:
    """HTTPS everywhere but on this machine's loopback (make run)."""
    host = current_request().headers.get("host", "")
    return not host.startswith(("127.0.0.1", "localhost"))


def field(form: dict[str, list[str]], name: str) -> str:
    return (form.get(name) or [""])[0]


def console_nav(principal: Any) -> dict[str, Any]:
    """The console's menu for this official: the accounts link only where they manage accounts."""
    from chalicelib.auth.permissions import NATIONAL

    users = None
    if principal.can("user.manage", None):
        users = NATIONAL
    elif principal.agency and principal.can("user.manage", principal.agency):
        users = principal.agency
    return {"users_agency": users, "audit": principal.can("audit.read", None)}
