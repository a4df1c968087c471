"""Generated: every protected route x every seeded role x in-scope / out-of-scope agency -> 200 / 403 / 401.

The expectation comes from the permission matrix (chalicelib/auth/permissions.py, docs/PERMISSIONS.md);
what is checked is that the running API, behind real token verification, enforces exactly that.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

import pytest

from chalicelib.auth.permissions import NATIONAL, Grant, allows

OUT_OF_SCOPE = "P79"  # Thành phố Hồ Chí Minh: no seeded agency account belongs to it
# Routes that name an account walk two agencies that each have one: a seeded account of each.
ACCOUNT_OF = {"P01": ("nhaplieu.hanoi", "data_entry"), "P46": ("phantich.hue", "analyst")}


def _same_settings(agency: str) -> dict[str, Any]:
    """The agency's current origins and version: saving them again is a no-op whatever ran before."""
    from chalicelib import wiring

    current = wiring.agency_service().settings(agency)
    return {"embed_origins": list(current.embed_origins), "version": current.version}


def _same_location_lines(agency: str) -> str:
    """The agency's current locations as the console's textarea holds them: saving them again is a no-op."""
    from chalicelib import wiring
    from chalicelib.domain.agencies import location_lines

    return location_lines(wiring.agency_service().settings(agency).locations)


# How each route is called in the walk, and what "allowed" answers. Writes are sent as no-ops (the
# same roles again, an empty list over an empty one) or refused by validation after the permission
# check (an invalid e-mail), so the walk changes nothing that other tests rely on.
WRITE_EXAMPLES: dict[str, tuple[Any, int]] = {
    "request_report": (lambda agency: {}, 202),
    "put_agency_settings": (_same_settings, 200),
    "create_agency_user": (
        lambda agency: {"username": "walk.test", "name": "x", "email": "not-an-email", "roles": ["analyst"]},
        400,
    ),
    "set_user_access": (lambda agency: {"roles": [ACCOUNT_OF[agency][1]], "agency": agency}, 200),
    "set_user_enabled": (lambda agency: {"enabled": True}, 200),
    # survey authoring: bodies refused by validation, after the permission (sipas-2026 must stay as it is)
    "create_survey_draft": (lambda agency: {}, 400),
    "new_survey_version": (lambda agency: {}, 400),
    "replace_survey_draft": (lambda agency: {}, 400),
    "publish_survey_version": (lambda agency: {}, 400),
    "schedule_survey_version": (lambda agency: {}, 400),
    "close_survey_version": (lambda agency: {}, 400),
    # sampling: a JSON body is not a frame file (415); a design without a size is refused (422)
    "upload_sampling_frame": (lambda agency: {}, 415),
    "draw_sample": (lambda agency: {}, 422),
    # fieldwork: an assignment without villages is refused by validation (422); a device link is created
    "assign_enumerator": (lambda agency: {}, 422),
    "link_field_device": (lambda agency: {}, 201),
    # paper entry: bodies refused after the permission; the walk's form (WALK/1) has one entry, nothing to resolve
    "open_paper_batch": (lambda agency: {}, 400),
    "enter_paper_form": (lambda agency: {}, 400),
    "resolve_paper_form": (lambda agency: {}, 400),
    "import_paper_forms": (lambda agency: {}, 415),
    # re-checks and coding: empty bodies are refused by the contract (400), after the permission
    "set_recheck_form": (lambda agency: {}, 400),
    "draw_rechecks": (lambda agency: {}, 400),
    "record_recheck": (lambda agency: {}, 400),
    "save_code_frame": (lambda agency: {}, 400),
    "apply_coding": (lambda agency: {}, 400),
    "recode_answer": (lambda agency: {}, 400),
}
CONSOLE_FORMS: dict[str, tuple[Any, int]] = {
    "admin_agency_origins": (
        lambda agency: {
            "origins": "\n".join(_same_settings(agency)["embed_origins"]),
            "version": str(_same_settings(agency)["version"]),
        },
        303,
    ),
    "admin_agency_locations": (
        lambda agency: {
            "locations": _same_location_lines(agency),
            "version": str(_same_settings(agency)["version"]),
        },
        303,
    ),
    "admin_users_create": (
        lambda agency: {"username": "walk.test", "name": "x", "email": "bad", "roles": "analyst"},
        400,
    ),
    "admin_user_change": (
        lambda agency: {"action": "access", "roles": ACCOUNT_OF[agency][1], "agency": agency},
        303,
    ),
    "admin_logout": (lambda agency: {}, 303),
    "admin_surveys_create": (lambda agency: {}, 400),  # neither a file nor a definition
    "admin_survey_change": (lambda agency: {"action": "nothing"}, 400),
    "admin_sampling_change": (lambda agency: {"action": "nothing"}, 400),
    "admin_fieldwork_assign": (lambda agency: {}, 400),  # no enumerator named
    "admin_paper_open": (lambda agency: {}, 400),  # no batch number
    "admin_paper_enter": (lambda agency: {}, 400),  # no form number
    "admin_paper_import": (lambda agency: {}, 400),  # no file
    "admin_paper_resolve": (lambda agency: {}, 409),  # WALK/1 is not waiting for a resolution
    "admin_field_risk_change": (lambda agency: {"action": "nothing"}, 400),  # no survey named
    "admin_coding_change": (lambda agency: {"action": "nothing"}, 400),
}


