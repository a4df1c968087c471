"""Bearer-token verification (OIDC / JWT): RS256 signature against the issuer's JWKS, issuer, audience, expiry.

The same code path runs on AWS (a Cognito user pool is the issuer) and locally (infra/local/idp.py
serves the same claims and a JWKS), so nothing is bypassed in development.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from chalicelib.auth.permissions import NATIONAL, ROLE_IDS, Grant
from chalicelib.auth.principal import Forbidden, Principal, Unauthenticated

GROUPS_CLAIM = "cognito:groups"  # Cognito puts group names here; the local IdP does the same
AGENCY_CLAIM = "custom:agency"  # a user-pool attribute: "national" or an agency code such as "P01"


@dataclass(frozen=True)
class TokenConfig:
    issuer: str
    audience: str
    jwks_url: str
    leeway_seconds: int = 30


_jwks_clients: dict[str, Any] = {}
_lock = threading.Lock()


def _jwks_client(url: str) -> Any:
    """One cached JWKS client per URL: keys are fetched once and refetched only for an unknown key id."""
    from jwt import PyJWKClient

    with _lock:
        if url not in _jwks_clients:
            _jwks_clients[url] = PyJWKClient(url, cache_keys=True, lifespan=3600, timeout=5)
        return _jwks_clients[url]


def verify_token(token: str, config: TokenConfig) -> Principal:
    import jwt

    try:
        key = _jwks_client(config.jwks_url).get_signing_key_from_jwt(token)
        claims = jwt.decode(
            token,
            key.key,
            algorithms=["RS256"],
            issuer=config.issuer,
            options={"require": ["exp", "iat", "iss", "sub"], "verify_aud": False},
            leeway=config.leeway_seconds,
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated(
            "Phiên đăng nhập đã hết hạn; vui lòng đăng nhập lại.", "The session expired; sign in again."
        ) from None
    except (jwt.PyJWTError, ValueError) as exc:
        raise Unauthenticated(details=[{"reason": type(exc).__name__}]) from None
    # Cognito ID tokens carry the app client in "aud", access tokens in "client_id".
    audience = claims.get("aud") if claims.get("token_use", "id") == "id" else claims.get("client_id")
    if audience != config.audience and not (isinstance(audience, list) and config.audience in audience):
        raise Unauthenticated(details=[{"reason": "audience"}])
    return principal_from_claims(claims)


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    scope = str(claims.get(AGENCY_CLAIM) or "").strip()
    roles = [g for g in claims.get(GROUPS_CLAIM) or [] if g in ROLE_IDS]
    grants = tuple(Grant(role, scope) for role in roles) if scope else ()
    # ID tokens carry name/email/cognito:username; Cognito access tokens carry "username" instead.
    name = str(
        claims.get("name")
        or claims.get("email")
        or claims.get("cognito:username")
        or claims.get("username")
        or claims["sub"]
    )
    username = str(claims.get("cognito:username") or claims.get("username") or "")
    issued = claims.get("iat")
    issued_at = float(issued) if isinstance(issued, (int, float)) and not isinstance(issued, bool) else 0.0
    expires = claims.get("exp")
    expires_at = float(expires) if isinstance(expires, (int, float)) and not isinstance(expires, bool) else 0.0
    return Principal(
        sub=str(claims["sub"]),
        name=name,
        grants=grants,
        username=username,
        issued_at=issued_at,
        expires_at=expires_at,
    )


def bearer(headers: Any) -> str:
    value = (headers.get("authorization") or "").strip()
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated()
    return token.strip()


def authenticate(headers: Any, config: TokenConfig | None) -> Principal:
    if config is None:
        raise Unauthenticated("Hệ thống chưa cấu hình đăng nhập.", "Sign-in is not configured (PAR_OIDC_ISSUER).")
    return verify_token(bearer(headers), config)


__all__ = ["NATIONAL", "Forbidden", "Principal", "TokenConfig", "Unauthenticated", "authenticate", "verify_token"]
