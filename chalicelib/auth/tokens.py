"""Bearer-token verification (OIDC / JWT): RS256 signature against the issuer's JWKS, issuer, audience, expiry.

The same code path runs on AWS (a Cognito user pool is the issuer) and locally (infra/local/idp.py
serves the same claims and a JWKS), so nothing is bypassed in development.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from chalicelib.auth.permissions import NATIONAL, ROLE_IDS, Grant, allows
from chalicelib.domain.errors import DomainError

GROUPS_CLAIM = "cognito:groups"  # Cognito puts group names here; the local IdP does the same
AGENCY_CLAIM = "custom:agency"  # a user-pool attribute: "national" or an agency code such as "P01"


class Unauthenticated(DomainError):
    code = "unauthenticated"
    status = 401
    message_vi = "Vui lòng đăng nhập để tiếp tục."
    message_en = "Sign in to continue."


class Forbidden(DomainError):
    code = "forbidden"
    status = 403
    message_vi = "Tài khoản của Ông/Bà không có quyền thực hiện thao tác này."
    message_en = "Your account may not do this."


@dataclass(frozen=True)
class Principal:
    sub: str
    name: str
    grants: tuple[Grant, ...]
    username: str = ""  # the directory's login name (cognito:username / username)
    issued_at: float = 0.0  # the token's iat: a token issued before its account's access changed is refused

    @property
    def agency(self) -> str | None:
        scopes = {g.scope for g in self.grants}
        return next(iter(scopes)) if len(scopes) == 1 else None

    def can(self, permission: str, agency: str | None = None) -> bool:
        return allows(self.grants, permission, agency)

    def require(self, permission: str, agency: str | None = None) -> Principal:
        if not self.can(permission, agency):
            raise Forbidden(details=[{"permission": permission, "agency": agency}])
        return self


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
    return Principal(sub=str(claims["sub"]), name=name, grants=grants, username=username, issued_at=issued_at)


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
