"""Adapters of the identity-directory port (chalicelib/domain/users.py).

CognitoDirectory: the officials' user pool on AWS (moto locally, through AWS_ENDPOINT_URL). A role is a
group named after a role id; groups that are not roles are never read as roles nor touched. The scope is
the `custom:agency` attribute.

LocalDirectory: the admin API of the local identity provider (infra/local/idp.py) that `make run` starts.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Any

from chalicelib.auth.permissions import ROLE_IDS
from chalicelib.domain.errors import DomainError
from chalicelib.domain.users import (
    EMAIL,
    USERNAME,
    Created,
    DirectoryUser,
    InvalidUser,
    NewUser,
    UserExists,
    UserNotFound,
)

log = logging.getLogger(__name__)

AGENCY_ATTRIBUTE = "custom:agency"
PAGE_SIZE = 60  # the most ListUsers, ListUsersInGroup and AdminListGroupsForUser return per page


# ------------------------------------------------------------------------------------------ checks


def check_access(roles: Iterable[str], agency: str) -> tuple[str, ...]:
    """Sorted, de-duplicated role ids; InvalidUser when there is none, one is unknown, or the scope is malformed.

    The Cognito adapter checks before it calls AWS (a name outside ROLE_IDS must never become a group
    membership); the local identity provider applies the same rules on its side.
    """
    roles = tuple(sorted(set(roles)))
    if not roles:
        raise InvalidUser("Cần chọn ít nhất một vai trò.", "Choose at least one role.", field="roles")
    unknown = sorted(set(roles) - ROLE_IDS)
    if unknown:
        raise InvalidUser(
            f"Vai trò không tồn tại: {', '.join(unknown)}.", f"Unknown role(s): {', '.join(unknown)}.", field="roles"
        )
    if not isinstance(agency, str) or not 2 <= len(agency.strip()) <= 16 or agency != agency.strip():
        raise InvalidUser(
            "Phạm vi phải là 'national' hoặc mã cơ quan (2–16 ký tự).",
            "The scope must be 'national' or an agency code (2–16 characters).",
            field="agency",
        )
    return roles


def check_new_user(user: NewUser) -> tuple[str, ...]:
    """The sorted roles of a well-formed new account; InvalidUser (with the field) otherwise."""
    if not USERNAME.fullmatch(user.username or ""):
        raise InvalidUser(
            "Tên đăng nhập dài 3–64 ký tự, gồm chữ thường không dấu, chữ số và các dấu . _ -",
            "The username must be 3–64 characters: lowercase letters, digits, '.', '_' or '-'.",
            field="username",
        )
    if not (user.name or "").strip() or len(user.name) > 128:
        raise InvalidUser(
            "Cần nhập họ và tên (tối đa 128 ký tự).", "The name is required (128 characters at most).", field="name"
        )
    if not EMAIL.fullmatch(user.email or ""):
        raise InvalidUser("Địa chỉ e-mail không hợp lệ.", "The e-mail address is not valid.", field="email")
    return check_access(user.roles, user.agency)


def _iso(value: Any) -> str | None:
    """ISO-8601 UTC with a Z, from a datetime (boto3) or an ISO string; None when there is none."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


# ------------------------------------------------------------------------------------------ Cognito


