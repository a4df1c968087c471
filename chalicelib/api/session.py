"""The admin console's sign-in: OpenID Connect code flow with PKCE, then a secure HttpOnly session cookie.

The cookie holds the issuer's ID token itself and is verified on every request exactly like a bearer
token (signature, issuer, audience, expiry), so a session ends when its token does. State-changing
console requests carry a CSRF token: an HMAC of the session under the console's CSRF key, which is
derived from the managed secret (chalicelib.store.secrets.console_key).
"""

from __future__ import annotations

import base64
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

CSRF_PURPOSE = "csrf"
SESSION_COOKIE = "par_session"
STATE_COOKIE = "par_oidc_state"  # "<state>.<PKCE verifier>", for the ten minutes of a sign-in
_STATE_SEPARATOR = "."  # not in base64url, the alphabet of both halves
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


def begin_sign_in(config: Any, redirect_uri: str) -> tuple[str, str]:
    """Where to send the browser (the provider's authorization URL), and the value of its state cookie.

    The cookie value holds the state and the PKCE code verifier (RFC 7636, S256): only the browser that
    started the sign-in can redeem the code the provider sends back, even if the code leaks on the way.
    Set it as STATE_COOKIE (cookie_header, Max-Age=600) and hand it to finish_sign_in on the callback.
    """
    state = secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(48)  # 64 characters of RFC 7636's unreserved set (43 to 128 allowed)
    query = _authorization_query(config, redirect_uri, state)
    query.update({"code_challenge": pkce_challenge(verifier), "code_challenge_method": "S256"})
    url = f"{_endpoints(config.issuer)['authorization_endpoint']}?{urllib.parse.urlencode(query)}"
    return url, f"{state}{_STATE_SEPARATOR}{verifier}"


def finish_sign_in(
    config: Any, code: str | None, state_param: str | None, state_cookie_value: str | None, redirect_uri: str
) -> str:
    """The callback: the code (with the verifier) for the ID token, verified; the caller keeps it as SESSION_COOKIE.

    Unauthenticated when the state in the URL is not the one this browser's cookie holds, when there is
    no code (the provider sent an error instead), or when the provider refuses the code.
    """
    state, _, verifier = (state_cookie_value or "").partition(_STATE_SEPARATOR)
    given = (state_param or "").encode("utf-8", "replace")
    if config is None or not code or not state or not verifier or not hmac.compare_digest(state.encode(), given):
        raise Unauthenticated(
            "Phiên đăng nhập không hợp lệ; vui lòng đăng nhập lại.", "Invalid sign-in state; sign in again."
        )
    token = _redeem(config, code, redirect_uri, verifier)
    verify_token(token, config)
    return token


def pkce_challenge(verifier: str) -> str:
    """RFC 7636's S256: base64url(SHA-256(verifier)), without padding."""
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode()


def _authorization_query(config: Any, redirect_uri: str, state: str) -> dict[str, str]:
    return {
        "client_id": config.audience,
        "response_type": "code",
        "scope": "openid email profile",
        "redirect_uri": redirect_uri,
        "state": state,
    }


def _redeem(config: Any, code: str, redirect_uri: str, verifier: str | None) -> str:
    """The code for tokens, server to server; returns the ID token (not yet verified)."""
    form = {
        "grant_type": "authorization_code",
        "client_id": config.audience,
        "code": code,
        "redirect_uri": redirect_uri,
    }
    if verifier is not None:
        form["code_verifier"] = verifier
    request = urllib.request.Request(  # noqa: S310 - the configured issuer's token endpoint
        _endpoints(config.issuer)["token_endpoint"],
        data=urllib.parse.urlencode(form).encode(),
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


def csrf_token(session_token: str) -> str:
    """The form token of this session, under the console's current CSRF key (derived from the managed secret)."""
    from chalicelib.store.secrets import console_key

    return _csrf(session_token, console_key(CSRF_PURPOSE))


def csrf_ok(session_token: str, presented: str) -> bool:
    """Whether `presented` is this session's form token under the current CSRF key or a kept older one.

    An official who loaded a form just before a key rotation can still send it (until the old key is
    removed from the secret).
    """
    from chalicelib.store.secrets import console_keys

    if not isinstance(presented, str) or not presented:
        return False
    # as bytes: compare_digest refuses non-ASCII text, and a form can carry anything
    given = presented.encode("utf-8", "replace")
    return any(hmac.compare_digest(_csrf(session_token, key).encode(), given) for key in console_keys(CSRF_PURPOSE))


def _csrf(session_token: str, key: bytes) -> str:
    return hmac.new(key, b"csrf:" + hashlib.sha256(session_token.encode()).digest(), hashlib.sha256).hexdigest()[:40]
