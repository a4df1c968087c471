"""The admin console's sign-in: OpenID Connect authorization-code flow, then a secure HttpOnly session cookie.

The cookie holds the issuer's ID token itself and is verified on every request exactly like a bearer
token (signature, issuer, audience, expiry), so a session ends when its token does. State-changing
console requests carry a CSRF token derived from the session with the keyed HMAC of the settings.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import threading
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie
from typing import Any

from chalicelib.auth.tokens import Principal, Unauthenticated, verify_token

SESSION_COOKIE = "par_session"
STATE_COOKIE = "par_oidc_state"
_discovery: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()


def _endpoints(issuer: str) -> dict[str, Any]:
    with _lock:
        if issuer not in _discovery:
            url = f"{issuer.rstrip('/')}/.well-known/openid-configuration"
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - the configured issuer
                _discovery[issuer] = json.loads(response.read())
        return _discovery[issuer]


def cookies(headers: Any) -> dict[str, str]:
    """The request's cookies; a malformed Cookie header counts as none (the caller then signs in again)."""
    from http.cookies import CookieError

    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(headers.get("cookie") or "")
    except CookieError:
        return {}
    return {k: v.value for k, v in jar.items()}


def cookie_header(name: str, value: str, *, secure: bool, max_age: int | None = None, path: str = "/admin") -> str:
    parts = [f"{name}={value}", f"Path={path}", "HttpOnly", "SameSite=Lax"]
    if secure:
        parts.append("Secure")
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    return "; ".join(parts)


def authorize_url(config: Any, redirect_uri: str) -> tuple[str, str]:
    state = secrets.token_urlsafe(24)
    query = urllib.parse.urlencode(
        {
            "client_id": config.audience,
            "response_type": "code",
            "scope": "openid email profile",
            "redirect_uri": redirect_uri,
            "state": state,
        }
    )
    return f"{_endpoints(config.issuer)['authorization_endpoint']}?{query}", state


def exchange_code(config: Any, code: str, redirect_uri: str) -> str:
    """The code for tokens, server to server; returns the ID token (verified by the caller)."""
    body = urllib.parse.urlencode(
        {"grant_type": "authorization_code", "client_id": config.audience, "code": code, "redirect_uri": redirect_uri}
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - the configured issuer's token endpoint
        _endpoints(config.issuer)["token_endpoint"],
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - the configured issuer
            return str(json.loads(response.read())["id_token"])
    except (OSError, KeyError, ValueError):
        raise Unauthenticated(
            "Không hoàn tất được đăng nhập; vui lòng thử lại.", "Sign-in could not be completed; try again."
        ) from None


def session_principal(headers: Any, config: Any) -> tuple[Principal, str]:
    token = cookies(headers).get(SESSION_COOKIE)
    if not token or config is None:
        raise Unauthenticated()
    return verify_token(token, config), token


def csrf_token(session_token: str, key: bytes) -> str:
    return hmac.new(key, b"csrf:" + hashlib.sha256(session_token.encode()).digest(), hashlib.sha256).hexdigest()[:40]


def csrf_ok(session_token: str, key: bytes, presented: str) -> bool:
    # as bytes: compare_digest refuses non-ASCII text, and a form can carry anything
    expected = csrf_token(session_token, key).encode()
    return bool(presented) and hmac.compare_digest(expected, presented.encode("utf-8", "replace"))


def begin_sign_in(config: Any, redirect_uri: str) -> tuple[str, str]:
    """The provider's authorization URL and the value of the short-lived state cookie."""
    return authorize_url(config, redirect_uri)


def finish_sign_in(config: Any, code: str | None, state: str | None, state_cookie: str, redirect_uri: str) -> str:
    """The verified ID token of a finished sign-in; Unauthenticated if the state does not match the cookie."""
    if not state_cookie or not code or state != state_cookie:
        raise Unauthenticated(
            "Phiên đăng nhập không hợp lệ; vui lòng đăng nhập lại.", "Invalid sign-in state; sign in again."
        )
    token = exchange_code(config, code, redirect_uri)
    verify_token(token, config)
    return token
