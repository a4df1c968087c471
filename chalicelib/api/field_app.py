"""The enumerators' offline field app (docs/FIELDWORK.md): its shell, service worker, manifest and icons, a survey
version's form for the app's package, and the console page that links a device (permission `field.collect`).

The app talks to the field API (/field/api/package, /field/api/visits: chalicelib/api/fieldwork.py) with the device
token this page issues; everything here is static for a given app version, except the linking page.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.api.http import binary_response, html_response, json_response, text_response
from chalicelib.api.operations import Answer, Param, console, page
from chalicelib.api.params import SURVEY_ID

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

field_app = Blueprint(__name__)
Form = dict[str, list[str]]
HTML = "text/html"
# The shell and the worker are revalidated on every load when online (the worker then serves them offline);
# a new worker takes over at once, so an update never needs the app closed.
REVALIDATE = "no-cache"
SURVEY_VERSION = Param(
    "version", "path", "A published survey version, 1-9 digits", {"type": "string", "pattern": "^[1-9][0-9]{0,8}$"}
)
ICON = Param("name", "path", "Icon file", {"type": "string", "enum": ["icon-192.png", "icon-512.png"]})


# Declared as /field: API Gateway (and chalice local) drop a trailing slash, and the app is opened as /field/ so
# that the page is inside the service worker's scope (/field/).
@field_app.route("/field", methods=["GET"])
@page(
    "fieldAppShell",
    "The enumerators' offline field app (installable; works with no network once loaded)",
    answers=(Answer(200, "The app", media=HTML),),
)
def field_app_shell() -> Response:
    from chalicelib.web.field_app import render_field_shell

    return html_response(render_field_shell(), cache=REVALIDATE)


@field_app.route("/field/sw.js", methods=["GET"])
@page(
    "fieldServiceWorker",
    "The field app's service worker (scope /field/): precache, network-first package",
    answers=(Answer(200, "A script", media="text/javascript"),),
)
def field_service_worker() -> Response:
    from chalicelib.web.field_app import service_worker

    body = service_worker().encode("utf-8")
    return text_response(
        body, "text/javascript; charset=utf-8", {"Cache-Control": REVALIDATE, "Service-Worker-Allowed": "/field/"}
    )


@field_app.route("/field/manifest.webmanifest", methods=["GET"])
@page(
    "fieldManifest",
    "The field app's web app manifest (name, icons, start URL, standalone display)",
    answers=(Answer(200, "The manifest", "WebAppManifest", media="application/manifest+json"),),
)
def field_manifest() -> Response:
    from chalicelib.web.field_app import manifest

    return json_response(
        manifest(),
        headers={"Content-Type": "application/manifest+json; charset=utf-8", "Cache-Control": "public, max-age=3600"},
    )


@field_app.route("/field/icons/{name}", methods=["GET"])
@page(
    "fieldIcon",
    "The field app's icon (PNG, drawn by the server)",
    params=(ICON,),
    answers=(Answer(200, "The icon", media="image/png"),),
)
def field_icon(name: str) -> Response:
    from chalicelib.web.field_app import icon

    size = int(name.removeprefix("icon-").removesuffix(".png"))
    return binary_response(icon(size), "image/png", {"Cache-Control": "public, max-age=86400"})


@field_app.route("/field/form/{survey_id}/{version}", methods=["GET"])
@page(
    "fieldSurveyForm",
    "A published survey version's questions and conditions as an HTML fragment, stored by the app with its package "
    "(the citizens' form's own markup and conditions)",
    params=(SURVEY_ID, SURVEY_VERSION),
    answers=(Answer(200, "The form fragment", media=HTML),),
    errors=(404,),
)
def field_survey_form(survey_id: str, version: str) -> Response:
    from chalicelib import wiring
    from chalicelib.domain.errors import NotFound, SurveyVersionMismatch
    from chalicelib.reference.geography import load_geography
    from chalicelib.web.field_app import render_field_form

    try:
        survey = wiring.surveys().get(survey_id, int(version))
    except SurveyVersionMismatch:  # a version named in the path that is not public: not found, as a page
        raise NotFound("Không có phiên bản phiếu này.", "No such published survey version.") from None
    return html_response(render_field_form(survey, load_geography(survey.geography)), cache="public, max-age=86400")


@field_app.route("/admin/field/device", methods=["GET"])
@console(
    "adminFieldDevice",
    "Link this device to the enumerator's account (the field app's sign-in)",
    "field.collect",
    own=True,
)
def admin_field_device(_principal: Principal, token: str, _form: Form) -> Any:
    return _device_page(_principal, token)


@field_app.route("/admin/field/device", methods=["POST"], content_types=["*/*"])
@console(
    "adminFieldDeviceLink",
    "Issue a device token (30 days) for the signed-in enumerator; the page hands it to the app's storage",
    "field.collect",
    own=True,
    form=True,
)
def admin_field_device_link(principal: Principal, token: str, _form: Form) -> Any:
    from chalicelib import wiring

    return _device_page(principal, token, wiring.field_device_tokens().issue(principal))


def _device_page(principal: Principal, token: str, linked: dict[str, Any] | None = None) -> str:
    from chalicelib.api.console import console_csrf, console_nav
    from chalicelib.web.field_app import render_field_device

    return render_field_device(csrf=console_csrf(token), console=console_nav(principal), linked=linked)
