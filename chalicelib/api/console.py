"""The officials' console: OpenID Connect sign-in and sign-out, and pages by permission (dashboard, audit, agencies, accounts).

The session is an HttpOnly cookie holding the issuer's ID token, verified on every request like a bearer
token and refused once signed out (chalicelib/auth/revocation.py). Every form carries the page's CSRF token.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api import request
from chalicelib.api.guard import form_field
from chalicelib.api.http import redirect
from chalicelib.api.operations import Answer, Param, console, page
from chalicelib.api.params import AGENCY, FROM_SEQ, SAVED, USERNAME

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

console_pages = Blueprint(__name__)
ANY = ["*/*"]
Form = dict[str, list[str]]


# --- sign-in and sign-out -------------------------------------------------------------------------
@console_pages.route("/admin/login", methods=["GET"])
@page(
    "adminLogin",
    "Start the console sign-in (redirect to the OpenID provider)",
    answers=(Answer(302, "To the provider's sign-in page", media=""),),
    errors=(401,),
)
def admin_login() -> Response:
    from chalicelib.api import session

    url, state_cookie = session.begin_sign_in(_token_config(), f"{request.base_url()}/admin/callback")
    cookie = session.cookie_header(session.STATE_COOKIE, state_cookie, secure=request.secure(), max_age=600)
    return redirect(url, cookie)


@console_pages.route("/admin/callback", methods=["GET"])
@page(
    "adminCallback",
    "Finish sign-in: exchange the code, set the HttpOnly session cookie",
    params=(
        Param("code", "query", "Authorization code", {"type": "string", "minLength": 1, "maxLength": 2048}, True),
        Param("state", "query", "State from /admin/login", {"type": "string", "minLength": 1, "maxLength": 256}, True),
    ),
    answers=(Answer(302, "To /admin, with the session cookie", media=""),),
    errors=(401,),
)
def admin_callback() -> Response:
    from chalicelib.api import session

    config = _token_config()
    state_cookie = session.cookies(request.current().headers).get(session.STATE_COOKIE, "")
    redirect_uri = f"{request.base_url()}/admin/callback"
    token = session.finish_sign_in(config, request.query("code"), request.query("state"), state_cookie, redirect_uri)
    return redirect(
        "/admin",
        [
            session.cookie_header(session.SESSION_COOKIE, token, secure=request.secure()),
            session.cookie_header(session.STATE_COOKIE, "", secure=request.secure(), max_age=0),
        ],
    )


@console_pages.route("/admin/logout", methods=["POST"], content_types=ANY)
@console("adminLogout", "Sign out: the session ends on the server, not only in the browser", None, form=True)
def admin_logout(principal: Principal, token: str, _form: Form) -> Any:
    from chalicelib import wiring
    from chalicelib.api import session

    wiring.access_gate().end_session(token, principal.expires_at or None)
    cookie = session.cookie_header(session.SESSION_COOKIE, "", secure=request.secure(), max_age=0)
    return redirect("/", cookie, after_post=True)


# --- pages ----------------------------------------------------------------------------------------
@console_pages.route("/admin", methods=["GET"])
@console("adminDashboard", "Console dashboard (counts only where the role may read results)", "console.view", own=True)
def admin_dashboard(principal: Principal, token: str, _form: Form) -> Any:
    from chalicelib import wiring
    from chalicelib.web.pages import render_admin_dashboard

    board = wiring.results_service().console_dashboard(principal)
    audit = wiring.audit_reader().latest(10) if principal.can("audit.read", None) else None
    return render_admin_dashboard(principal.summary(), board, audit, _csrf(token), _nav(principal))


@console_pages.route("/admin/audit", methods=["GET"])
@console("adminAudit", "Audit log viewer", "audit.read", params=(FROM_SEQ,))
def admin_audit(principal: Principal, _token: str, _form: Form) -> Any:
    from chalicelib import wiring
    from chalicelib.web.pages import render_admin_audit

    found = wiring.audit_reader().page(request.query("from_seq"), "200")
    return render_admin_audit(found["entries"], found["next_from_seq"], _nav(principal))


@console_pages.route("/admin/agencies", methods=["GET"])
@console("adminAgencies", "Agencies in the caller's scope", "console.view", own=True)
def admin_agencies(principal: Principal, _token: str, _form: Form) -> Any:
    from chalicelib import wiring
    from chalicelib.web.pages import render_admin_agencies

    rows, ended = wiring.agency_directory().overview(principal)
    return render_admin_agencies(rows, ended, _nav(principal))


@console_pages.route("/admin/agencies/{agency}", methods=["GET"])
@console(
    "adminAgency",
    "An agency: embed origins and embed code",
    "console.view",
    agency_param="agency",
    params=(AGENCY, SAVED),
)
def admin_agency(principal: Principal, token: str, _form: Form, agency: str) -> Any:
    return _agency_page(principal, token, agency, notice=_saved_notice())


@console_pages.route("/admin/agencies/{agency}/origins", methods=["POST"], content_types=ANY)
@console(
    "adminAgencyOrigins", "Save the embed origins", "agency.manage", agency_param="agency", params=(AGENCY,), form=True
)
def admin_agency_origins(principal: Principal, token: str, form: Form, agency: str) -> Any:
    from chalicelib import wiring
    from chalicelib.domain.clock import stamp
    from chalicelib.domain.errors import DomainError

    text, version = form_field(form, "origins"), form_field(form, "version")
    try:
        number = _version(version)
        actor = principal.actor("agency.manage")
        wiring.agency_service().set_embed_origins(actor, agency, text.splitlines(), number, stamp())
    except DomainError as exc:
        if exc.status not in (400, 409):
            raise
        return _agency_page(principal, token, agency, error=exc, draft=text), exc.status
    return redirect(f"/admin/agencies/{agency}?saved=1#embed-origins", after_post=True)


@console_pages.route("/admin/agencies/{agency}/users", methods=["GET"])
@console("adminUsers", "Accounts of an agency", "user.manage", agency_param="agency", params=(AGENCY, SAVED))
def admin_users(principal: Principal, token: str, _form: Form, agency: str) -> Any:
    return _users_page(principal, token, agency, notice=_saved_notice())


@console_pages.route("/admin/agencies/{agency}/users", methods=["POST"], content_types=ANY)
@console("adminUsersCreate", "Create an account", "user.manage", agency_param="agency", params=(AGENCY,), form=True)
def admin_users_create(principal: Principal, token: str, form: Form, agency: str) -> Any:
    from chalicelib import wiring
    from chalicelib.domain.errors import DomainError
    from chalicelib.domain.users import NewUser

    username, name, email = form_field(form, "username"), form_field(form, "name"), form_field(form, "email")
    roles = form.get("roles") or []
    try:
        new = NewUser(username, name, email, tuple(roles), agency)
        created = wiring.user_admin().create_user(principal, principal.actor("user.manage"), agency, new)
    except DomainError as exc:
        if exc.status not in (400, 409):
            raise
        draft = {"username": username, "name": name, "email": email, "roles": roles}
        return _users_page(principal, token, agency, error=exc, draft=draft), exc.status
    notice = (
        "Đã tạo tài khoản."
        if created.temporary_password
        else "Đã tạo tài khoản; hệ thống đã gửi thư mời kèm mật khẩu tạm thời tới địa chỉ thư điện tử."
    )
    user = created.user.username
    return _user_page(principal, token, agency, user, notice=notice, temporary_password=created.temporary_password), 201


@console_pages.route("/admin/agencies/{agency}/users/{username}", methods=["GET"])
@console("adminUser", "One account", "user.manage", agency_param="agency", params=(AGENCY, USERNAME, SAVED))
def admin_user(principal: Principal, token: str, _form: Form, agency: str, username: str) -> Any:
    return _user_page(principal, token, agency, username, notice=_saved_notice())


@console_pages.route("/admin/agencies/{agency}/users/{username}", methods=["POST"], content_types=ANY)
@console(
    "adminUserChange",
    "Change roles, scope or sign-in",
    "user.manage",
    agency_param="agency",
    params=(AGENCY, USERNAME),
    form=True,
)
def admin_user_change(principal: Principal, token: str, form: Form, agency: str, username: str) -> Any:
    from chalicelib import wiring
    from chalicelib.domain.errors import BadQuery, DomainError

    action, service, actor = form_field(form, "action"), wiring.user_admin(), principal.actor("user.manage")
    target = form_field(form, "agency") or agency
    try:
        if action == "access":
            service.set_access(principal, actor, agency, username, tuple(form.get("roles") or []), target)
        elif action in ("enable", "disable"):
            service.set_enabled(principal, actor, agency, username, action == "enable")
        else:
            raise BadQuery(field="action")
    except DomainError as exc:
        if exc.status not in (400, 409):
            raise
        return _user_page(principal, token, agency, username, error=exc), exc.status
    moved = action == "access" and target != agency  # the account moved to another scope: show it there
    return redirect(f"/admin/agencies/{target if moved else agency}/users/{username}?saved=1", after_post=True)


# --- helpers --------------------------------------------------------------------------------------
def _agency_page(principal: Principal, token: str, agency: str, **state: Any) -> str:
    from chalicelib import wiring
    from chalicelib.web.pages import render_admin_agency

    view = wiring.agency_directory().console_view(principal, agency, request.base_url())
    return render_admin_agency(
        view["agency"],
        view["settings"],
        view["snippets"],
        can_edit=view["can_edit"],
        can_manage_users=view["can_manage_users"],
        csrf=_csrf(token),
        console=_nav(principal),
        **state,
    )


def _users_page(principal: Principal, token: str, agency: str, **state: Any) -> str:
    from chalicelib import wiring
    from chalicelib.domain.users import grantable_roles, role_labels
    from chalicelib.web.pages import render_admin_users

    users = wiring.user_admin().list_users(principal, agency)
    return render_admin_users(
        _agency_label(agency),
        agency,
        [u.to_dict() for u in users],
        grantable_roles(agency),
        role_labels(),
        csrf=_csrf(token),
        console=_nav(principal),
        me=principal.login,
        **state,
    )


def _user_page(principal: Principal, token: str, agency: str, username: str, **state: Any) -> str:
    from chalicelib import wiring
    from chalicelib.domain.users import role_choices, scopes_in_reach
    from chalicelib.reference.agencies import agency_registry
    from chalicelib.web.pages import render_admin_user

    user = wiring.user_admin().get_user(principal, agency, username)
    registry = agency_registry()
    return render_admin_user(
        _agency_label(agency),
        agency,
        user.to_dict(),
        role_choices(principal),
        scopes_in_reach(principal, registry.on(), registry.get(principal.agency or "")),
        csrf=_csrf(token),
        console=_nav(principal),
        is_me=username in (principal.sub, principal.login),
        **state,
    )


def _agency_label(agency: str) -> str:
    from chalicelib import wiring
    from chalicelib.auth.permissions import NATIONAL

    return "Bộ Nội vụ — toàn quốc" if agency == NATIONAL else str(wiring.agency_directory().agency(agency).name)


def _nav(principal: Principal) -> dict[str, Any]:
    """The console's menu for this official: the accounts link only where they manage accounts."""
    from chalicelib.auth.permissions import NATIONAL
    from chalicelib.auth.principal import OWN

    users = None
    if principal.can("user.manage", None):
        users = NATIONAL
    elif principal.agency and principal.can("user.manage", principal.agency):
        users = principal.agency
    return {
        "users_agency": users,
        "audit": principal.can("audit.read", None),
        "posters": principal.can("channel.print", OWN),  # the agency page's link to its QR codes and posters
        "surveys": principal.can("survey.manage", OWN),
        "sampling": principal.can("sampling.manage", None),
        "fieldwork": principal.can("fieldwork.manage", OWN),
        "field_device": principal.can("field.collect", OWN),  # an enumerator links their phone to the field app
        # paper entry is an agency's own: a clerk's link goes to their agency's batches
        "paper_agency": principal.agency
        if principal.agency and principal.can("paper.review", principal.agency)
        else None,
        "risk": principal.can("fieldwork.manage", OWN),
        "coding": principal.can("coding.manage", None),
    }


def _csrf(token: str) -> str:
    from chalicelib.api import session

    return session.csrf_token(token)


def _token_config() -> Any:
    from chalicelib import wiring
    from chalicelib.auth.principal import Unauthenticated

    config = wiring.token_config()
    if config is None:
        raise Unauthenticated("Hệ thống chưa cấu hình đăng nhập.", "Sign-in is not configured.")
    return config


def _version(text: str) -> int:
    from chalicelib.domain.errors import BadQuery

    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise BadQuery(field="version")
    return int(text)


def _saved_notice() -> str:
    return "Đã lưu thay đổi." if request.flag("saved") else ""


# The menu and the CSRF token for console pages of other areas (chalicelib/api/authoring_pages.py).
console_nav, console_csrf, saved_notice = _nav, _csrf, _saved_notice
