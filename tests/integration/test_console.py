"""The admin console: OIDC code flow against the local provider, HttpOnly session cookie, CSRF, scoped pages."""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from http.cookies import SimpleCookie


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def fetch(url: str, cookie: str = "", data: bytes | None = None) -> tuple[int, dict[str, list[str]], str]:
    headers = {"Cookie": cookie} if cookie else {}
    if data is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    try:
        response = OPENER.open(urllib.request.Request(url, data=data, headers=headers), timeout=30)
        status, head, body = response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        status, head, body = error.code, error.headers, error.read().decode()
    return status, {k.lower(): head.get_all(k) for k in head}, body


def sign_in(stack, username: str) -> str:
    """Walk the code flow as a browser would; returns the session cookie header."""
    status, headers, _ = fetch(f"{stack.api_url}/admin/login")
    assert status == 302
    authorize = headers["location"][0]
    state_cookie = SimpleCookie(headers["set-cookie"][0])
    assert "httponly" in headers["set-cookie"][0].lower()
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(authorize).query))
    user = stack.idp.users[username]
    form = urllib.parse.urlencode({**query, "username": username, "password": user.password}).encode()
    status, headers, _ = fetch(f"{stack.idp.issuer}/login", data=form)
    assert status == 302
    callback = headers["location"][0]
    cookie = "; ".join(f"{k}={v.value}" for k, v in state_cookie.items())
    status, headers, _ = fetch(callback, cookie=cookie)
    assert status == 302, headers
    session = next(c for c in headers["set-cookie"] if c.startswith("par_session="))
    assert "HttpOnly" in session
    assert "SameSite=Lax" in session
    return session.split(";")[0]


def test_console_requires_sign_in_and_shows_the_callers_scope(live_stack):
    # GIVEN no session WHEN the console is opened THEN the browser is sent to sign in
    status, headers, _ = fetch(f"{live_stack.api_url}/admin")
    assert (status, headers["location"][0]) == (302, "/admin/login")
    # WHEN the national administrator signs in THEN the dashboard shows every survey and the recent audit
    admin = sign_in(live_stack, "admin")
    status, _, page = fetch(f"{live_stack.api_url}/admin", cookie=admin)
    assert status == 200
    assert "Quản trị hệ thống" in page
    assert "toàn quốc" in page
    assert "Hoạt động gần đây" in page
    assert fetch(f"{live_stack.api_url}/admin/audit", cookie=admin)[0] == 200
    # AND a province's administrator sees their province only, and no audit log
    hanoi = sign_in(live_stack, "quantri.hanoi")
    status, _, page = fetch(f"{live_stack.api_url}/admin", cookie=hanoi)
    assert status == 200
    assert "phạm vi P01" in page
    assert "Hoạt động gần đây" not in page
    assert fetch(f"{live_stack.api_url}/admin/audit", cookie=hanoi)[0] == 403


def test_a_forged_state_or_session_or_csrf_is_refused(live_stack):
    status, _, _ = fetch(f"{live_stack.api_url}/admin/callback?code=x&state=y", cookie="par_oidc_state=z")
    assert status == 401
    assert fetch(f"{live_stack.api_url}/admin", cookie="par_session=not-a-token")[0] == 302
    admin = sign_in(live_stack, "admin")
    assert fetch(f"{live_stack.api_url}/admin/logout", cookie=admin, data=b"csrf=wrong")[0] == 403
    _, _, page = fetch(f"{live_stack.api_url}/admin", cookie=admin)
    token = page.split('name="csrf" value="')[1].split('"')[0]
    status, headers, _ = fetch(f"{live_stack.api_url}/admin/logout", cookie=admin, data=f"csrf={token}".encode())
    assert status == 303  # after a POST: the browser GETs the next page
    assert "Max-Age=0" in headers["set-cookie"][0]
    # AND the old session value, replayed from a copy of the cookie, opens nothing any more
    assert fetch(f"{live_stack.api_url}/admin", cookie=admin)[0] == 302
    assert fetch(f"{live_stack.api_url}/admin/audit", cookie=admin)[0] == 302
    # while another session of the same official goes on
    other = sign_in(live_stack, "admin")
    assert fetch(f"{live_stack.api_url}/admin", cookie=other)[0] == 200


def test_sign_in_failures_lock_the_account_without_revealing_which_accounts_exist(live_stack):
    idp = live_stack.idp
    _, headers, _ = fetch(f"{live_stack.api_url}/admin/login")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlparse(headers["location"][0]).query))

    def attempt(username: str, password: str) -> tuple[int, str]:
        form = urllib.parse.urlencode({**query, "username": username, "password": password}).encode()
        status, _, page = fetch(f"{idp.issuer}/login", data=form)
        return status, page

    unknown = attempt("nobody-at-all", "x")
    wrong = attempt("thamdinh", "wrong password")
    assert unknown[0] == wrong[0] == 401
    message = "Đăng nhập không thành công"
    assert message in unknown[1]
    assert message in wrong[1]
    for _ in range(4):
        attempt("thamdinh", "wrong again")
    # locked now: even the right password is refused, with the same message
    status, page = attempt("thamdinh", idp.users["thamdinh"].password)
    assert status == 401
    assert message in page
    assert idp.password_grant("thamdinh", idp.users["thamdinh"].password) is None


def test_make_run_registers_its_demo_portal_through_the_audited_service(live_stack):
    from chalicelib import wiring
    from infra.local.demo_site import LOCATIONS, register

    register("http://localhost:59999", agency="P46")
    register("http://localhost:59999", agency="P46")  # a restart: nothing new
    settings = wiring.agency_service().settings("P46")
    assert "http://localhost:59999" in settings.embed_origins
    assert [loc.code for loc in settings.locations] == [loc["code"] for loc in LOCATIONS]  # the demo's page and counter
    seeded = [e for e in wiring.audit_repository().entries() if e.target_id == "P46" and e.actor.sub == "local-seed"]
    assert len(seeded) == 1 and seeded[0].action == "agency.settings"  # origins and locations, one audited change


def test_an_ended_ministry_is_shown_but_offers_no_editing(live_stack):
    admin = sign_in(live_stack, "admin")
    status, _, page = fetch(f"{live_stack.api_url}/admin/agencies/M-BKHDT", cookie=admin)
    assert status == 200 and "Bộ Kế hoạch và Đầu tư" in page and "2025-02-28" in page
    assert 'name="origins"' not in page
    status, _, page = fetch(f"{live_stack.api_url}/admin/agencies/M-BTC", cookie=admin)
    assert status == 200 and 'name="origins"' in page
