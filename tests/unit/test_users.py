"""Officials' accounts: who may see, create and change whose access, each change audited before it is
made; and the request bodies of the account API against schemas/user.schema.json."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import pytest

from chalicelib.api.bodies import MAX_BYTES, InvalidRequest, json_body
from chalicelib.auth.permissions import NATIONAL, NATIONAL_ONLY_ROLES, ROLE_IDS, ROLES, Grant
from chalicelib.auth.tokens import Forbidden, Principal, principal_from_claims
from chalicelib.contracts import load_schema, part_validator, validator
from chalicelib.domain.audit import Actor, AuditLog, verify_chain
from chalicelib.domain.errors import BodyTooLarge, InvalidJson, UnsupportedMediaType
from chalicelib.domain.users import (
    USERNAME,
    Created,
    DirectoryUser,
    InvalidUser,
    NewUser,
    UserAdminService,
    UserExists,
    UserNotFound,
)
from chalicelib.reference.agencies import agency_registry
from tests.shared.fakes import FakeAuditStore, FakeDirectory

T0 = datetime(2026, 3, 1, 2, 0, tzinfo=timezone.utc)

NATIONAL_ADMIN = Principal("admin.bnv", "Nguyễn Thị Hạnh", (Grant("system_admin", NATIONAL),))
HANOI_ADMIN = Principal("admin.p01", "Trần Văn Đức", (Grant("agency_admin", "P01"),))
HANOI_EDITOR = Principal("editor.p01", "Lê Thị Mai", (Grant("agency_editor", "P01"),))
NATIONAL_ANALYST = Principal("analyst.bnv", "Phạm Minh", (Grant("analyst", NATIONAL),))
NATIONAL_ACTOR = Actor("admin.bnv", "Nguyễn Thị Hạnh", "system_admin", None)
HANOI_ACTOR = Actor("admin.p01", "Trần Văn Đức", "agency_admin", "P01")


def _user(username: str, agency: str, *roles: str, enabled: bool = True) -> DirectoryUser:
    return DirectoryUser(
        username=username,
        name=username.replace(".", " ").title(),
        email=f"{username}@example.gov.vn",
        roles=tuple(sorted(roles)),
        agency=agency,
        enabled=enabled,
    )


SEED = (
    _user("admin.bnv", NATIONAL, "system_admin"),
    _user("reviewer.bnv", NATIONAL, "reviewer"),
    _user("admin.p01", "P01", "agency_admin"),
    _user("editor.p01", "P01", "agency_editor"),
    _user("clerk.p01", "P01", "data_entry", "enumerator", enabled=False),
    _user("clerk.p46", "P46", "data_entry"),
)


def no_sleep(_: float) -> None:
    return None


class Harness:
    def __init__(self) -> None:
        self.directory = FakeDirectory(*SEED)
        self.audit_store = FakeAuditStore()
        self.log = AuditLog(self.audit_store, clock=lambda: T0, sleep=no_sleep)
        self.service = UserAdminService(
            self.directory, self.log, known_agency=lambda code: agency_registry().get(code) is not None
        )
        # What the audit log held when each directory method was called.
        self.seen: list[tuple[str, list[str]]] = []
        self.directory.on_call = lambda method: self.seen.append((method, [e.action for e in self.audit_store.chain()]))

    def chain(self) -> list[Any]:
        return self.audit_store.chain()

    def changing_calls(self) -> list[tuple[str, str | None]]:
        return [c for c in self.directory.calls if c[0] not in {"list_users", "get_user"}]


@pytest.fixture
def h() -> Harness:
    return Harness()


def _new(username: str = "nguyen.van.an", roles: tuple[str, ...] = ("analyst",), agency: str = "P01") -> NewUser:
    return NewUser(username, "Nguyễn Văn An", f"{username.strip().lower() or 'an'}@hanoi.gov.vn", roles, agency)


# =========================================================================== the fake itself


def test_the_fake_directory_keeps_the_port_contract():
    directory = FakeDirectory(*SEED)
    assert [u.username for u in directory.list_users()] == sorted(u.username for u in SEED)
    with pytest.raises(UserNotFound):
        directory.get_user("nobody")
    created = directory.create_user(_new(roles=("enumerator", "analyst", "analyst")))
    assert isinstance(created, Created)
    assert created.temporary_password is not None and created.temporary_password.startswith("temp-")
    assert created.user.roles == ("analyst", "enumerator")
    with pytest.raises(UserExists):
        directory.create_user(_new())
    directory.fail_next(RuntimeError("down"), method="set_enabled")
    assert directory.get_user("editor.p01").enabled  # another method: not the one told to fail
    with pytest.raises(RuntimeError):
        directory.set_enabled("editor.p01", False)
    assert directory.set_enabled("editor.p01", False).enabled is False  # only the next call failed


# =========================================================================== reach


def test_a_national_admin_lists_any_agency_and_the_national_scope(h: Harness):
    assert [u.username for u in h.service.list_users(NATIONAL_ADMIN, "P01")] == ["admin.p01", "clerk.p01", "editor.p01"]
    assert [u.username for u in h.service.list_users(NATIONAL_ADMIN, "P46")] == ["clerk.p46"]
    assert [u.username for u in h.service.list_users(NATIONAL_ADMIN, NATIONAL)] == ["admin.bnv", "reviewer.bnv"]
    assert h.service.list_users(NATIONAL_ADMIN, "M-BNV") == []


def test_an_agency_admin_lists_their_own_agency_only(h: Harness):
    assert [u.username for u in h.service.list_users(HANOI_ADMIN, "P01")] == ["admin.p01", "clerk.p01", "editor.p01"]
    for other in ("P46", NATIONAL, "M-BNV"):
        with pytest.raises(Forbidden) as caught:
            h.service.list_users(HANOI_ADMIN, other)
        assert caught.value.status == 403
    assert [c for c in h.directory.calls if c[0] == "list_users"] == [("list_users", None)]  # only the allowed one


@pytest.mark.parametrize("principal", [HANOI_EDITOR, NATIONAL_ANALYST], ids=["agency-editor", "national-analyst"])
def test_without_user_manage_nobody_lists_or_creates(h: Harness, principal: Principal):
    with pytest.raises(Forbidden):
        h.service.list_users(principal, "P01")
    with pytest.raises(Forbidden):
        h.service.create_user(principal, HANOI_ACTOR, "P01", _new())
    assert h.directory.calls == [] and h.chain() == []


@pytest.mark.parametrize("code", ["P99", "M-XYZ", "p01", "NATIONAL", ""])
def test_an_unknown_agency_code_is_not_found(h: Harness, code: str):
    from chalicelib.domain.agencies import AgencyNotFound

    for principal in (NATIONAL_ADMIN, HANOI_ADMIN):
        with pytest.raises(AgencyNotFound) as caught:
            h.service.list_users(principal, code)
        assert caught.value.field == "agency" and caught.value.status == 404
        with pytest.raises(AgencyNotFound) as caught:
            h.service.create_user(principal, NATIONAL_ACTOR, code, _new())
        assert caught.value.field == "agency"
    assert h.changing_calls() == [] and h.chain() == []


def test_a_user_of_another_agency_is_not_found_as_if_absent(h: Harness):
    with pytest.raises(UserNotFound) as other_scope:
        h.service.get_user(HANOI_ADMIN, "P01", "clerk.p46")
    with pytest.raises(UserNotFound) as absent:
        h.service.get_user(HANOI_ADMIN, "P01", "nobody.at.all")
    assert other_scope.value.to_dict() == absent.value.to_dict()
    assert other_scope.value.status == 404
    with pytest.raises(UserNotFound):
        h.service.get_user(NATIONAL_ADMIN, "P01", "clerk.p46")  # even for the national admin, on that path
    with pytest.raises(UserNotFound):
        h.service.get_user(NATIONAL_ADMIN, "P01", "admin.bnv")
    assert h.service.get_user(NATIONAL_ADMIN, "P46", "clerk.p46") == SEED[-1]
    assert h.service.get_user(HANOI_ADMIN, "P01", "editor.p01").agency == "P01"


def test_an_agency_admin_cannot_read_another_agency_at_all(h: Harness):
    with pytest.raises(Forbidden):
        h.service.get_user(HANOI_ADMIN, "P46", "clerk.p46")
    with pytest.raises(Forbidden):
        h.service.get_user(HANOI_ADMIN, NATIONAL, "admin.bnv")
    assert h.directory.calls == []


# =========================================================================== creating


def test_an_agency_admin_creates_an_account_in_their_agency(h: Harness):
    created = h.service.create_user(HANOI_ADMIN, HANOI_ACTOR, "P01", _new(roles=("enumerator", "data_entry")))
    assert created.temporary_password and created.temporary_password.startswith("temp-")
    assert created.user.username == "nguyen.van.an" and created.user.agency == "P01"
    assert created.user.roles == ("data_entry", "enumerator")
    assert h.directory.users["nguyen.van.an"] == created.user

    [entry] = h.chain()
    assert entry.action == "user.create"
    assert (entry.target_type, entry.target_id) == ("user", "nguyen.van.an")
    assert entry.actor == HANOI_ACTOR
    assert entry.before is None
    assert entry.after == {
        "username": "nguyen.van.an",
        "name": "Nguyễn Văn An",
        "email": "nguyen.van.an@hanoi.gov.vn",
        "roles": ["data_entry", "enumerator"],
        "agency": "P01",
    }
    assert "temp-" not in json.dumps(entry.to_dict())  # the first password never reaches the log


@pytest.mark.parametrize("agency", ["P01", "P46", "M-BNV", NATIONAL])
def test_a_national_admin_creates_accounts_anywhere(h: Harness, agency: str):
    created = h.service.create_user(NATIONAL_ADMIN, NATIONAL_ACTOR, agency, _new(agency=agency))
    assert created.user.agency == agency
    assert h.directory.users["nguyen.van.an"].agency == agency
    assert [e.after["agency"] for e in h.chain()] == [agency]


@pytest.mark.parametrize("agency", ["P46", NATIONAL, "M-BNV"])
def test_an_agency_admin_cannot_create_outside_their_agency(h: Harness, agency: str):
    with pytest.raises(Forbidden):
        h.service.create_user(HANOI_ADMIN, HANOI_ACTOR, agency, _new(agency=agency))
    assert "nguyen.van.an" not in h.directory.users
    assert h.directory.calls == [] and h.chain() == []


def test_the_scope_comes_from_the_path_not_from_the_body(h: Harness):
    created = h.service.create_user(HANOI_ADMIN, HANOI_ACTOR, "P01", _new(agency="P46"))
    assert created.user.agency == "P01"
    assert h.chain()[0].after["agency"] == "P01"
    with pytest.raises(Forbidden):
        h.service.create_user(HANOI_ADMIN, HANOI_ACTOR, "P46", _new("other.user", agency="P01"))


def test_create_normalizes_username_name_and_email(h: Harness):
    new = NewUser("  Nguyen.Van.An ", "  Nguyễn   Văn\tAn  ", " an@hanoi.gov.vn ", ("analyst",), "P01")
    created = h.service.create_user(HANOI_ADMIN, HANOI_ACTOR, "P01", new)
    assert (created.user.username, created.user.name, created.user.email) == (
        "nguyen.van.an",
        "Nguyễn Văn An",
        "an@hanoi.gov.vn",
    )


@pytest.mark.parametrize("role", sorted(NATIONAL_ONLY_ROLES))
@pytest.mark.parametrize("principal", [NATIONAL_ADMIN, HANOI_ADMIN], ids=["national-admin", "hanoi-admin"])
def test_nobody_grants_a_national_only_role_with_an_agency_scope(h: Harness, principal: Principal, role: str):
    for roles in ((role,), ("analyst", role)):
        with pytest.raises(InvalidUser) as caught:
            h.service.create_user(principal, HANOI_ACTOR, "P01", _new(roles=roles))
        assert caught.value.field == "roles"
        assert role in caught.value.message_en
    with pytest.raises(InvalidUser) as caught:
        h.service.set_access(principal, HANOI_ACTOR, "P01", "clerk.p01", (role,), "P01")
    assert caught.value.field == "roles"
    assert h.changing_calls() == [] and h.chain() == []
    assert h.directory.users["clerk.p01"] == SEED[4]


@pytest.mark.parametrize("role", sorted(NATIONAL_ONLY_ROLES))
def test_a_national_admin_grants_national_only_roles_nationally(h: Harness, role: str):
    created = h.service.create_user(NATIONAL_ADMIN, NATIONAL_ACTOR, NATIONAL, _new(roles=(role,), agency=NATIONAL))
    assert created.user.roles == (role,) and created.user.agency == NATIONAL
    moved = h.service.set_access(NATIONAL_ADMIN, NATIONAL_ACTOR, "P01", "editor.p01", (role, "analyst"), NATIONAL)
    assert moved.agency == NATIONAL and moved.roles == tuple(sorted((role, "analyst")))


def test_every_role_that_is_not_national_only_can_be_granted_in_an_agency(h: Harness):
    agency_roles = sorted(ROLE_IDS - NATIONAL_ONLY_ROLES)
    created = h.service.create_user(HANOI_ADMIN, HANOI_ACTOR, "P01", _new(roles=tuple(agency_roles)))
    assert list(created.user.roles) == agency_roles


@pytest.mark.parametrize("roles", [(), ("root",), ("analyst", "Analyst"), ("analyst", "")])
def test_unknown_or_missing_roles_are_refused(h: Harness, roles: tuple[str, ...]):
    with pytest.raises(InvalidUser) as caught:
        h.service.create_user(NATIONAL_ADMIN, NATIONAL_ACTOR, "P01", _new(roles=roles))
    assert caught.value.field == "roles"
    assert h.changing_calls() == [] and h.chain() == []


@pytest.mark.parametrize(
    "username",
    ["ab", "-abc", ".abc", "nguyễn.văn.an", "nguyen van an", "a" * 65, "", "   ", "an@hanoi", "an/../x", "ab\nc"],
)
def test_an_invalid_username_is_refused(h: Harness, username: str):
    with pytest.raises(InvalidUser) as caught:
        h.service.create_user(HANOI_ADMIN, HANOI_ACTOR, "P01", _new(username=username))
    assert caught.value.field == "username"
    assert h.changing_calls() == [] and h.chain() == []


@pytest.mark.parametrize("username", ["abc", "a" * 64, "nguyen.van.an", "an_01", "0an-b"])
def test_valid_usernames(h: Harness, username: str):
    assert h.service.create_user(HANOI_ADMIN, HANOI_ACTOR, "P01", _new(username=username)).user.username == username


@pytest.mark.parametrize(
    "email", ["not-an-email", "an@hanoi", "an@hanoi.c", "a n@hanoi.gov.vn", "an@@hanoi.gov.vn", ""]
)
def test_an_invalid_email_is_refused(h: Harness, email: str):
    new = NewUser("nguyen.van.an", "Nguyễn Văn An", email, ("analyst",), "P01")
    with pytest.raises(InvalidUser) as caught:
        h.service.create_user(HANOI_ADMIN, HANOI_ACTOR, "P01", new)
    assert caught.value.field == "email"
    assert h.changing_calls() == [] and h.chain() == []


def test_a_blank_name_is_refused(h: Harness):
    new = NewUser("nguyen.van.an", "  \t ", "an@hanoi.gov.vn", ("analyst",), "P01")
    with pytest.raises(InvalidUser) as caught:
        h.service.create_user(HANOI_ADMIN, HANOI_ACTOR, "P01", new)
    assert caught.value.field == "name"
    assert h.chain() == []


@pytest.mark.parametrize("username", ["editor.p01", "Editor.P01", " editor.p01 ", "clerk.p46", "admin.bnv"])
def test_a_taken_username_is_refused_without_an_audit_entry(h: Harness, username: str):
    with pytest.raises(UserExists) as caught:
        h.service.create_user(HANOI_ADMIN, HANOI_ACTOR, "P01", _new(username=username))
    assert caught.value.status == 409 and caught.value.field == "username"
    assert h.chain() == []
    assert h.changing_calls() == []
    assert h.directory.users == {u.username: u for u in SEED}


# =========================================================================== changing access


def test_set_access_changes_roles_and_writes_its_entry(h: Harness):
    changed = h.service.set_access(HANOI_ADMIN, HANOI_ACTOR, "P01", "editor.p01", ("answerer", "agency_editor"), "P01")
    assert changed.roles == ("agency_editor", "answerer") and changed.agency == "P01"
    assert h.directory.users["editor.p01"].roles == ("agency_editor", "answerer")
    [entry] = h.chain()
    assert entry.action == "user.access"
    assert (entry.target_type, entry.target_id) == ("user", "editor.p01")
    assert entry.actor == HANOI_ACTOR
    assert entry.before == {"roles": ["agency_editor"], "agency": "P01"}
    assert entry.after == {"roles": ["agency_editor", "answerer"], "agency": "P01"}


def test_a_national_admin_moves_a_user_between_agencies(h: Harness):
    moved = h.service.set_access(NATIONAL_ADMIN, NATIONAL_ACTOR, "P01", "editor.p01", ("agency_editor",), "P46")
    assert moved.agency == "P46" and h.directory.users["editor.p01"].agency == "P46"
    [entry] = h.chain()
    assert entry.before == {"roles": ["agency_editor"], "agency": "P01"}
    assert entry.after == {"roles": ["agency_editor"], "agency": "P46"}
    with pytest.raises(UserNotFound):  # it now lives in P46
        h.service.get_user(NATIONAL_ADMIN, "P01", "editor.p01")


def test_an_agency_admin_cannot_move_a_user_out_of_their_agency(h: Harness):
    for target in ("P46", NATIONAL):
        with pytest.raises(Forbidden):
            h.service.set_access(HANOI_ADMIN, HANOI_ACTOR, "P01", "editor.p01", ("agency_editor",), target)
    assert h.directory.users["editor.p01"] == SEED[3]
    assert h.changing_calls() == [] and h.chain() == []


def test_an_agency_admin_cannot_pull_a_user_in_from_another_agency(h: Harness):
    with pytest.raises(Forbidden):
        h.service.set_access(HANOI_ADMIN, HANOI_ACTOR, "P46", "clerk.p46", ("data_entry",), "P01")
    with pytest.raises(UserNotFound):  # nor by naming it on their own agency's path
        h.service.set_access(HANOI_ADMIN, HANOI_ACTOR, "P01", "clerk.p46", ("data_entry",), "P01")
    with pytest.raises(UserNotFound):
        h.service.set_enabled(HANOI_ADMIN, HANOI_ACTOR, "P01", "clerk.p46", False)
    assert h.directory.users["clerk.p46"] == SEED[5]
    assert h.changing_calls() == [] and h.chain() == []


def test_moving_to_an_unknown_agency_is_refused(h: Harness):
    with pytest.raises(InvalidUser) as caught:
        h.service.set_access(NATIONAL_ADMIN, NATIONAL_ACTOR, "P01", "editor.p01", ("agency_editor",), "P99")
    assert caught.value.field == "agency"
    assert h.changing_calls() == [] and h.chain() == []


def test_set_access_with_the_same_roles_and_scope_writes_nothing(h: Harness):
    same = h.service.set_access(
        HANOI_ADMIN, HANOI_ACTOR, "P01", "clerk.p01", ("enumerator", "data_entry", "enumerator"), "P01"
    )
    assert same == SEED[4]
    assert h.changing_calls() == [] and h.chain() == []


def test_set_access_to_an_unknown_user(h: Harness):
    with pytest.raises(UserNotFound):
        h.service.set_access(HANOI_ADMIN, HANOI_ACTOR, "P01", "nobody", ("analyst",), "P01")
    assert h.chain() == []


# =========================================================================== enabling


def test_disable_then_enable_each_write_their_entry(h: Harness):
    disabled = h.service.set_enabled(HANOI_ADMIN, HANOI_ACTOR, "P01", "editor.p01", False)
    assert disabled.enabled is False and h.directory.users["editor.p01"].enabled is False
    enabled = h.service.set_enabled(HANOI_ADMIN, HANOI_ACTOR, "P01", "editor.p01", True)
    assert enabled.enabled is True and h.directory.users["editor.p01"].enabled is True

    first, second = h.chain()
    assert (first.action, first.target_type, first.target_id) == ("user.disable", "user", "editor.p01")
    assert (first.before, first.after) == ({"enabled": True}, {"enabled": False})
    assert (second.action, second.target_type, second.target_id) == ("user.enable", "user", "editor.p01")
    assert (second.before, second.after) == ({"enabled": False}, {"enabled": True})
    assert verify_chain(h.chain(), head=h.audit_store.head()).ok


def test_setting_the_same_enabled_state_writes_nothing(h: Harness):
    assert h.service.set_enabled(HANOI_ADMIN, HANOI_ACTOR, "P01", "editor.p01", True) == SEED[3]
    assert h.service.set_enabled(HANOI_ADMIN, HANOI_ACTOR, "P01", "clerk.p01", False) == SEED[4]
    assert h.changing_calls() == [] and h.chain() == []


def test_an_agency_admin_cannot_disable_a_national_account(h: Harness):
    with pytest.raises(Forbidden):
        h.service.set_enabled(HANOI_ADMIN, HANOI_ACTOR, NATIONAL, "admin.bnv", False)
    assert h.directory.users["admin.bnv"].enabled and h.chain() == []


# =========================================================================== one's own account


@pytest.mark.parametrize(
    ("principal", "actor", "agency"),
    [(HANOI_ADMIN, HANOI_ACTOR, "P01"), (NATIONAL_ADMIN, NATIONAL_ACTOR, NATIONAL)],
    ids=["hanoi-admin", "national-admin"],
)
def test_nobody_changes_or_disables_their_own_account(h: Harness, principal: Principal, actor: Actor, agency: str):
    me = principal.sub
    before = h.directory.users[me]
    with pytest.raises(InvalidUser) as caught:
        h.service.set_enabled(principal, actor, agency, me, False)
    assert caught.value.field == "username"
    with pytest.raises(InvalidUser):
        h.service.set_access(principal, actor, agency, me, ("analyst",), agency)
    with pytest.raises(InvalidUser):  # not even a no-op
        h.service.set_access(principal, actor, agency, me, before.roles, agency)
    assert h.directory.users[me] == before
    assert h.changing_calls() == [] and h.chain() == []


def test_the_directory_username_of_a_principal_is_recognised_even_when_sub_differs(h: Harness):
    someone = Principal("0f6c1f1e-uuid", "Lê Thị Mai", (Grant("agency_admin", "P01"),), username="editor.p01")
    with pytest.raises(InvalidUser):
        h.service.set_enabled(someone, HANOI_ACTOR, "P01", "editor.p01", False)
    with pytest.raises(InvalidUser):
        h.service.set_access(someone, HANOI_ACTOR, "P01", "editor.p01", ("agency_admin",), "P01")
    # ...while another account of the same agency is still theirs to manage.
    assert h.service.set_enabled(someone, HANOI_ACTOR, "P01", "admin.p01", False).enabled is False


@pytest.mark.parametrize("username_claim", ["cognito:username", "username"], ids=["id-token", "access-token"])
def test_an_admin_signed_in_through_the_identity_provider_cannot_change_themself(h: Harness, username_claim: str):
    """Cognito and the local IdP give each account a UUID `sub`; the login name comes in another claim."""
    principal = principal_from_claims(
        {
            "sub": "9b2f4c1a-6d3e-4f70-8a11-2c5d7e9f0b34",
            username_claim: "admin.p01",
            "name": "Trần Văn Đức",
            "cognito:groups": ["agency_admin"],
            "custom:agency": "P01",
        }
    )
    with pytest.raises(InvalidUser) as caught:
        h.service.set_enabled(principal, HANOI_ACTOR, "P01", "admin.p01", False)
    assert caught.value.field == "username"
    with pytest.raises(InvalidUser):
        h.service.set_access(principal, HANOI_ACTOR, "P01", "admin.p01", ("agency_editor",), "P01")
    assert h.directory.users["admin.p01"] == SEED[2]
    assert h.changing_calls() == [] and h.chain() == []


# =========================================================================== audit first, then the directory


def test_the_create_entry_is_written_before_the_directory_creates(h: Harness):
    h.service.create_user(HANOI_ADMIN, HANOI_ACTOR, "P01", _new())
    assert h.seen == [("get_user", []), ("create_user", ["user.create"])]


def test_the_access_entry_is_written_before_the_directory_changes(h: Harness):
    h.service.set_access(NATIONAL_ADMIN, NATIONAL_ACTOR, "P01", "editor.p01", ("agency_editor",), "P46")
    assert h.seen[-1] == ("set_access", ["user.access"])
    assert [m for m, _ in h.seen] == ["get_user", "set_access"]


def test_the_enabled_entry_is_written_before_the_directory_changes(h: Harness):
    h.service.set_enabled(HANOI_ADMIN, HANOI_ACTOR, "P01", "editor.p01", False)
    assert h.seen[-1] == ("set_enabled", ["user.disable"])


CHANGES = {
    "user.create": ("create_user", lambda s: s.create_user(HANOI_ADMIN, HANOI_ACTOR, "P01", _new())),
    "user.access": (
        "set_access",
        lambda s: s.set_access(HANOI_ADMIN, HANOI_ACTOR, "P01", "editor.p01", ("answerer",), "P01"),
    ),
    "user.disable": ("set_enabled", lambda s: s.set_enabled(HANOI_ADMIN, HANOI_ACTOR, "P01", "editor.p01", False)),
    "user.enable": ("set_enabled", lambda s: s.set_enabled(HANOI_ADMIN, HANOI_ACTOR, "P01", "clerk.p01", True)),
}


@pytest.mark.parametrize("action", list(CHANGES))
def test_when_the_directory_fails_a_failed_entry_follows_and_the_error_propagates(h: Harness, action: str):
    method, change = CHANGES[action]
    error = RuntimeError("the directory is down")
    h.directory.fail_next(error, method=method)

    with pytest.raises(RuntimeError) as caught:
        change(h.service)
    assert caught.value is error

    attempt, failed = h.chain()
    assert attempt.action == action
    assert failed.action == f"{action}.failed"
    assert (failed.target_type, failed.target_id) == ("user", attempt.target_id)
    assert failed.actor == attempt.actor == HANOI_ACTOR
    assert failed.before == attempt.before
    # the account as it really is after the refusal (a change can fail half-way); none when it was never made
    if action == "user.create":
        assert failed.after is None
    else:
        user = h.directory.users[attempt.target_id]
        assert failed.after == {"roles": list(user.roles), "agency": user.agency, "enabled": user.enabled}
    assert failed.reason == "RuntimeError"
    assert verify_chain(h.chain(), head=h.audit_store.head()).ok
    assert h.directory.users == {u.username: u for u in SEED}  # nothing changed


def test_a_domain_refusal_of_the_directory_is_logged_as_failed_and_propagates(h: Harness):
    # Someone took the username between the check and the creation.
    h.directory.fail_next(UserExists(field="username"), method="create_user")
    with pytest.raises(UserExists):
        h.service.create_user(HANOI_ADMIN, HANOI_ACTOR, "P01", _new())
    assert [(e.action, e.reason) for e in h.chain()] == [("user.create", None), ("user.create.failed", "UserExists")]


@pytest.mark.parametrize("action", list(CHANGES))
def test_each_change_writes_exactly_one_entry(h: Harness, action: str):
    _, change = CHANGES[action]
    change(h.service)
    assert [e.action for e in h.chain()] == [action]
    assert all(e.reason is None for e in h.chain())


# =========================================================================== the contract


def test_the_role_enum_of_the_schema_is_the_role_list():
    enum = load_schema("user")["$defs"]["roles"]["items"]["enum"]
    assert len(enum) == len(set(enum))
    assert set(enum) == ROLE_IDS
    assert enum == [r.id for r in ROLES]


def test_the_username_pattern_of_the_schema_is_the_domain_rule():
    assert load_schema("user")["$defs"]["new_user"]["properties"]["username"]["pattern"] == USERNAME.pattern


def test_the_agency_pattern_of_the_schema_accepts_every_agency_and_national():
    check = part_validator("user", "access")
    for code in [NATIONAL, *(a.code for a in agency_registry().all())]:
        assert check({"roles": ["analyst"], "agency": code}) is not None


def _body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


NEW_USER = {"username": "nguyen.van.an", "name": "Nguyễn Văn An", "email": "an@hanoi.gov.vn", "roles": ["analyst"]}


@pytest.mark.parametrize(
    "content_type", [None, "", "text/plain", "application/x-www-form-urlencoded", "application/jsonp", "json"]
)
def test_json_body_wants_json(content_type: str | None):
    with pytest.raises(UnsupportedMediaType) as caught:
        json_body(_body(NEW_USER), content_type, "user", "new_user")
    assert caught.value.status == 415


@pytest.mark.parametrize(
    "content_type", ["application/json", "Application/JSON; charset=UTF-8", " application/json ;charset=utf-8"]
)
def test_json_body_accepts_json_with_parameters(content_type: str):
    assert json_body(_body(NEW_USER), content_type, "user", "new_user") == NEW_USER


def test_json_body_size_limit():
    exact = _body({"enabled": True})
    exact += b" " * (MAX_BYTES - len(exact))
    assert len(exact) == MAX_BYTES
    assert json_body(exact, "application/json", "user", "enabled") == {"enabled": True}
    with pytest.raises(BodyTooLarge) as caught:
        json_body(exact + b" ", "application/json", "user", "enabled")
    assert caught.value.status == 413
    with pytest.raises(BodyTooLarge):  # the size is judged before the content
        json_body(b"x" * (MAX_BYTES + 1), "application/json", "user", "enabled")


@pytest.mark.parametrize(
    "raw", [b"", b"{", b"{'enabled': true}", b"enabled=true", b"\xff\xfe\x00", b'{"enabled": tru}']
)
def test_json_body_refuses_what_is_not_json(raw: bytes):
    with pytest.raises(InvalidJson) as caught:
        json_body(raw, "application/json", "user", "enabled")
    assert caught.value.status == 400


@pytest.mark.parametrize("value", [[{"enabled": True}], [], "enabled", 1, True, None])
def test_json_body_refuses_what_is_not_an_object(value: Any):
    with pytest.raises(InvalidJson):
        json_body(_body(value), "application/json", "user", "enabled")


def test_json_body_reads_vietnamese_utf8():
    assert json_body(_body(NEW_USER), "application/json", "user", "new_user")["name"] == "Nguyễn Văn An"


@pytest.mark.parametrize(
    ("part", "body", "field"),
    [
        ("new_user", {**NEW_USER, "username": "AB"}, "/username"),
        ("new_user", {**NEW_USER, "username": "nguyễn"}, "/username"),
        ("new_user", {**NEW_USER, "name": ""}, "/name"),
        ("new_user", {**NEW_USER, "name": "x" * 121}, "/name"),
        ("new_user", {**NEW_USER, "email": "not-an-email"}, "/email"),
        ("new_user", {**NEW_USER, "roles": ["root"]}, "/roles/0"),
        ("new_user", {**NEW_USER, "roles": ["analyst", "superuser"]}, "/roles/1"),
        ("new_user", {**NEW_USER, "roles": []}, "/roles"),
        ("new_user", {**NEW_USER, "roles": ["analyst", "analyst"]}, "/roles"),
        ("new_user", {**NEW_USER, "roles": "analyst"}, "/roles"),
        ("new_user", {**NEW_USER, "agency": "P01"}, "/"),  # the scope is the path's
        ("access", {"roles": ["analyst"], "agency": "p01"}, "/agency"),
        ("access", {"roles": ["analyst"], "agency": "P1"}, "/agency"),
        ("access", {"roles": ["analyst"], "agency": "Hà Nội"}, "/agency"),
        ("access", {"roles": ["bogus"], "agency": "P01"}, "/roles/0"),
        ("access", {"roles": ["analyst"], "agency": "P01", "enabled": True}, "/"),
        ("enabled", {"enabled": "yes"}, "/enabled"),
        ("enabled", {"enabled": 1}, "/enabled"),
        ("enabled", {"enabled": True, "roles": ["analyst"]}, "/"),
    ],
)
def test_schema_violations_name_the_field(part: str, body: dict[str, Any], field: str):
    with pytest.raises(InvalidRequest) as caught:
        json_body(_body(body), "application/json", "user", part)
    assert caught.value.field == field
    assert caught.value.status == 400 and caught.value.code == "invalid_request"
    assert caught.value.to_dict()["error"]["field"] == field


@pytest.mark.parametrize(
    ("part", "body", "missing"),
    [
        *[("new_user", {k: v for k, v in NEW_USER.items() if k != key}, key) for key in NEW_USER],
        ("access", {"agency": "P01"}, "roles"),
        ("access", {"roles": ["analyst"]}, "agency"),
        ("enabled", {}, "enabled"),
    ],
)
def test_a_missing_field_is_named(part: str, body: dict[str, Any], missing: str):
    with pytest.raises(InvalidRequest) as caught:
        json_body(_body(body), "application/json", "user", part)
    assert caught.value.field == f"/{missing}"
    assert f"/{missing}" in caught.value.message_en and f"/{missing}" in caught.value.message_vi


@pytest.mark.parametrize(
    ("part", "body"),
    [
        ("new_user", NEW_USER),
        ("access", {"roles": ["reviewer", "analyst"], "agency": NATIONAL}),
        ("access", {"roles": ["agency_admin"], "agency": "M-BNV"}),
        ("enabled", {"enabled": False}),
    ],
)
def test_part_validators_accept_their_part_and_the_whole_schema_accepts_each(part: str, body: dict[str, Any]):
    assert json_body(_body(body), "application/json", "user", part) == body
    validator("user")(body)  # the oneOf of the three


def test_part_validators_do_not_accept_another_part():
    from fastjsonschema import JsonSchemaValueException

    with pytest.raises(JsonSchemaValueException):
        part_validator("user", "access")({"enabled": True})
    with pytest.raises(JsonSchemaValueException):
        part_validator("user", "enabled")(NEW_USER)
    with pytest.raises(JsonSchemaValueException):
        part_validator("user", "new_user")({"roles": ["analyst"], "agency": "P01"})


def test_the_whole_user_schema_refuses_a_mix_of_parts():
    with pytest.raises(InvalidRequest) as caught:
        json_body(_body({"enabled": True, "roles": ["analyst"]}), "application/json", "user")
    assert caught.value.field == "/"


def test_accounts_of_an_ended_agency_stay_reachable_but_none_are_created_there(h: Harness):

    def in_force(code: str) -> bool:
        found = agency_registry().get(code)
        return found is not None and found.valid_to is None

    revoked: list[str] = []
    service = UserAdminService(
        h.directory,
        h.log,
        known_agency=lambda code: agency_registry().get(code) is not None,
        in_force=in_force,
        revoke=revoked.append,
    )
    old = DirectoryUser("cu.bgtvt", "Cán bộ Bộ GTVT", "cu@mt.gov.vn", ("agency_admin",), "M-BGTVT")
    h.directory.users[old.username] = old
    assert [u.username for u in service.list_users(NATIONAL_ADMIN, "M-BGTVT")] == ["cu.bgtvt"]
    service.set_enabled(NATIONAL_ADMIN, NATIONAL_ACTOR, "M-BGTVT", "cu.bgtvt", False)
    assert revoked == ["cu.bgtvt"]  # tokens issued before are refused from now on
    moved = service.set_access(NATIONAL_ADMIN, NATIONAL_ACTOR, "M-BGTVT", "cu.bgtvt", ("agency_admin",), "M-BXD")
    assert moved.agency == "M-BXD" and revoked == ["cu.bgtvt", "cu.bgtvt"]
    with pytest.raises(InvalidUser) as caught:
        service.create_user(NATIONAL_ADMIN, NATIONAL_ACTOR, "M-BGTVT", _new())
    assert caught.value.field == "agency" and "kế thừa" in caught.value.message_vi
    with pytest.raises(InvalidUser):
        service.set_access(NATIONAL_ADMIN, NATIONAL_ACTOR, "M-BXD", "cu.bgtvt", ("agency_admin",), "M-BKHDT")


def test_a_name_too_long_is_refused_before_anything_is_audited(h: Harness):
    new = _new()
    too_long = NewUser(new.username, "x" * 121, new.email, new.roles, new.agency)
    with pytest.raises(InvalidUser) as caught:
        h.service.create_user(HANOI_ADMIN, HANOI_ACTOR, "P01", too_long)
    assert caught.value.field == "name"
    assert h.chain() == []


@pytest.mark.parametrize(
    ("code", "error_type", "status"),
    [
        ("TooManyRequestsException", "DirectoryBusy", 503),
        ("LimitExceededException", "DirectoryBusy", 503),
        ("CodeDeliveryFailureException", "InvalidUser", 400),
        ("UserNotFoundException", "UserNotFound", 404),
    ],
)
def test_cognito_refusals_become_clear_errors(code: str, error_type: str, status: int):
    from botocore.exceptions import ClientError

    from chalicelib.store.identity import CognitoDirectory

    class Refusing:
        def admin_get_user(self, **_params: Any) -> Any:
            raise ClientError({"Error": {"Code": code, "Message": "refused"}}, "AdminGetUser")

    with pytest.raises(Exception) as caught:
        CognitoDirectory("ap-southeast-1_pool", client=Refusing()).get_user("a.cán.bộ")
    assert type(caught.value).__name__ == error_type
    assert caught.value.status == status  # type: ignore[attr-defined]
    assert caught.value.message_vi  # type: ignore[attr-defined]