class CognitoDirectory:
    """The identity directory on a Cognito user pool."""

    def __init__(self, user_pool_id: str, *, client: Any = None, page_size: int = PAGE_SIZE) -> None:
        if not user_pool_id:
            raise ValueError("CognitoDirectory needs a user pool id (PAR_USER_POOL_ID)")
        self.user_pool_id = user_pool_id
        self._client = client
        self.page_size = page_size

    @property
    def cognito(self) -> Any:
        # Looked up on each use: the cached client is rebuilt after wiring.reset() (a new endpoint).
        if self._client is not None:
            return self._client
        from chalicelib.store import aws

        return aws.client("cognito-idp")

    # -------------------------------------------------------------- reading

    def list_users(self) -> list[DirectoryUser]:
        roles_of: dict[str, set[str]] = {}
        for role in sorted(ROLE_IDS):  # one paged listing per role, not one call per user
            for member in self._group_members(role):
                roles_of.setdefault(member, set()).add(role)
        users = [
            self._to_user(raw, raw.get("Attributes", []), roles_of.get(raw["Username"], ()))
            for raw in self._pages("list_users", "Users", "PaginationToken", "PaginationToken")
        ]
        return sorted(users, key=lambda u: u.username)

    def get_user(self, username: str) -> DirectoryUser:
        raw = self._call("admin_get_user", UserPoolId=self.user_pool_id, Username=username)
        return self._to_user(raw, raw.get("UserAttributes", []), self._roles_of(username))

    # -------------------------------------------------------------- changing

    def create_user(self, user: NewUser) -> Created:
        roles = check_new_user(user)
        raw = self._call(
            "admin_create_user",
            UserPoolId=self.user_pool_id,
            Username=user.username,
            UserAttributes=[
                {"Name": "name", "Value": user.name.strip()},
                {"Name": "email", "Value": user.email},
                {"Name": "email_verified", "Value": "true"},
                {"Name": AGENCY_ATTRIBUTE, "Value": user.agency},
            ],
            DesiredDeliveryMediums=["EMAIL"],  # Cognito e-mails the temporary password itself
        )["User"]
        try:
            for role in roles:
                self._call(
                    "admin_add_user_to_group", UserPoolId=self.user_pool_id, Username=user.username, GroupName=role
                )
        except Exception:
            # Delete rather than disable: the account never worked as asked, and deleting makes the
            # creation all-or-nothing, so the administrator can simply try again with the same username
            # (a disabled leftover would answer "username taken" and need a clean-up by hand). The
            # invitation Cognito already e-mailed then holds a password for an account that no longer
            # exists, which is harmless. Should the delete fail too, disable it: never leave it usable.
            log.exception("adding %s to its role groups failed; deleting the half-made account", user.username)
            self._undo_create(user.username)
            raise
        return Created(self._to_user(raw, raw.get("Attributes", []), roles), temporary_password=None)

    def set_access(self, username: str, roles: tuple[str, ...], agency: str) -> DirectoryUser:
        wanted = set(check_access(roles, agency))
        current = self._roles_of(username)  # UserNotFound before anything changes
        # Order matters if a call fails half-way: first drop roles, then change the scope, then add roles.
        # Every intermediate state then grants no more than the old access or the new one; changing the
        # scope first could, for a moment, give an old agency role national reach.
        for role in sorted(current - wanted):
            self._call("admin_remove_user_from_group", UserPoolId=self.user_pool_id, Username=username, GroupName=role)
        self._call(
            "admin_update_user_attributes",
            UserPoolId=self.user_pool_id,
            Username=username,
            UserAttributes=[{"Name": AGENCY_ATTRIBUTE, "Value": agency}],
        )
        for role in sorted(wanted - current):
            self._call("admin_add_user_to_group", UserPoolId=self.user_pool_id, Username=username, GroupName=role)
        return self.get_user(username)

    def set_enabled(self, username: str, enabled: bool) -> DirectoryUser:
        operation = "admin_enable_user" if enabled else "admin_disable_user"
        self._call(operation, UserPoolId=self.user_pool_id, Username=username)
        return self.get_user(username)

    # -------------------------------------------------------------- helpers

    def _undo_create(self, username: str) -> None:
        try:
            self._call("admin_delete_user", UserPoolId=self.user_pool_id, Username=username)
        except Exception:
            log.exception("could not delete the half-made account %s; disabling it", username)
            try:
                self._call("admin_disable_user", UserPoolId=self.user_pool_id, Username=username)
            except Exception:
                log.exception("could not disable the half-made account %s either; fix it by hand", username)

    def _roles_of(self, username: str) -> set[str]:
        groups = self._pages("admin_list_groups_for_user", "Groups", "NextToken", "NextToken", Username=username)
        return {g["GroupName"] for g in groups if g["GroupName"] in ROLE_IDS}

    def _group_members(self, group: str) -> Iterator[str]:
        try:
            for raw in self._pages("list_users_in_group", "Users", "NextToken", "NextToken", GroupName=group):
                yield raw["Username"]
        except _GroupMissing:
            log.warning("user pool %s has no group %s; nobody holds that role", self.user_pool_id, group)

    def _pages(self, operation: str, key: str, token_in: str, token_out: str, **params: Any) -> Iterator[Any]:
        token: str | None = None
        while True:
            page = self._call(
                operation,
                UserPoolId=self.user_pool_id,
                Limit=self.page_size,
                **params,
                **({token_in: token} if token else {}),
            )
            yield from page.get(key, [])
            token = page.get(token_out)
            if not token:
                return

    def _call(self, operation: str, **params: Any) -> Any:
        from botocore.exceptions import ClientError

        try:
            return getattr(self.cognito, operation)(**params)
        except ClientError as exc:
            error = exc.response.get("Error", {})
            code, message = error.get("Code", ""), error.get("Message", "")
            if code == "UserNotFoundException":
                raise UserNotFound() from exc
            if code == "UsernameExistsException":
                raise UserExists() from exc
            if code == "AliasExistsException":
                raise InvalidUser(
                    "Địa chỉ e-mail này đã thuộc về một tài khoản khác.",
                    "That e-mail address belongs to another account.",
                    field="email",
                ) from exc
            if code == "ResourceNotFoundException" and "GroupName" in params and operation == "list_users_in_group":
                raise _GroupMissing() from exc
            if code == "InvalidParameterException":
                raise InvalidUser(message_en=f"The account details are not valid: {message}") from exc
            if code in _BUSY:
                raise DirectoryBusy(details=[{"reason": code}]) from exc
            if code == "CodeDeliveryFailureException":
                raise InvalidUser(
                    "Không gửi được thư mời tới địa chỉ này; kiểm tra lại thư điện tử của cán bộ.",
                    "The invitation could not be delivered to that address; check the e-mail.",
                    field="email",
                ) from exc
            raise

    @staticmethod
    def _to_user(raw: dict[str, Any], attributes: list[dict[str, str]], roles: Iterable[str]) -> DirectoryUser:
        attrs = {a["Name"]: a.get("Value", "") for a in attributes}
        return DirectoryUser(
            username=raw["Username"],
            name=attrs.get("name", ""),
            email=attrs.get("email", ""),
            roles=tuple(sorted(set(roles))),
            agency=attrs.get(AGENCY_ATTRIBUTE, ""),
            enabled=bool(raw.get("Enabled", True)),
            status=raw.get("UserStatus", "UNKNOWN"),
            created_at=_iso(raw.get("UserCreateDate")),
        )


