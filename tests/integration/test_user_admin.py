"""Officials' accounts through the API and the console, against the local directory and the real token checks."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

from chalicelib.api.session import SESSION_COOKIE, csrf_token
from tests.integration.test_console import fetch


def api(stack: Any, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"{stack.api_url}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def _create(stack: Any, admin: str, agency: str, username: str, roles: list[str]) -> dict[str, Any]:
    status, created = api(
        stack,
        "POST",
        f"/admin/api/agencies/{agency}/users",
        stack.idp.issue(admin),
        {"username": username, "name": "Cán bộ thử", "email": f"{username}@test.gov.vn", "roles": roles},
    )
    assert status == 201, created
    return created


def test_a_disabled_account_loses_access_at_once_not_when_its_token_expires(live_stack):
    _create(live_stack, "quantri.hanoi", "P01", "thu.hoi", ["agency_editor"])
    time.sleep(1.1)  # a token issued in a later second than the account's creation
    old = live_stack.idp.issue("thu.hoi")
    cookie = f"{SESSION_COOKIE}={old}"
    assert api(live_stack, "GET", "/admin/api/me", old)[0] == 200
    assert fetch(f"{live_stack.api_url}/admin", cookie=cookie)[0] == 200

    status, user = api(
        live_stack,
        "PUT",
        "/admin/api/agencies/P01/users/thu.hoi/enabled",
        live_stack.idp.issue("quantri.hanoi"),
        {"enabled": False},
    )
    assert status == 200 and user["enabled"] is False
    status, error = api(live_stack, "GET", "/admin/api/me", old)
    assert status == 401 and "đăng nhập lại" in error["error"]["message"]
    assert fetch(f"{live_stack.api_url}/admin", cookie=cookie)[0] == 302  # back to sign-in

    # Re-enabled, a token issued after the change works again.
    api(
        live_stack,
        "PUT",
        "/admin/api/agencies/P01/users/thu.hoi/enabled",
        live_stack.idp.issue("quantri.hanoi"),
        {"enabled": True},
    )
    time.sleep(1.1)
    assert api(live_stack, "GET", "/admin/api/me", live_stack.idp.issue("thu.hoi"))[0] == 200


def test_a_role_change_also_ends_the_tokens_issued_before_it(live_stack):
    _create(live_stack, "admin", "P01", "doi.vai", ["agency_admin"])
    time.sleep(1.1)
    old = live_stack.idp.issue("doi.vai")
    assert api(live_stack, "GET", "/admin/api/agencies/P01/users", old)[0] == 200
    status, _ = api(
        live_stack,
        "PUT",
        "/admin/api/agencies/P01/users/doi.vai/access",
        live_stack.idp.issue("admin"),
        {"roles": ["answerer"], "agency": "P01"},
    )
    assert status == 200
    assert api(live_stack, "GET", "/admin/api/agencies/P01/users", old)[0] == 401
    time.sleep(1.1)
    assert api(live_stack, "GET", "/admin/api/agencies/P01/users", live_stack.idp.issue("doi.vai"))[0] == 403


def test_accounts_of_an_ended_ministry_can_be_disabled_and_moved_to_its_successor(live_stack):
    admin = live_stack.idp.issue("admin")
    status, error = api(
        live_stack,
        "POST",
        "/admin/api/agencies/M-BGTVT/users",
        admin,
        {"username": "moi.bgtvt", "name": "x", "email": "moi@bgtvt.gov.vn", "roles": ["analyst"]},
    )
    assert status == 400 and error["error"]["field"] == "agency"
    _create(live_stack, "admin", "M-BXD", "cu.gtvt", ["agency_editor"])
    # the successor takes accounts; an ended ministry takes none
    status, error = api(
        live_stack,
        "PUT",
        "/admin/api/agencies/M-BXD/users/cu.gtvt/access",
        admin,
        {"roles": ["agency_editor"], "agency": "M-BGTVT"},
    )
    assert status == 400
    assert api(live_stack, "GET", "/admin/api/agencies/M-BGTVT/users", admin)[0] == 200


def test_console_forms_never_answer_500(live_stack):
    token = live_stack.idp.issue("quantri.hanoi")
    cookie = f"{SESSION_COOKIE}={token}"
    good = csrf_token(token)
    url = f"{live_stack.api_url}/admin/agencies/P01/origins"
    assert fetch(url, cookie=cookie, data=b"csrf=%C3%A9&origins=&version=0")[0] == 403
    assert fetch(url, cookie=cookie, data=f"csrf={good}&origins=&version=%C2%B2".encode())[0] == 400
    assert fetch(url, cookie=cookie, data=f"csrf={good}&origins=".encode() + b"x" * 70000)[0] == 413
    users = f"{live_stack.api_url}/admin/agencies/P01/users"
    status, _, page = fetch(
        users,
        cookie=cookie,
        data=f"csrf={good}&username=dai.ten&email=a@b.vn&roles=analyst&name=".encode() + b"x" * 500,
    )
    assert status == 400 and "Họ và tên" in page


def test_an_account_without_roles_can_still_sign_out(live_stack):
    token = live_stack.idp.issue("admin", **{"cognito:groups": []})
    cookie = f"{SESSION_COOKIE}={token}"
    assert fetch(f"{live_stack.api_url}/admin", cookie=cookie)[0] == 403
    data = f"csrf={csrf_token(token)}".encode()
    status, headers, _ = fetch(f"{live_stack.api_url}/admin/logout", cookie=cookie, data=data)
    assert status == 303 and "Max-Age=0" in headers["set-cookie"][0]
