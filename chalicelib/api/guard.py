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
    content_type = request.header("content-type") or ""
    if content_type.lower().startswith("multipart/form-data"):
        form = multipart(raw, content_type)[0]
    else:
        form = parse_qs(raw.decode("utf-8", "replace"), keep_blank_values=True)
    if not (form.get("csrf") or [""])[0]:
        raise BadQuery(
            "Biểu mẫu thiếu mã phiên làm việc; vui lòng tải lại trang.", "The form lacks its CSRF token.", field="csrf"
        )
    return form


def form_field(form: dict[str, list[str]], name: str) -> str:
    """A posted form's first value of a field ('' when the field is absent)."""
    return (form.get(name) or [""])[0]


def check_csrf(token: str, form: dict[str, list[str]]) -> None:
    from chalicelib.api import session
    from chalicelib.auth.principal import Forbidden

    if not session.csrf_ok(token, (form.get("csrf") or [""])[0]):
        raise Forbidden(
            "Phiên làm việc không hợp lệ (CSRF); vui lòng tải lại trang.", "Invalid CSRF token; reload the page."
        )


def multipart(raw: bytes, content_type: str) -> tuple[dict[str, list[str]], dict[str, tuple[str, bytes]]]:
    """A multipart/form-data body: its text fields, and its files as (file name, bytes), by field name."""
    from email import policy
    from email.parser import BytesParser

    from chalicelib.domain.errors import BadQuery

    message = BytesParser(policy=policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + raw
    )
    if not message.is_multipart():
        raise BadQuery("Biểu mẫu gửi lên không đúng định dạng.", "Malformed multipart form.", field="form")
    fields: dict[str, list[str]] = {}
    files: dict[str, tuple[str, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        decoded = part.get_payload(decode=True)
        payload = decoded if isinstance(decoded, bytes) else b""
        filename = part.get_filename()
        if filename is not None:
            files[name] = (filename, payload)
        else:
            fields.setdefault(name, []).append(payload.decode("utf-8", "replace"))
    return fields, files


def uploaded_file(name: str) -> tuple[str, bytes] | None:
    """The file a console form posted in field `name` (the decorator already checked size and CSRF)."""
    content_type = request.header("content-type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        return None
    found = multipart(request.raw_body(), content_type)[1].get(name)
    return found if found and found[1] else None
