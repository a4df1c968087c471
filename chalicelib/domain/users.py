"""Officials' accounts and their roles: the identity-directory port and the rules for changing access.

The directory is Cognito on AWS (chalicelib/store/identity.py, CognitoDirectory) and the local
identity provider in `make run` (LocalDirectory); both speak this port. A user holds one or more
roles (Cognito groups) and one scope (the `custom:agency` attribute: "national" or an agency code).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from chalicelib.auth.permissions import NATIONAL, NATIONAL_ONLY_ROLES, ROLE_IDS
from chalicelib.domain.audit import Actor, AuditLog
from chalicelib.domain.errors import DomainError

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

_T = TypeVar("_T")

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MAX_NAME = 120
MAX_EMAIL = 254
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,190}\.[a-z]{2,24}$", re.IGNORECASE)


class UserNotFound(DomainError):
    code = "user_not_found"
    status = 404
    message_vi = "Không tìm thấy tài khoản này."
    message_en = "No such account."


class UserExists(DomainError):
    code = "user_exists"
    status = 409
    message_vi = "Tên đăng nhập này đã được dùng; vui lòng chọn tên khác."
    message_en = "That username is taken; choose another."


class InvalidUser(DomainError):
    code = "invalid_user"
    status = 400
    message_vi = "Thông tin tài khoản không hợp lệ."
    message_en = "The account details are not valid."


class DirectoryNotConfigured(DomainError):
    code = "directory_not_configured"
    status = 503
    message_vi = "Chưa cấu hình kho tài khoản cán bộ."
    message_en = "The officials' directory is not configured (PAR_IDENTITY_DIRECTORY)."


@dataclass(frozen=True)
class DirectoryUser:
    username: str
    name: str
    email: str
    roles: tuple[str, ...]  # sorted role ids (groups that are not roles are left out)
    agency: str  # "national" or an agency code such as "P01"
    enabled: bool = True
    status: str = "CONFIRMED"  # the directory's account status, e.g. FORCE_CHANGE_PASSWORD
    created_at: str | None = None  # ISO-8601 UTC

    def to_dict(self) -> dict[str, object]:
        return {
            "username": self.username,
            "name": self.name,
            "email": self.email,
            "roles": list(self.roles),
            "agency": self.agency,
            "enabled": self.enabled,
            "status": self.status,
            "created_at": self.created_at,
        }


@dataclass(frozen=True)
class NewUser:
    username: str
    name: str
    email: str
    roles: tuple[str, ...]
    agency: str


@dataclass(frozen=True)
class Created:
    user: DirectoryUser
    # The local directory hands the first password back to show once; Cognito e-mails an invitation (None).
    temporary_password: str | None = field(default=None, repr=False)

    def to_dict(self) -> dict[str, Any]:
        answer: dict[str, Any] = {"user": self.user.to_dict()}
        if self.temporary_password:
            answer["temporary_password"] = self.temporary_password
        return answer


class IdentityDirectory(Protocol):
    """Where officials' accounts live. Every method raises UserNotFound for an unknown username."""

    def list_users(self) -> list[DirectoryUser]:
        """Every account, sorted by username."""
        ...

    def get_user(self, username: str) -> DirectoryUser: ...

    def create_user(self, user: NewUser) -> Created:
        """Raises UserExists when the username is taken."""
        ...

    def set_access(self, username: str, roles: tuple[str, ...], agency: str) -> DirectoryUser:
        """Replace the user's roles and scope; returns the user as it is now."""
        ...

    def set_enabled(self, username: str, enabled: bool) -> DirectoryUser: ...


# --------------------------------------------------------------------------- administration