_BUSY = frozenset({"TooManyRequestsException", "LimitExceededException", "InternalErrorException"})


class DirectoryBusy(DomainError):
    """Cognito throttled us or hit a quota (e.g. the default sender's daily e-mail limit)."""

    code = "directory_busy"
    status = 503
    message_vi = "Hệ thống tài khoản đang bận hoặc đã đạt giới hạn; vui lòng thử lại sau ít phút."
    message_en = "The accounts directory is busy or at a limit; try again in a few minutes."


class _GroupMissing(Exception):
    """A role's group does not exist in the pool (a pool built outside the template)."""


# ------------------------------------------------------------------------------------------ local


class LocalDirectory:
    """The identity directory over the local identity provider's admin API (JSON under /admin/users)."""

    def __init__(self, base_url: str, admin_key: str, timeout: float = 10.0) -> None:
        parsed = urllib.parse.urlparse(base_url)
        if parsed.scheme not in {"http", "https"} or not parsed.netloc:
            raise ValueError(f"the local identity provider's URL must be http(s)://host:port, not {base_url!r}")
        if not admin_key:
            raise ValueError("LocalDirectory needs the local identity provider's admin key (PAR_LOCAL_IDP_ADMIN_KEY)")
        self.base_url = base_url.rstrip("/")
        self._admin_key = admin_key
        self.timeout = timeout
        # No proxy: a developer's http_proxy must not see (or break) calls to the local provider.
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def list_users(self) -> list[DirectoryUser]:
        body = self._request("GET", "/admin/users")
        return sorted((_from_json(u) for u in body["users"]), key=lambda u: u.username)

    def get_user(self, username: str) -> DirectoryUser:
        return _from_json(self._request("GET", _user_path(username)))

    def create_user(self, user: NewUser) -> Created:
        body = self._request(
            "POST",
            "/admin/users",
            {
                "username": user.username,
                "name": user.name,
                "email": user.email,
                "roles": list(user.roles),
                "agency": user.agency,
            },
        )
        return Created(_from_json(body["user"]), temporary_password=body.get("temporary_password"))

    def set_access(self, username: str, roles: tuple[str, ...], agency: str) -> DirectoryUser:
        return _from_json(
            self._request("PUT", f"{_user_path(username)}/access", {"roles": list(roles), "agency": agency})
        )

    def set_enabled(self, username: str, enabled: bool) -> DirectoryUser:
        return _from_json(self._request("PUT", f"{_user_path(username)}/enabled", {"enabled": bool(enabled)}))

    def _request(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        headers = {"Authorization": f"Bearer {self._admin_key}", "Accept": "application/json"}
        data = None
        if payload is not None:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method, headers=headers)  # noqa: S310 - the scheme is checked in __init__
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raw = exc.read()
            try:
                error = json.loads(raw)["error"]
            except (ValueError, KeyError, TypeError):
                error = {}
            if not isinstance(error, dict):
                error = {"code": str(error)}
            code, vi, en = error.get("code"), error.get("message"), error.get("message_en")
            if exc.code == 404 and code == "user_not_found":
                raise UserNotFound() from exc
            if exc.code == 409:
                raise UserExists() from exc
            if exc.code == 400:
                raise InvalidUser(vi, en, field=error.get("field")) from exc
            raise RuntimeError(
                f"local identity provider answered {method} {path} with HTTP {exc.code}: {raw[:200]!r}"
            ) from exc


def _user_path(username: str) -> str:
    return f"/admin/users/{urllib.parse.quote(username, safe='')}"


def _from_json(data: dict[str, Any]) -> DirectoryUser:
    return DirectoryUser(
        username=data["username"],
        name=data.get("name", ""),
        email=data.get("email", ""),
        roles=tuple(sorted(data.get("roles", []))),
        agency=data.get("agency", ""),
        enabled=bool(data.get("enabled", True)),
        status=data.get("status", "CONFIRMED"),
        created_at=_iso(data.get("created_at")),
    )
