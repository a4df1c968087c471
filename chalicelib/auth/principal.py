"""Who is calling, and the one authorisation rule every guard applies: `authorize(principal, permission, target)`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from chalicelib.auth.permissions import NATIONAL, PERMISSIONS, Grant, allows
from chalicelib.domain.audit import Actor
from chalicelib.domain.errors import DomainError


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


class _Own:
    """The target of a resource that is the caller's own (who am I, my dashboard): any grant of the permission."""

    def __repr__(self) -> str:
        return "OWN"


OWN: Final = _Own()
Target = str | None | _Own  # an agency code; None or "national" for a resource of no agency; OWN


@dataclass(frozen=True)
class Principal:
    """A signed-in official: the grants (role x scope) of a verified token."""

    sub: str
    name: str
    grants: tuple[Grant, ...]
    username: str = ""  # the directory's login name (cognito:username / username)
    issued_at: float = 0.0  # the token's iat: a token issued before its account's access changed is refused
    expires_at: float = 0.0  # the token's exp: how long a signed-out session must be remembered

    @property
    def agency(self) -> str | None:
        """The one scope of every grant ("national" or an agency code); None when grants differ or there are none."""
        scopes = {g.scope for g in self.grants}
        return next(iter(scopes)) if len(scopes) == 1 else None

    @property
    def login(self) -> str:
        return self.username or self.sub

    def can(self, permission: str, target: Target = None) -> bool:
        return permitted(self, permission, target)

    def require(self, permission: str, target: Target = None) -> Principal:
        return authorize(self, permission, target)

    def actor(self, permission: str) -> Actor:
        """Who acted, for the audit log, named by the grant that allowed it (a principal may hold several)."""
        roles = PERMISSIONS[permission].roles
        grant = next((g for g in self.grants if g.role in roles), self.grants[0])
        return Actor(self.sub, self.name, grant.role, None if grant.scope == NATIONAL else grant.scope)

    def summary(self) -> dict[str, Any]:
        """Who am I: grants and every permission some grant holds (on its own scope)."""
        return {
            "sub": self.sub,
            "name": self.name,
            "grants": [{"role": g.role, "scope": g.scope} for g in self.grants],
            "permissions": sorted(p for p in PERMISSIONS if self.can(p, OWN)),
        }


def permitted(principal: Principal, permission: str, target: Target = None) -> bool:
    """Whether a grant of the principal reaches `permission` on `target`."""
    if isinstance(target, _Own):
        needed = PERMISSIONS[permission]
        return any(
            g.role in needed.roles and (g.scope == NATIONAL or not needed.national_only) for g in principal.grants
        )
    # "national" in a route (/admin/api/agencies/national/users) names the Ministry's own resources: no agency
    return allows(principal.grants, permission, None if target == NATIONAL else target)


def authorize(principal: Principal, permission: str, target: Target = None) -> Principal:
    """The one authorisation function: the principal back if allowed, else Forbidden (403) naming what was missing."""
    if not permitted(principal, permission, target):
        shown = None if isinstance(target, _Own) or target == NATIONAL else target
        raise Forbidden(details=[{"permission": permission, "agency": shown}])
    return principal
