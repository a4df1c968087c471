"""Generated: every protected route x every seeded role x in-scope / out-of-scope agency -> 200 / 403 / 401.

The expectation comes from the permission matrix (chalicelib/auth/permissions.py, docs/PERMISSIONS.md);
what is checked is that the running API, behind real token verification, enforces exactly that.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from typing import Any

import pytest

from chalicelib.auth.permissions import NATIONAL, Grant, allows

OUT_OF_SCOPE = "P79"  # Thành phố Hồ Chí Minh: no seeded agency account belongs to it


def _routes() -> list[tuple[str, str, str]]:
    from app import app
    from chalicelib.api.guard import PROTECTED

    out = []
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            name = entry.view_name
            if name in PROTECTED:
                out.append((path, method, name))
    return sorted(out)


def call(url: str, method: str, token: str | None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = b"{}" if method == "POST" else None
    if data is not None:
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _cases(stack: Any) -> list[tuple[str, str, str, str | None, int]]:
    from chalicelib.api.guard import PROTECTED

    idp = stack.idp
    cases = []
    for path, method, name in _routes():
        protection = PROTECTED[name]
        for user in idp.users.values():
            grants = (Grant(user.role, user.agency),)
            own = user.agency if user.agency != NATIONAL else "P01"
            agencies = [own, OUT_OF_SCOPE] if protection.agency_param else [None]
            for agency in agencies:
                url_path = path.replace("{survey_id}", "sipas-2026")
                if agency is not None:
                    url_path = url_path.replace("{" + protection.agency_param + "}", agency)
                if protection.any_scope:
                    allowed = allows(grants, protection.permission, user.agency)
                else:
                    allowed = allows(grants, protection.permission, agency)
                ok = 202 if method == "POST" else 200
                cases.append((method, url_path, user.username, agency, ok if allowed else 403))
        cases.append((method, re.sub(r"\{[^}]+\}", "P01", path.replace("{survey_id}", "sipas-2026")), "", None, 401))
    return cases


def test_every_protected_route_for_every_role_and_scope(live_stack):
    failures = []
    cases = _cases(live_stack)
    for method, path, username, agency, expected in cases:
        token = live_stack.idp.issue(username) if username else None
        got = call(f"{live_stack.api_url}{path}", method, token)
        if got != expected:
            failures.append((method, path, username or "(no token)", agency, expected, got))
    assert not failures, failures
    assert len(cases) > 40


def test_the_matrix_says_what_we_mean(live_stack):
    # A few rows spelled out, so the matrix itself is checked and not only its enforcement.
    idp = live_stack.idp
    api = live_stack.api_url
    assert call(f"{api}/admin/api/agencies/P01/dashboard", "GET", idp.issue("quantri.hanoi")) == 200
    assert call(f"{api}/admin/api/agencies/P79/dashboard", "GET", idp.issue("quantri.hanoi")) == 403
    assert call(f"{api}/admin/api/dashboard", "GET", idp.issue("quantri.hanoi")) == 403
    assert call(f"{api}/admin/api/dashboard", "GET", idp.issue("admin")) == 200
    assert call(f"{api}/surveys/sipas-2026/reports", "POST", idp.issue("phantich.hue")) == 403  # a province analyst
    assert call(f"{api}/surveys/sipas-2026/reports", "POST", idp.issue("khaosat")) == 202


@pytest.mark.parametrize(
    "forge",
    [
        {"lifetime": -120},  # expired beyond the leeway
        {"iss": "http://127.0.0.1:1"},  # another issuer
        {"aud": "someone-else"},  # another client
    ],
)
def test_tokens_that_must_not_pass(live_stack, forge):
    idp = live_stack.idp
    lifetime = forge.pop("lifetime", 3600)
    token = idp.issue("admin", lifetime=lifetime, **forge)
    assert call(f"{live_stack.api_url}/admin/api/me", "GET", token) == 401


def test_a_token_signed_by_another_key_or_unsigned_is_refused(live_stack, tmp_path):
    import base64
    import json

    from infra.local.idp import LocalIdentityProvider

    stranger = LocalIdentityProvider(tmp_path)
    stranger.dir.mkdir(parents=True)
    stranger._load_or_create_key()
    stranger._load_or_create_users()
    stranger.issuer = live_stack.idp.issuer
    stranger.kid = live_stack.idp.kid  # same key id, other key: the signature must fail
    forged = stranger.issue("admin")
    assert call(f"{live_stack.api_url}/admin/api/me", "GET", forged) == 401
    header = base64.urlsafe_b64encode(json.dumps({"alg": "none", "typ": "JWT"}).encode()).rstrip(b"=").decode()
    body = live_stack.idp.issue("admin").split(".")[1]
    assert call(f"{live_stack.api_url}/admin/api/me", "GET", f"{header}.{body}.") == 401


def test_who_am_i_and_a_requested_report(live_stack):
    import json

    token = live_stack.idp.issue("khaosat")
    request = urllib.request.Request(f"{live_stack.api_url}/admin/api/me", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        me = json.loads(response.read())
    assert me["grants"] == [{"role": "survey_manager", "scope": "national"}]
    assert "report.request" in me["permissions"]
    # the request goes through EventBridge to the reports worker
    before = {
        o["Key"]
        for o in live_stack.client("s3")
        .list_objects_v2(Bucket=live_stack.physical_id("ReportsBucket"))
        .get("Contents", [])
    }
    assert call(f"{live_stack.api_url}/surveys/sipas-2026/reports", "POST", token) == 202
    live_stack.drain()
    after = {
        o["Key"]
        for o in live_stack.client("s3")
        .list_objects_v2(Bucket=live_stack.physical_id("ReportsBucket"))
        .get("Contents", [])
    }
    assert any(k.endswith("/manifest.json") for k in after - before)