class UserAdminService:
    """Who may give which access to whom, each change audited before it is made.

    Rules (docs/PERMISSIONS.md): `user.manage` on a scope lets an administrator manage the accounts
    of that scope; national-only roles (NATIONAL_ONLY_ROLES) exist only with the national scope, so
    an agency administrator can never create a reviewer of their own province's responses; nobody
    changes or disables their own account (another administrator must). Accounts are created only in
    agencies in force today, but the accounts of an agency that has ended stay reachable, so they can
    be disabled or moved to its successor.

    The directory is outside DynamoDB, so a change and its entry cannot share a transaction: the
    entry is written first, and if the directory then refuses, a `.failed` entry follows it with the
    account as it really is afterwards. The log may thus show an attempt that failed, but never a
    change that has no entry. After any change of access, `revoke` is told the username, so tokens
    issued before it stop working at once instead of at their expiry.
    """

    def __init__(
        self,
        directory: IdentityDirectory,
        audit: AuditLog,
        known_agency: Callable[[str], bool],
        in_force: Callable[[str], bool] | None = None,
        revoke: Callable[[str], None] | None = None,
    ) -> None:
        self._directory = directory
        self._audit = audit
        self._known = known_agency  # every agency the registry knows, ended ones included
        self._in_force = in_force or known_agency  # agencies that exist today
        self._revoke = revoke or (lambda _username: None)

    def list_users(self, principal: Principal, agency: str) -> list[DirectoryUser]:
        self._scope(agency)
        self._reach(principal, agency)
        return [u for u in self._directory.list_users() if u.agency == agency]

    def get_user(self, principal: Principal, agency: str, username: str) -> DirectoryUser:
        self._scope(agency)
        self._reach(principal, agency)
        user = self._directory.get_user(username)
        if user.agency != agency:
            raise UserNotFound(field="username")  # another scope's account: as if it did not exist
        return user

    def create_user(self, principal: Principal, actor: Actor, agency: str, new: NewUser) -> Created:
        self._scope(agency)
        self._reach(principal, agency)
        self._exists_today(agency)
        new = NewUser(new.username.strip().lower(), " ".join(new.name.split()), new.email.strip(), new.roles, agency)
        if not USERNAME.match(new.username):
            raise InvalidUser(
                "Tên đăng nhập gồm 3-64 chữ thường không dấu, số, dấu chấm, gạch ngang hoặc gạch dưới.",
                "A username is 3-64 lowercase letters, digits, dots, dashes or underscores.",
                field="username",
            )
        if not 0 < len(new.name) <= MAX_NAME:
            raise InvalidUser(
                f"Họ và tên gồm 1-{MAX_NAME} ký tự.", f"A name has 1-{MAX_NAME} characters.", field="name"
            )
        if len(new.email) > MAX_EMAIL or not EMAIL.match(new.email):
            raise InvalidUser("Địa chỉ thư điện tử không hợp lệ.", "The e-mail address is not valid.", field="email")
        roles = self._grantable(new.roles, agency)
        try:
            self._directory.get_user(new.username)
        except UserNotFound:
            pass
        else:
            raise UserExists(field="username")
        new = NewUser(new.username, new.name, new.email, roles, agency)
        after = {"username": new.username, "name": new.name, "email": new.email, "roles": list(roles), "agency": agency}
        return self._audited(actor, "user.create", new.username, None, after, lambda: self._directory.create_user(new))

    def set_access(
        self, principal: Principal, actor: Actor, agency: str, username: str, roles: tuple[str, ...], new_agency: str
    ) -> DirectoryUser:
        user = self.get_user(principal, agency, username)
        username = user.username  # the directory's own spelling (Cognito also finds an account by alias)
        self._not_self(principal, user)
        self._reach(principal, new_agency)
        if new_agency != user.agency:
            self._exists_today(new_agency)  # an account may leave an ended agency, not join one
        granted = self._grantable(roles, new_agency)
        before = {"roles": list(user.roles), "agency": user.agency}
        after = {"roles": list(granted), "agency": new_agency}
        if before == after:
            return user
        changed = self._audited(
            actor,
            "user.access",
            username,
            before,
            after,
            lambda: self._directory.set_access(username, granted, new_agency),
        )
        self._revoke(username)
        return changed

    def set_enabled(
        self, principal: Principal, actor: Actor, agency: str, username: str, enabled: bool
    ) -> DirectoryUser:
        user = self.get_user(principal, agency, username)
        username = user.username
        self._not_self(principal, user)
        if user.enabled == enabled:
            return user
        changed = self._audited(
            actor,
            "user.enable" if enabled else "user.disable",
            username,
            {"enabled": user.enabled},
            {"enabled": enabled},
            lambda: self._directory.set_enabled(username, enabled),
        )
        if not enabled:
            self._revoke(username)
        return changed

    # ---------------------------------------------------------------- rules
    def _scope(self, agency: str) -> None:
        """The scope a request is about (its path): an unknown agency is not found, as a page would be."""
        from chalicelib.domain.agencies import AgencyNotFound

        if agency != NATIONAL and not self._known(agency):
            raise AgencyNotFound(field="agency")

    def _reach(self, principal: Principal, agency: str) -> None:
        if agency != NATIONAL and not self._known(agency):
            raise InvalidUser("Không có cơ quan với mã này.", "No agency with that code.", field="agency")
        principal.require("user.manage", None if agency == NATIONAL else agency)

    def _exists_today(self, agency: str) -> None:
        if agency != NATIONAL and not self._in_force(agency):
            raise InvalidUser(
                "Cơ quan này đã kết thúc hoạt động; hãy tạo hoặc chuyển tài khoản sang cơ quan kế thừa.",
                "This agency no longer exists; create or move accounts to its successor.",
                field="agency",
            )

    @staticmethod
    def _grantable(roles: tuple[str, ...], agency: str) -> tuple[str, ...]:
        unknown = sorted(set(roles) - ROLE_IDS)
        if unknown or not roles:
            raise InvalidUser(
                "Vai trò không hợp lệ.", "Unknown or missing role.", field="roles", details=[{"roles": unknown}]
            )
        national_only = sorted(set(roles) & NATIONAL_ONLY_ROLES)
        if agency != NATIONAL and national_only:
            raise InvalidUser(
                "Vai trò này chỉ cấp ở phạm vi toàn quốc (Bộ Nội vụ): " + ", ".join(national_only) + ".",
                "These roles exist only with the national scope: " + ", ".join(national_only) + ".",
                field="roles",
            )
        return tuple(sorted(set(roles)))

    @staticmethod
    def _not_self(principal: Principal, user: DirectoryUser) -> None:
        if user.username in (principal.username, principal.sub):
            raise InvalidUser(
                "Không tự thay đổi quyền hoặc khóa tài khoản của chính mình; hãy nhờ một quản trị viên khác.",
                "You cannot change or disable your own account; ask another administrator.",
                field="username",
            )

    def _audited(
        self,
        actor: Actor,
        action: str,
        username: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any],
        perform: Callable[[], _T],
    ) -> _T:
        self._audit.record(actor, action, "user", username, before, after)
        try:
            return perform()
        except Exception as exc:
            self._audit.record(
                actor, f"{action}.failed", "user", username, before, self._actual(username), reason=type(exc).__name__
            )
            raise

    def _actual(self, username: str) -> dict[str, Any] | None:
        """The account as it is after a refused change (a change can fail half-way), for the record."""
        try:
            user = self._directory.get_user(username)
        except Exception:  # the directory is down or the account does not exist: nothing to show
            return None
        return {"roles": list(user.roles), "agency": user.agency, "enabled": user.enabled}


