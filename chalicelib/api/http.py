"""Shaping HTTP answers: JSON and HTML responses, domain errors mapped once to a status and a stable code."""

from __future__ import annotations

import json
import logging
from typing import Any

from chalice import Response

from chalicelib.domain.errors import DomainError

log = logging.getLogger("par.api")

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
}
PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; frame-ancestors 'none'"
)


def embed_csp(frame_ancestors: str) -> str:
    """A widget page: framed only by the embedding agency's registered origins (chalicelib/domain/agencies.py)."""
    return PAGE_CSP.replace("frame-ancestors 'none'", f"frame-ancestors {frame_ancestors}")


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        body=json.dumps(body, ensure_ascii=False, separators=(",", ":")),
        status_code=status,
        headers={"Content-Type": "application/json; charset=utf-8", **SECURITY_HEADERS, **(headers or {})},
    )


def html_response(
    body: str, status: int = 200, *, embed: bool = False, cache: str = "no-store", frame_ancestors: str | None = None
) -> Response:
    return Response(
        body=body,
        status_code=status,
        headers={
            "Content-Type": "text/html; charset=utf-8",
            "Content-Security-Policy": embed_csp(frame_ancestors or "'none'") if embed else PAGE_CSP,
            "Cache-Control": cache,
            **({} if embed and frame_ancestors not in (None, "'none'") else {"X-Frame-Options": "DENY"}),
            **SECURITY_HEADERS,
        },
    )


def json_error(error: DomainError) -> Response:
    return json_response(error.to_dict(), status=error.status)


def internal_error() -> dict[str, Any]:
    return {
        "error": {
            "code": "internal_error",
            "message": "Hệ thống đang gặp sự cố; vui lòng thử lại sau ít phút.",
            "message_en": "Something went wrong on our side; please try again in a few minutes.",
        }
    }


def server_error(view_name: str, error: BaseException, *, html: bool) -> Response:
    """An unexpected failure: logged with its traceback, answered 500 with no detail."""
    log.error("unhandled error in %s", view_name, exc_info=error)
    if not html:
        return json_response(internal_error(), status=500)
    from chalicelib.web.pages import render_error

    body = internal_error()["error"]
    return html_response(render_error(500, body["code"], body["message"], body["message_en"]), 500)


def error_page(error: DomainError) -> Response:
    from chalicelib.web.pages import render_error

    return html_response(render_error(error.status, error.code, error.message_vi, error.message_en), error.status)


def text_response(body: bytes, content_type: str, headers: dict[str, str] | None = None) -> Response:
    """Lambda's proxy response must be JSON: a text body is served as UTF-8 text (binary ones: binary_response)."""
    return Response(
        body=body.decode("utf-8"), status_code=200, headers={"Content-Type": content_type, **(headers or {})}
    )


def binary_response(body: bytes, content_type: str, headers: dict[str, str] | None = None) -> Response:
    """A PNG or PDF: its media type is one of app.api.binary_types, so Chalice base64-encodes it for Lambda's proxy
    response and API Gateway (or the local server) sends the bytes. Clients must accept it (browsers send */*)."""
    return Response(
        body=body,
        status_code=200,
        headers={"Content-Type": content_type, "X-Content-Type-Options": "nosniff", **(headers or {})},
    )


def redirect(location: str, cookie: str | list[str] | None = None, *, after_post: bool = False) -> Response:
    """302, or 303 after a POST (the browser then GETs the page: a reload does not post again)."""
    headers: dict[str, str | list[str]] = {"Location": location, "Cache-Control": "no-store"}
    if cookie:
        headers["Set-Cookie"] = cookie
    return Response(body="", status_code=303 if after_post else 302, headers=headers)