def _registry(kind: str) -> dict[str, Any]:
    """The declared routes that need a caller: bearer-token API routes, or console pages (chalicelib/api/operations)."""
    from chalicelib.api.operations import OPERATIONS

    return {name: op for name, op in OPERATIONS.items() if op.kind == kind and not op.public}


def _routes(registry: dict[str, Any]) -> list[tuple[str, str, str]]:
    from app import app

    out = []
    for path, methods in app.routes.items():
        for method, entry in methods.items():
            name = entry.view_name
            if name in registry:
                out.append((path, method, name))
    return sorted(out)


def call(url: str, method: str, token: str | None, body: Any = None, cookie: str | None = None) -> int:
    # Accept as curl and browsers send it: an XLSForm download is a binary answer, given only to who accepts it
    headers = {"Authorization": f"Bearer {token}", "Accept": "*/*"} if token else {"Accept": "*/*"}
    data = None
    if cookie is not None:
        headers = {"Cookie": cookie, "Accept": "*/*"}  # as a browser: a poster (PDF) is binary
        if method == "POST":
            data = urllib.parse.urlencode(body or {}).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif method in ("POST", "PUT"):
        data = json.dumps(body if body is not None else {}).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _seeded(idp: Any) -> list[Any]:
    """The seeded accounts only: other tests create accounts (in other agencies) in the same provider."""
    from infra.local.idp import SEED_USERS

    return [idp.users[username] for username, *_ in SEED_USERS]


def _roles(user: Any) -> list[str]:
    return list(getattr(user, "roles", None) or [user.role])


@pytest.fixture(autouse=True)
def _a_counter_to_print(live_stack: Any) -> None:
    """Routes that name a location (a counter's poster) walk one that both walked agencies have."""
    from tests.integration.test_channels import ensure_counter

    for agency in ("P01", OUT_OF_SCOPE):
        ensure_counter(agency)


@pytest.fixture(autouse=True)
def _a_sample_to_read(live_stack: Any) -> None:
    """Routes that name a sample walk one drawn beforehand (tests/integration/test_sampling.py)."""
    from tests.integration.test_sampling import ensure_sample

    SAMPLE["id"] = ensure_sample(live_stack)


SAMPLE: dict[str, str] = {}


@pytest.fixture(autouse=True)
def _a_paper_batch_to_read(live_stack: Any) -> None:
    """Routes that name a paper batch and form walk WALK/1 of both walked agencies (tests/integration/test_paper.py)."""
    from tests.integration.test_paper import ensure_walk_batch

    for agency in ("P01", OUT_OF_SCOPE):
        ensure_walk_batch(agency)


def _fill(path: str, agency_param: str | None, agency: str | None) -> str:
    from tests.integration.test_channels import COUNTER
    from tests.integration.test_paper import WALK_BATCH
    from tests.integration.test_sampling import YEAR

    url = (
        path.replace("{survey_id}", "sipas-2026").replace("{location}", str(COUNTER["code"])).replace("{version}", "1")
    )
    url = url.replace("{year}", str(YEAR)).replace("{sample_id}", SAMPLE.get("id", ""))
    url = url.replace("{batch}", WALK_BATCH).replace("{form_number}", "1")
    # the survey's open question; an interview id nothing was drawn or coded for (the walk writes nothing)
    url = url.replace("{question_id}", "q10_other").replace("{response_id}", "01ARZ3NDEKTSV4RRFFQ69G5FAV")
    if agency is not None and agency_param:
        url = url.replace("{" + agency_param + "}", agency)
    if "{username}" in url and agency in ACCOUNT_OF:
        url = url.replace("{username}", ACCOUNT_OF[agency][0])
    return url.replace("{username}", "dieutra.hanoi")  # an assignment names the seeded enumerator


