"""Officials' agency and account administration: the JSON API and the console pages share these calls."""

from __future__ import annotations

import html
import re
from datetime import date, datetime, timezone
from typing import Any

from chalicelib import wiring
from chalicelib.api.bodies import json_body
from chalicelib.api.views import BadQuery, _actor
from chalicelib.auth.permissions import NATIONAL, NATIONAL_ONLY_ROLES, ROLES
from chalicelib.domain.agencies import AgencyNotFound
from chalicelib.domain.users import DirectoryUser, NewUser
from chalicelib.reference.agencies import Agency, agency_registry


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _agency(code: str) -> Agency:
    agency = agency_registry().get(code)
    if agency is None:
        raise AgencyNotFound(field="agency")
    return agency


# --- reference ------------------------------------------------------------------------------------
def agencies_reference(on: str | None, include_ended: bool) -> dict[str, Any]:
    registry = agency_registry()
    if include_ended:
        return {"on": None, "agencies": [a.to_dict() for a in registry.all()]}
    try:
        day = date.fromisoformat(on) if on else date.today()
    except ValueError:
        raise BadQuery("Ngày không hợp lệ (dạng YYYY-MM-DD).", "Invalid date (YYYY-MM-DD).", field="on") from None
    return {"on": day.isoformat(), "agencies": [a.to_dict() for a in registry.on(day)]}


# --- agency settings ------------------------------------------------------------------------------
def agency_settings(agency: str) -> dict[str, Any]:
    return wiring.agency_service().settings(agency).to_dict()


def put_agency_settings(principal: Any, agency: str, raw: bytes, content_type: str | None) -> dict[str, Any]:
    body = json_body(raw, content_type, "agency-settings")
    saved = wiring.agency_service().set_embed_origins(
        _actor(principal, "agency.manage"), agency, body["embed_origins"], body["version"], _now()
    )
    return saved.to_dict()


def embed_frame_ancestors(agency: str | None) -> str:
    """The CSP frame-ancestors sources of a widget page embedded by this agency ('none' if unknown or unset)."""
    from chalicelib.domain.agencies import frame_ancestors

    if not agency or agency_registry().get(agency) is None:
        return "'none'"
    return frame_ancestors(wiring.agency_settings().embed_origins(agency))


def embed_snippets(agency: str, base: str) -> list[dict[str, str]]:
    """What an agency's web team pastes into its site, one per open survey."""
    snippets = []
    for survey in wiring.surveys().list_current():
        if not survey.is_open():
            continue
        title = survey.definition["title"]
        title_vi = title.get("vi") if isinstance(title, dict) else str(title)
        src = f"{base}/s/{survey.id}?embed=1&amp;agency={agency}"
        label = html.escape(str(title_vi), quote=True)  # pasted as HTML into the agency's page
        snippets.append(
            {
                "survey_id": survey.id,
                "title": str(title_vi),
                "script": (
                    f'<div data-par-survey="{survey.id}" data-par-agency="{agency}"></div>\n'
                    f'<script src="{base}/static/embed.js" async></script>'
                ),
                "iframe": (
                    f'<iframe src="{src}" title="{label}" loading="lazy" '
                    'style="width:100%;min-height:640px;border:0"></iframe>'
                ),
            }
        )
    return snippets


# --- accounts -------------------------------------------------------------------------------------
def _scope(agency: str) -> str:
    if agency != NATIONAL:
        _agency(agency)
    return agency


def list_users(principal: Any, agency: str) -> dict[str, Any]:
    users = wiring.user_admin().list_users(principal, _scope(agency))
    return {"agency": agency, "users": [u.to_dict() for u in users]}


def create_user(principal: Any, agency: str, raw: bytes, content_type: str | None) -> dict[str, Any]:
    body = json_body(raw, content_type, "user", "new_user")
    new = NewUser(body["username"], body["name"], body["email"], tuple(body["roles"]), _scope(agency))
    created = wiring.user_admin().create_user(principal, _actor(principal, "user.manage"), agency, new)
    answer: dict[str, Any] = {"user": created.user.to_dict()}
    if created.temporary_password:
        answer["temporary_password"] = created.temporary_password
    return answer


