"""Who is calling: the bearer token of an API request, or the session cookie of a console page.

Authentication only; what the caller may do is decided by `chalicelib.auth.authorize`, called by the
route declarations in chalicelib/api/operations.py.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs

from chalicelib.api import request

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal


def bearer_principal() -> Principal:
    from chalicelib import wiring
    from chalicelib.auth.tokens import authenticate

    return wiring.access_gate().still_valid(authenticate(request.current().headers, wiring.token_config()))


def console_session() -> tuple[Principal, str] | None:
    """The signed-in official and their session token, or None (no cookie, expired, revoked, signed out)."""
    from chalicelib import wiring
    from chalicelib.api import session
    from chalicelib.domain.errors import DomainError

    try:
        principal, token = session.session_principal(request.current().headers, wiring.token_config())
        return wiring.access_gate().session_valid(principal, token), token
    except DomainError:
        return None


def posted_form(max_bytes: int) -> dict[str, list[str]]:
    """A console form: url-encoded, within size, carrying its CSRF field (checked against the session later)."""
    from chalicelib.domain.errors import BadQuery, BodyTooLarge

    raw = request.raw_body()
    if len(raw) > max_bytes:
        raise BodyTooLarge()
    form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    if not (form.get("csrf") or [""])[0]:
        raise BadQuery(
            "Biểu mẫu thiếu mã phiên làm việc; vui lòng tải lại trang.", "The form lacks its CSRF token.", field="csrf"
        )
    return form


def check_csrf(token: str, form: dict[str, list[str]]) -> None:
    from chalicelib.api import session
    from chalicelib.auth.principal import Forbidden

    if not session.csrf_ok(token, (form.get("csrf") or [""])[0]):
        raise Forbidden(
            "Phiên làm việc không hợp lệ (CSRF); vui lòng tải lại trang.", "Invalid CSRF token; reload the page."
        )
