"""The identity-directory port (chalicelib/domain/users.py) and its two adapters (chalicelib/store/identity.py).

One contract, run against both: Cognito (on the session stack's moto server, a user pool of its own)
and the local identity provider's admin API (the session stack's provider; every account made here
has a fresh name, so the seeded accounts other tests sign in with never change). Then what is only
true of one of them: Cognito's non-role groups and its all-or-nothing creation; the local provider's
sign-in of disabled accounts, its admin key and its users.json.
"""

from __future__ import annotations

import json
import os
import stat
import urllib.error
import urllib.parse
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib.auth.permissions import ROLE_IDS
from chalicelib.domain.users import Created, DirectoryUser, InvalidUser, NewUser, UserExists, UserNotFound
from chalicelib.store.identity import CognitoDirectory, LocalDirectory

UNRELATED_GROUP = "ban-bien-tap-ban-tin"  # a group of the pool that is not a role: never read nor touched


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the sign-in page's 302 is what is checked, not where it leads


OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect)


def unique(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def new_user(roles: tuple[str, ...] = ("analyst",), agency: str = "P01", username: str | None = None) -> NewUser:
    username = username or unique()
    return NewUser(username, "Nguyễn Văn Thử", f"{username}@example.gov.vn", roles, agency)


# ------------------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def user_pool(live_stack) -> Any:
    """A fresh pool shaped like the template's: the ten role groups, one unrelated group, custom:agency."""
    cognito = live_stack.client("cognito-idp")
    pool_id = cognito.create_user_pool(
        PoolName=unique("par-test-officials-"),
        AliasAttributes=["email"],
        UsernameConfiguration={"CaseSensitive": False},
        AutoVerifiedAttributes=["email"],
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": True},
        Schema=[
            {
                "Name": "agency",
                "AttributeDataType": "String",
                "Mutable": True,
                "StringAttributeConstraints": {"MinLength": "2", "MaxLength": "16"},
            }
        ],
    )["UserPool"]["Id"]
    for group in [*sorted(ROLE_IDS), UNRELATED_GROUP]:
        cognito.create_group(UserPoolId=pool_id, GroupName=group)
    yield pool_id
    cognito.delete_user_pool(UserPoolId=pool_id)


@pytest.fixture(params=["cognito", "local"])
def directory(request, live_stack) -> Any:
    if request.param == "cognito":
        # Through chalicelib.store.aws, as the app does (AWS_ENDPOINT_URL is the stack's moto); pages of
        # two, so that every listing is paged.
        return CognitoDirectory(request.getfixturevalue("user_pool"), page_size=2)
    idp = live_stack.idp
    return LocalDirectory(idp.issuer, idp.admin_key)


def cognito_groups(live_stack, pool_id: str, username: str) -> set[str]:
    groups = live_stack.client("cognito-idp").admin_list_groups_for_user(UserPoolId=pool_id, Username=username)
    return {g["GroupName"] for g in groups["Groups"]}


# ------------------------------------------------------------------------------------------ the contract


def test_create_then_get_then_list(directory):
    # GIVEN three new accounts, one with two roles, one national
    made = {}
    for roles, agency in ((("analyst",), "P01"), (("data_entry", "answerer"), "P46"), (("reviewer",), "national")):
        new = new_user(roles, agency)
        created = directory.create_user(new)
        assert isinstance(created, Created)
        made[new.username] = new
        # THEN the answer is the account as stored: roles sorted, enabled, created just now
        user = created.user
        assert (user.username, user.name, user.email) == (new.username, new.name, new.email)
        assert user.roles == tuple(sorted(roles))
        assert user.agency == agency
        assert user.enabled is True
        assert user.status
        assert user.created_at is not None and user.created_at.endswith("Z")
        at = datetime.fromisoformat(user.created_at.replace("Z", "+00:00"))
        assert abs(datetime.now(timezone.utc) - at) < timedelta(minutes=5)
        # AND Cognito e-mails the first password; the local provider hands it back to show once
        if isinstance(directory, CognitoDirectory):
            assert created.temporary_password is None
            assert user.status == "FORCE_CHANGE_PASSWORD"
        else:
            assert isinstance(created.temporary_password, str) and len(created.temporary_password) >= 12
        # AND reading it back gives the same account
        assert directory.get_user(new.username) == user
    # WHEN every account is listed THEN it is sorted by username and shows each one's roles and scope
    listed = directory.list_users()
    names = [u.username for u in listed]
    assert names == sorted(names)
    assert len(names) == len(set(names))
    by_name = {u.username: u for u in listed}
    for username, new in made.items():
        assert isinstance(by_name[username], DirectoryUser)
        assert by_name[username] == directory.get_user(username)
        assert by_name[username].roles == tuple(sorted(new.roles))
        assert by_name[username].agency == new.agency


def test_a_taken_username_is_refused(directory):
    first = new_user(("analyst",))
    directory.create_user(first)
    with pytest.raises(UserExists):
        directory.create_user(new_user(("answerer",), "P46", username=first.username))
    # AND the first account is as it was
    assert directory.get_user(first.username).roles == ("analyst",)
    assert directory.get_user(first.username).agency == "P01"


def test_an_unknown_username_is_not_found(directory):
    ghost = unique("ghost")
    with pytest.raises(UserNotFound):
        directory.get_user(ghost)
    with pytest.raises(UserNotFound):
        directory.set_access(ghost, ("analyst",), "P01")
    with pytest.raises(UserNotFound):
        directory.set_enabled(ghost, False)
    assert ghost not in {u.username for u in directory.list_users()}


def test_set_access_replaces_the_roles_and_the_scope(directory, live_stack, request):
    new = new_user(("agency_admin", "agency_editor"), "P01")
    directory.create_user(new)
    cognito_pool = request.getfixturevalue("user_pool") if isinstance(directory, CognitoDirectory) else None
    if cognito_pool:  # a membership that is not a role, given outside the app
        live_stack.client("cognito-idp").admin_add_user_to_group(
            UserPoolId=cognito_pool, Username=new.username, GroupName=UNRELATED_GROUP
        )
        assert directory.get_user(new.username).roles == ("agency_admin", "agency_editor")  # not a role: not shown
    # WHEN one role is kept, one dropped, one added and the scope changes
    after = directory.set_access(new.username, ("analyst", "agency_editor"), "M-BNV")
    # THEN the account holds exactly the new roles in the new scope
    assert after.roles == ("agency_editor", "analyst")
    assert after.agency == "M-BNV"
    assert directory.get_user(new.username) == after
    assert next(u for u in directory.list_users() if u.username == new.username) == after
    # AND the rest of the account is untouched
    assert (after.name, after.email, after.enabled) == (new.name, new.email, True)
    if cognito_pool:  # AND the group that is not a role is still there
        assert cognito_groups(live_stack, cognito_pool, new.username) == {"agency_editor", "analyst", UNRELATED_GROUP}
    # WHEN set to national with one role THEN so it is
    again = directory.set_access(new.username, ("survey_manager",), "national")
    assert (again.roles, again.agency) == (("survey_manager",), "national")


def test_set_enabled_toggles(directory):
    new = new_user(("enumerator",), "P01")
    directory.create_user(new)
    off = directory.set_enabled(new.username, False)
    assert off.enabled is False
    assert directory.get_user(new.username).enabled is False
    assert next(u for u in directory.list_users() if u.username == new.username).enabled is False
    # AND the access is kept, to come back with the account
    assert (off.roles, off.agency) == (("enumerator",), "P01")
    on = directory.set_enabled(new.username, True)
    assert on.enabled is True
    assert directory.get_user(new.username).enabled is True


@pytest.mark.parametrize(
    ("roles", "agency", "field"),
    [
        (("analyst", "not_a_role"), "P01", "roles"),
        ((), "P01", "roles"),
        (("analyst",), "", "agency"),
    ],
)
def test_unknown_roles_or_no_scope_are_refused(directory, roles, agency, field):
    new = new_user(roles, agency)
    with pytest.raises(InvalidUser) as refused:
        directory.create_user(new)
    assert refused.value.field == field
    with pytest.raises(UserNotFound):
        directory.get_user(new.username)  # nothing was made
    # AND an existing account is not changed by such a request
    kept = new_user(("analyst",), "P01")
    directory.create_user(kept)
    with pytest.raises(InvalidUser):
        directory.set_access(kept.username, roles, agency)
    assert directory.get_user(kept.username).roles == ("analyst",)


def test_a_malformed_username_or_email_is_refused(directory):
    for bad, field in (
        (NewUser("Has Spaces", "Tên", "a@example.vn", ("analyst",), "P01"), "username"),
        (NewUser(unique(), "Tên", "not-an-email", ("analyst",), "P01"), "email"),
    ):
        with pytest.raises(InvalidUser) as refused:
            directory.create_user(bad)
        assert refused.value.field == field


# ------------------------------------------------------------------------------------------ Cognito only


class _Recording:
    """A client that records the operations called, and can fail one of them."""

    def __init__(self, real: Any, fail_on: str | None = None, fail_after: int = 0) -> None:
        self.real, self.fail_on, self.fail_after = real, fail_on, fail_after
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        def call(**params: Any) -> Any:
            self.calls.append((name, params))
            if name == self.fail_on:
                if self.fail_after == 0:
                    raise ConnectionError(f"{name} failed")
                self.fail_after -= 1
            return getattr(self.real, name)(**params)

        return call


def test_cognito_lists_roles_with_one_paged_listing_per_role(live_stack, user_pool):
    directory = CognitoDirectory(user_pool, page_size=2)
    for _ in range(3):
        directory.create_user(new_user(("analyst", "reviewer"), "national"))
    recording = _Recording(live_stack.client("cognito-idp"))
    listed = CognitoDirectory(user_pool, client=recording, page_size=2).list_users()
    assert len(listed) >= 3
    operations = [name for name, _ in recording.calls]
    assert set(operations) == {"list_users", "list_users_in_group"}
    # every page of users is read, and each role's group page by page: never one call per user
    assert operations.count("list_users") >= len(listed) // 2
    groups_listed = {params["GroupName"] for name, params in recording.calls if name == "list_users_in_group"}
    assert groups_listed == ROLE_IDS
    tokens = [params.get("NextToken") for name, params in recording.calls if name == "list_users_in_group"]
    assert any(tokens)  # analyst and reviewer have three members or more: a second page was asked for
    assert not [name for name, _ in recording.calls if name.startswith("admin_")]


def test_cognito_deletes_an_account_whose_groups_could_not_be_given(live_stack, user_pool):
    # GIVEN adding the second of three groups fails
    recording = _Recording(live_stack.client("cognito-idp"), fail_on="admin_add_user_to_group", fail_after=1)
    directory = CognitoDirectory(user_pool, client=recording)
    new = new_user(("analyst", "answerer", "data_entry"), "P01")
    # WHEN the account is created THEN the failure is raised
    with pytest.raises(ConnectionError):
        directory.create_user(new)
    # AND no half-made account is left behind: the username can be used again
    assert ("admin_delete_user", {"UserPoolId": user_pool, "Username": new.username}) in recording.calls
    with pytest.raises(UserNotFound):
        CognitoDirectory(user_pool).get_user(new.username)
    created = CognitoDirectory(user_pool).create_user(new)
    assert created.user.roles == ("analyst", "answerer", "data_entry")


def test_cognito_writes_the_attributes_the_tokens_carry(live_stack, user_pool):
    new = new_user(("appraiser",), "national")
    CognitoDirectory(user_pool).create_user(new)
    raw = live_stack.client("cognito-idp").admin_get_user(UserPoolId=user_pool, Username=new.username)
    attributes = {a["Name"]: a["Value"] for a in raw["UserAttributes"]}
    assert attributes["custom:agency"] == "national"
    assert attributes["email"] == new.email
    assert attributes["email_verified"] == "true"
    assert attributes["name"] == new.name
    assert cognito_groups(live_stack, user_pool, new.username) == {"appraiser"}


def test_cognito_never_makes_a_group_of_a_name_that_is_no_role(live_stack, user_pool):
    recording = _Recording(live_stack.client("cognito-idp"))
    directory = CognitoDirectory(user_pool, client=recording)
    with pytest.raises(InvalidUser):
        directory.create_user(new_user((UNRELATED_GROUP,), "P01"))
    assert recording.calls == []  # refused before AWS is asked anything


# ------------------------------------------------------------------------------------------ local only


def _post_form(url: str, fields: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(
        url,
        data=urllib.parse.urlencode(fields).encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    try:
        with OPENER.open(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _admin(idp: Any, method: str, path: str, body: Any = None, key: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = key
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(f"{idp.issuer}{path}", data=data, method=method, headers=headers)
    try:
        with OPENER.open(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def test_a_disabled_local_account_cannot_sign_in_and_says_no_more_than_a_wrong_password(live_stack):
    from infra.local.idp import CLIENT_ID, SIGN_IN_FAILED

    idp = live_stack.idp
    directory = LocalDirectory(idp.issuer, idp.admin_key)
    new = new_user(("answerer", "agency_editor"), "P01")
    password = directory.create_user(new).temporary_password
    assert password
    token_url, login_url = f"{idp.issuer}/oauth2/token", f"{idp.issuer}/login"
    from chalicelib.api.session import pkce_challenge

    idp.register_redirect_uri("http://127.0.0.1/cb")  # the provider redirects only to registered URIs
    verifier = "v" * 64
    pkce = {"client_id": CLIENT_ID, "code_challenge": pkce_challenge(verifier), "code_challenge_method": "S256"}

    def grant(username: str, secret: str) -> tuple[int, bytes]:
        return _post_form(
            token_url, {"grant_type": "password", "client_id": CLIENT_ID, "username": username, "password": secret}
        )

    def login(username: str, secret: str) -> tuple[int, bytes]:
        return _post_form(
            login_url,
            {"username": username, "password": secret, "redirect_uri": "http://127.0.0.1/cb", "state": "s", **pkce},
        )

    # GIVEN an enabled account THEN its first password signs in, with all its roles and its e-mail
    status, body = grant(new.username, password)
    assert status == 200
    claims = _claims(json.loads(body)["id_token"])
    assert claims["cognito:groups"] == ["agency_editor", "answerer"]
    assert (claims["email"], claims["custom:agency"]) == (new.email, "P01")
    # a code handed out before the account is disabled
    status, _ = _post_form(
        login_url, {"username": new.username, "password": password, "redirect_uri": "http://127.0.0.1/cb", **pkce}
    )
    assert status == 302
    code = next(c for c, entry in idp._codes.items() if entry[0] == new.username)

    # WHEN it is disabled THEN the right password fails exactly as a wrong one (and as an unknown account)
    directory.set_enabled(new.username, False)
    refused = grant(new.username, password)
    assert refused[0] == 400
    assert refused == grant(new.username, "wrong-password") == grant(unique("nobody"), "wrong-password")
    page = login(new.username, password)
    assert page[0] == 401
    assert SIGN_IN_FAILED in page[1].decode()
    assert page == login(new.username, "wrong-password")
    # AND the code it got before cannot be exchanged either
    status, body = _post_form(
        token_url,
        {
            "grant_type": "authorization_code",
            "client_id": CLIENT_ID,
            "code": code,
            "code_verifier": verifier,
            "redirect_uri": "http://127.0.0.1/cb",
        },
    )
    assert (status, json.loads(body)) == (400, {"error": "invalid_grant"})

    # WHEN it is enabled again THEN it signs in
    directory.set_enabled(new.username, True)
    assert grant(new.username, password)[0] == 200


def _claims(token: str) -> dict[str, Any]:
    import jwt

    return jwt.decode(token, options={"verify_signature": False})


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/admin/users", None),
        ("GET", "/admin/users/admin", None),
        (
            "POST",
            "/admin/users",
            {
                "username": "intruder",
                "name": "X",
                "email": "x@example.vn",
                "roles": ["system_admin"],
                "agency": "national",
            },
        ),
        ("PUT", "/admin/users/quantri.hanoi/access", {"roles": ["system_admin"], "agency": "national"}),
        ("PUT", "/admin/users/admin/enabled", {"enabled": False}),
    ],
)
def test_the_local_admin_api_needs_its_key(live_stack, method, path, body):
    idp = live_stack.idp
    before = {u: (list(v.roles), v.agency, v.enabled) for u, v in idp.users.items()}
    for key in (
        None,
        "Bearer ",
        "Bearer wrong-key",
        f"Basic {idp.admin_key}",
        idp.admin_key,
        f"Bearer {idp.admin_key}x",
    ):
        status, answer = _admin(idp, method, path, body, key)
        assert status == 401, (key, answer)
        assert "users" not in (answer or {})
    assert {u: (list(v.roles), v.agency, v.enabled) for u, v in idp.users.items()} == before
    # AND with the key the same request is answered
    if method == "GET":
        assert _admin(idp, method, path, body, f"Bearer {idp.admin_key}")[0] == 200


def test_the_local_admin_api_explains_a_bad_request(live_stack):
    idp = live_stack.idp
    key = f"Bearer {idp.admin_key}"
    status, answer = _admin(idp, "POST", "/admin/users", {"username": unique(), "roles": ["analyst"]}, key)
    assert status == 400
    assert answer["error"]["code"] == "invalid_user"
    assert "name" in answer["error"]["message_en"] and "email" in answer["error"]["message_en"]
    assert "agency" in answer["error"]["message_en"]
    status, answer = _admin(
        idp,
        "POST",
        "/admin/users",
        {"username": unique(), "name": "A", "email": f"{unique()}@example.vn", "roles": ["superuser"], "agency": "P01"},
        key,
    )
    assert (status, answer["error"]["field"]) == (400, "roles")
    assert "superuser" in answer["error"]["message_en"]
    # AND the adapter carries the provider's message
    with pytest.raises(InvalidUser) as refused:
        LocalDirectory(idp.issuer, idp.admin_key).create_user(new_user(("superuser",)))
    assert "superuser" in refused.value.message_en and "superuser" in refused.value.message_vi
    # AND an e-mail address belongs to one account, as in the user pool (sign-in by e-mail)
    first = new_user()
    LocalDirectory(idp.issuer, idp.admin_key).create_user(first)
    with pytest.raises(InvalidUser) as refused:
        LocalDirectory(idp.issuer, idp.admin_key).create_user(
            NewUser(unique(), "B", first.email.upper(), ("analyst",), "P01")
        )
    assert refused.value.field == "email"
    assert _admin(idp, "GET", "/admin/users/nobody-here", None, key) == (
        404,
        {
            "error": {
                "code": "user_not_found",
                "message": "Không tìm thấy tài khoản này.",
                "message_en": "No such account.",
            }
        },
    )
    assert _admin(idp, "PUT", "/admin/users/admin/enabled", {"enabled": "no"}, key)[0] == 400
    assert _admin(idp, "GET", "/admin/other", None, key)[0] == 404


def test_the_stack_uses_the_local_provider_as_its_directory(live_stack):
    from chalicelib.settings import settings

    idp = live_stack.idp
    env = idp.environment()
    assert env["PAR_IDENTITY_DIRECTORY"] == "local"
    assert env["PAR_LOCAL_IDP_URL"] == idp.issuer
    assert env["PAR_LOCAL_IDP_ADMIN_KEY"] == idp.admin_key
    # the template's Globals say cognito; the provider's values are applied after them and win
    assert os.environ["PAR_IDENTITY_DIRECTORY"] == "local"
    s = settings()
    assert (s.identity_directory, s.local_idp_url, s.local_idp_admin_key) == ("local", idp.issuer, idp.admin_key)


def test_an_older_users_file_loads_and_the_admin_key_outlives_a_restart(tmp_path):
    from infra.local.idp import LocalIdentityProvider

    # GIVEN users.json as the previous version wrote it: one "role", no e-mail, no state
    (tmp_path / "idp").mkdir()
    old = [
        {
            "username": "cu.admin",
            "name": "Quản trị cũ",
            "role": "system_admin",
            "agency": "national",
            "password": "p-1",
            "sub": "s-1",
        },
        {
            "username": "cu.hanoi",
            "name": "Biên tập cũ",
            "role": "agency_editor",
            "agency": "P01",
            "password": "p-2",
            "sub": "s-2",
        },
    ]
    (tmp_path / "idp" / "users.json").write_text(json.dumps(old, ensure_ascii=False), encoding="utf-8")
    idp = LocalIdentityProvider(tmp_path)
    idp.start()
    try:
        # THEN every account loads with its one role, enabled, with the e-mail the tokens used to carry
        user = idp.users["cu.hanoi"]
        assert (user.roles, user.agency, user.enabled, user.email) == (
            ["agency_editor"],
            "P01",
            True,
            "cu.hanoi@local.test",
        )
        assert user.claims()["cognito:groups"] == ["agency_editor"]
        assert user.claims()["email"] == "cu.hanoi@local.test"
        assert idp.password_grant("cu.admin", "p-1") is not None
        assert _claims(idp.token_for_role("system_admin"))["cognito:username"] == "cu.admin"
        listed = LocalDirectory(idp.issuer, idp.admin_key).list_users()
        assert [u.username for u in listed] == ["cu.admin", "cu.hanoi"]
        assert listed[0].created_at is None  # not known for accounts of the older file
        # AND the admin key was made, for this user's eyes only
        key_file = tmp_path / "idp" / "admin-key"
        assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
        assert key_file.read_text(encoding="utf-8").strip() == idp.admin_key
        key = idp.admin_key
        # WHEN an account changes THEN users.json is rewritten whole, in the new shape, still private
        LocalDirectory(idp.issuer, key).set_access("cu.hanoi", ("agency_admin", "agency_editor"), "P01")
        LocalDirectory(idp.issuer, key).set_enabled("cu.admin", False)
        created = LocalDirectory(idp.issuer, key).create_user(new_user(("analyst",), "P46", username="moi.hue"))
    finally:
        idp.stop()
    users_file = tmp_path / "idp" / "users.json"
    assert stat.S_IMODE(users_file.stat().st_mode) == 0o600
    saved = {u["username"]: u for u in json.loads(users_file.read_text(encoding="utf-8"))}
    assert "role" not in saved["cu.hanoi"]
    assert saved["cu.hanoi"]["roles"] == ["agency_admin", "agency_editor"]
    assert saved["cu.admin"]["enabled"] is False
    assert not list((tmp_path / "idp").glob("*.tmp"))
    # WHEN it starts again THEN the key, the changes and the new account are all there
    again = LocalIdentityProvider(tmp_path)
    again.start()
    try:
        assert again.admin_key == key
        assert again.users["cu.admin"].enabled is False
        assert again.password_grant("cu.admin", "p-1") is None
        assert again.password_grant("moi.hue", created.temporary_password or "") is not None
        assert LocalDirectory(again.issuer, key).get_user("moi.hue").roles == ("analyst",)
    finally:
        again.stop()


def test_seeded_accounts_keep_one_role_and_get_an_email(tmp_path):
    from infra.local.idp import SEED_USERS, LocalIdentityProvider

    idp = LocalIdentityProvider(tmp_path)
    idp.start()
    try:
        for username, name, role, agency in SEED_USERS:
            user = idp.users[username]
            assert (user.name, user.roles, user.agency, user.enabled) == (name, [role], agency, True)
            assert user.email == f"{username}@local.test"
            assert user.created_at
            assert _claims(idp.token_for_role(role))["cognito:groups"] == [role]
    finally:
        idp.stop()


def test_cognito_lists_users_of_a_pool_that_lacks_a_role_group(live_stack, caplog):
    cognito = live_stack.client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName=unique("par-test-partial-"))["UserPool"]["Id"]
    try:
        for group in sorted(ROLE_IDS - {"appraiser"}):
            cognito.create_group(UserPoolId=pool_id, GroupName=group)
        directory = CognitoDirectory(pool_id)
        directory.create_user(new_user(("analyst",), "P01", username="co.vai.tro"))
        # WHEN a role's group is missing THEN nobody holds that role, and the rest is listed as usual
        assert [(u.username, u.roles) for u in directory.list_users()] == [("co.vai.tro", ("analyst",))]
        assert "has no group appraiser" in caplog.text
    finally:
        cognito.delete_user_pool(UserPoolId=pool_id)