def _cases(stack: Any, registry: dict[str, Any], examples: dict[str, tuple[Any, int]], console: bool) -> list[Any]:
    idp = stack.idp
    cases = []
    for path, method, name in _routes(registry):
        protection = registry[name]
        example, write_ok = examples.get(name, (None, 200))
        for user in _seeded(idp):
            grants = tuple(Grant(role, user.agency) for role in _roles(user))
            own = user.agency if user.agency != NATIONAL else "P01"
            other = ("P46" if own == "P01" else "P01") if "{username}" in path else OUT_OF_SCOPE
            for agency in [own, other] if protection.agency_param else [None]:
                if protection.permission is None:  # a session is enough (signing out)
                    allowed = True
                elif protection.own:
                    allowed = allows(grants, protection.permission, user.agency)
                else:
                    allowed = allows(grants, protection.permission, agency)
                body = example(agency) if example else None
                ok = write_ok if method in ("POST", "PUT") else 200
                cases.append(
                    (method, _fill(path, protection.agency_param, agency), user.username, body, ok if allowed else 403)
                )
        anonymous = 302 if console else 401
        cases.append((method, _fill(path, "agency", "P01"), "", None, anonymous))
    return cases


def test_every_protected_route_for_every_role_and_scope(live_stack):
    failures = []
    cases = _cases(live_stack, _registry("api"), WRITE_EXAMPLES, console=False)
    for method, path, username, body, expected in cases:
        token = live_stack.idp.issue(username) if username else None
        got = call(f"{live_stack.api_url}{path}", method, token, body)
        if got != expected:
            failures.append((method, path, username or "(no token)", expected, got))
    assert not failures, failures
    assert len(cases) > 150


def test_every_console_page_for_every_role_and_scope(live_stack):
    """The same walk through the console: session cookie, CSRF token on every form, 200/303 / 403 / 302."""
    from chalicelib.api.session import SESSION_COOKIE, csrf_token

    failures = []
    cases = _cases(live_stack, _registry("console"), CONSOLE_FORMS, console=True)
    for method, path, username, body, expected in cases:
        token = live_stack.idp.issue(username) if username else "not-a-token"
        form = {**(body or {}), "csrf": csrf_token(token)} if method == "POST" else None
        got = call(f"{live_stack.api_url}{path}", method, None, form, cookie=f"{SESSION_COOKIE}={token}")
        if got != expected:
            failures.append((method, path, username or "(no session)", expected, got))
    assert not failures, failures
    assert len(cases) > 150


def test_the_matrix_says_what_we_mean(live_stack):
    # A few rows spelled out, so the matrix itself is checked and not only its enforcement.
    idp = live_stack.idp
    api = live_stack.api_url
    assert call(f"{api}/admin/api/agencies/P01/dashboard", "GET", idp.issue("quantri.hanoi")) == 200
    assert call(f"{api}/admin/api/agencies/P79/dashboard", "GET", idp.issue("quantri.hanoi")) == 403
    assert call(f"{api}/admin/api/dashboard", "GET", idp.issue("quantri.hanoi")) == 403
    assert call(f"{api}/admin/api/dashboard", "GET", idp.issue("admin")) == 200
    # national counts are results: an appraiser may open the console but not read them (nor on the dashboard page)
    assert call(f"{api}/admin/api/dashboard", "GET", idp.issue("thamdinh")) == 403
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


def test_the_console_shows_each_role_exactly_its_part(live_stack):
    """Not only the status: the dashboard's counts and the console's menu follow the matrix too."""
    from chalicelib.api.session import SESSION_COOKIE

    for user in _seeded(live_stack.idp):
        grants = tuple(Grant(role, user.agency) for role in _roles(user))
        scope = None if user.agency == NATIONAL else user.agency
        request = urllib.request.Request(
            f"{live_stack.api_url}/admin", headers={"Cookie": f"{SESSION_COOKIE}={live_stack.idp.issue(user.username)}"}
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            page = response.read().decode()
        # results are by place: a ministry's analyst reads them on the public pages, not by ministry
        by_place = scope is None or scope.startswith("P")
        assert ("Tỷ lệ gắn cờ" in page) == (allows(grants, "results.read", scope) and by_place), user.username
        assert ('href="/admin/audit"' in page) == allows(grants, "audit.read", None), user.username
        assert ('href="/admin/sampling"' in page) == allows(grants, "sampling.manage", None), user.username
        manages = allows(grants, "user.manage", scope) if scope else allows(grants, "user.manage", None)
        assert ('/users">Tài khoản</a>' in page) == manages, user.username