def set_access(principal: Any, agency: str, username: str, raw: bytes, content_type: str | None) -> dict[str, Any]:
    body = json_body(raw, content_type, "user", "access")
    user = wiring.user_admin().set_access(
        principal, _actor(principal, "user.manage"), _scope(agency), username, tuple(body["roles"]), body["agency"]
    )
    return user.to_dict()


def set_enabled(principal: Any, agency: str, username: str, raw: bytes, content_type: str | None) -> dict[str, Any]:
    body = json_body(raw, content_type, "user", "enabled")
    user = wiring.user_admin().set_enabled(
        principal, _actor(principal, "user.manage"), _scope(agency), username, body["enabled"]
    )
    return user.to_dict()


# --- console pages --------------------------------------------------------------------------------
def _csrf(token: str) -> str:
    from chalicelib.api.session import csrf_token
    from chalicelib.settings import settings

    return csrf_token(token, settings().hmac_key)


def _labels() -> dict[str, str]:
    return {r.id: r.label_vi for r in ROLES}


def agencies_page(principal: Any) -> str:
    from chalicelib.api.console import console_nav
    from chalicelib.web.pages import render_admin_agencies

    registry = agency_registry()
    store = wiring.agency_settings()
    national = principal.can("console.view", None)
    if national:
        shown, stored = list(registry.on()), store.all()
    else:
        own = registry.get(principal.agency or "")
        shown = [own] if own else []
        stored = {own.code: store.get(own.code)} if own else {}
    rows = [{**a.to_dict(), "origins": len(stored[a.code].embed_origins) if a.code in stored else 0} for a in shown]
    today = set(registry.on())
    ended = [a.to_dict() for a in registry.all() if a not in today] if national else []
    return render_admin_agencies(rows, ended, console_nav(principal))


def agency_page(principal: Any, token: str, agency: str, base: str, **state: Any) -> str:
    from chalicelib.api.console import console_nav
    from chalicelib.web.pages import render_admin_agency

    reference = _agency(agency)
    current = wiring.agency_service().settings(agency)
    return render_admin_agency(
        reference.to_dict(),
        current.to_dict(),
        embed_snippets(agency, base),
        # an agency that has ended keeps its history but takes no new settings
        can_edit=principal.can("agency.manage", agency) and reference.valid_on(date.today()),
        can_manage_users=principal.can("user.manage", agency),
        csrf=_csrf(token),
        console=console_nav(principal),
        **state,
    )


def users_page(principal: Any, token: str, agency: str, **state: Any) -> str:
    from chalicelib.api.console import console_nav
    from chalicelib.web.pages import render_admin_users

    users = wiring.user_admin().list_users(principal, _scope(agency))
    return render_admin_users(
        _agency_label(agency),
        agency,
        [u.to_dict() for u in users],
        _grantable_roles(agency),
        _labels(),
        csrf=_csrf(token),
        console=console_nav(principal),
        me=principal_username(principal),
        **state,
    )


def user_page(principal: Any, token: str, agency: str, username: str, **state: Any) -> str:
    from chalicelib.api.console import console_nav
    from chalicelib.web.pages import render_admin_user

    user: DirectoryUser = wiring.user_admin().get_user(principal, _scope(agency), username)
    return render_admin_user(
        _agency_label(agency),
        agency,
        user.to_dict(),
        [
            {"id": r.id, "label": r.label_vi, "national_only": r.id in NATIONAL_ONLY_ROLES}
            for r in ROLES
            # an agency administrator is not offered what only the Ministry can grant
            if r.id not in NATIONAL_ONLY_ROLES or principal.can("user.manage", None)
        ],
        _scopes_in_reach(principal),
        csrf=_csrf(token),
        console=console_nav(principal),
        is_me=username in (principal.sub, principal_username(principal)),
        **state,
    )