# --- what the console offers an administrator -----------------------------------------------------
def role_choices(principal: Principal) -> list[dict[str, Any]]:
    """Roles shown on an account's page: an agency administrator is not offered what only the Ministry grants."""
    from chalicelib.auth.permissions import ROLES

    return [
        {"id": r.id, "label": r.label_vi, "national_only": r.id in NATIONAL_ONLY_ROLES}
        for r in ROLES
        if r.id not in NATIONAL_ONLY_ROLES or principal.can("user.manage", None)
    ]


def grantable_roles(agency: str) -> list[dict[str, str]]:
    """Roles an account of this scope may hold."""
    from chalicelib.auth.permissions import ROLES

    return [{"id": r.id, "label": r.label_vi} for r in ROLES if agency == NATIONAL or r.id not in NATIONAL_ONLY_ROLES]


def role_labels() -> dict[str, str]:
    from chalicelib.auth.permissions import ROLES

    return {r.id: r.label_vi for r in ROLES}


def scopes_in_reach(principal: Principal, in_force: Iterable[Any], own: Any) -> list[dict[str, str]]:
    """Where an administrator may move an account: anywhere for the Ministry, their own agency otherwise."""
    if principal.can("user.manage", None):
        return [{"code": NATIONAL, "name": "Toàn quốc (Bộ Nội vụ)"}] + [
            {"code": a.code, "name": a.name} for a in in_force
        ]
    return [{"code": own.code, "name": own.name}] if own else []