# --- console forms (POST): on a refusal the page comes back with the error and what was typed -----
def agency_origins_form(principal: Any, token: str, agency: str, form: dict[str, list[str]], base: str) -> Any:
    from chalicelib.api.console import field, redirect
    from chalicelib.domain.errors import DomainError

    text = field(form, "origins")
    version = field(form, "version")
    try:
        if not re.fullmatch(r"[0-9]{1,9}", version):
            raise BadQuery(field="version")
        wiring.agency_service().set_embed_origins(
            _actor(principal, "agency.manage"), agency, text.splitlines(), int(version), _now()
        )
    except DomainError as exc:
        if exc.status not in (400, 409):
            raise
        return agency_page(principal, token, agency, base, error=exc, draft=text), exc.status
    return redirect(f"/admin/agencies/{agency}?saved=1#embed-origins")


def create_user_form(principal: Any, token: str, agency: str, form: dict[str, list[str]]) -> Any:
    from chalicelib.api.console import field
    from chalicelib.domain.errors import DomainError

    username, name, email = field(form, "username"), field(form, "name"), field(form, "email")
    roles = form.get("roles") or []
    draft = {"username": username, "name": name, "email": email, "roles": roles}
    try:
        new = NewUser(username, name, email, tuple(roles), _scope(agency))
        created = wiring.user_admin().create_user(principal, _actor(principal, "user.manage"), agency, new)
    except DomainError as exc:
        if exc.status not in (400, 409):
            raise
        return users_page(principal, token, agency, error=exc, draft=draft), exc.status
    notice = (
        "Đã tạo tài khoản."
        if created.temporary_password
        else "Đã tạo tài khoản; hệ thống đã gửi thư mời kèm mật khẩu tạm thời tới địa chỉ thư điện tử."
    )
    page = user_page(
        principal, token, agency, created.user.username, notice=notice, temporary_password=created.temporary_password
    )
    return page, 201


def user_form(principal: Any, token: str, agency: str, username: str, form: dict[str, list[str]]) -> Any:
    from chalicelib.api.console import field, redirect
    from chalicelib.domain.errors import DomainError

    action = field(form, "action")
    service = wiring.user_admin()
    actor = _actor(principal, "user.manage")
    try:
        if action == "access":
            roles = tuple(form.get("roles") or [])
            target = field(form, "agency") or agency
            service.set_access(principal, actor, _scope(agency), username, roles, target)
            if target != agency:  # the account moved to another scope: show it there
                return redirect(f"/admin/agencies/{target}/users/{username}?saved=1")
        elif action in ("enable", "disable"):
            service.set_enabled(principal, actor, _scope(agency), username, action == "enable")
        else:
            raise BadQuery(field="action")
    except DomainError as exc:
        if exc.status not in (400, 409):
            raise
        return user_page(principal, token, agency, username, error=exc), exc.status
    return redirect(f"/admin/agencies/{agency}/users/{username}?saved=1")


def principal_username(principal: Any) -> str:
    return str(principal.username or principal.sub)


def _agency_label(agency: str) -> str:
    return "Bộ Nội vụ — toàn quốc" if agency == NATIONAL else _agency(agency).name


def _grantable_roles(agency: str) -> list[dict[str, str]]:
    return [{"id": r.id, "label": r.label_vi} for r in ROLES if agency == NATIONAL or r.id not in NATIONAL_ONLY_ROLES]


def _scopes_in_reach(principal: Any) -> list[dict[str, str]]:
    if principal.can("user.manage", None):
        return [{"code": NATIONAL, "name": "Toàn quốc (Bộ Nội vụ)"}] + [
            {"code": a.code, "name": a.name} for a in agency_registry().on()
        ]
    own = agency_registry().get(principal.agency or "")
    return [{"code": own.code, "name": own.name}] if own else []
