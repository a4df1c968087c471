"""The enumerators' offline field app: its shell, service worker, manifest, icons, and a survey version's form.

The app is one page (/field/) with static/field.js; the service worker (static/field-sw.js, served at
/field/sw.js so that its scope is /field/) precaches the shell and its assets under a cache named after
the app's version: a hash of everything it precaches, so any change to the app installs a new worker
(IndexedDB, where the interviews are, is never touched by an update).

A survey version's questions come from the same macros as the citizens' form (_form_questions.html) and
its conditions from Survey.client_logic, evaluated by static/logic.js: one definition, read one way.
"""

from __future__ import annotations

import hashlib
import io
import json
from functools import cache
from typing import TYPE_CHECKING, Any

from chalicelib.web.pages import STATIC_DIR, WEB_DIR, _form_sections, _render, asset_url

if TYPE_CHECKING:
    from chalicelib.domain.survey import Survey
    from chalicelib.reference.geography import Geography

APP_NAME = "Điều tra hộ gia đình — SIPAS"
ASSETS = ("site.css", "field.css", "logic.js", "field.js")
ICON_SIZES = (192, 512)
BRAND = (163, 21, 21)  # header.site's red (site.css)
# A deployment can force a new app version without changing a file (tests bump it to exercise an update).
BUILD = ""


def app_version() -> str:
    return _version(BUILD)


@cache
def _version(build: str) -> str:
    digest = hashlib.sha256(build.encode())
    for name in ("field-sw.js", *ASSETS):
        digest.update((STATIC_DIR / name).read_bytes())
    for template in ("field.html", "_form_questions.html", "field_form.html"):
        digest.update((WEB_DIR / "templates" / template).read_bytes())
    return digest.hexdigest()[:12]


def precached() -> list[str]:
    """What the worker stores at install: the shell, its assets (content-hashed URLs), manifest and icons."""
    icons = [f"/field/icons/icon-{size}.png" for size in ICON_SIZES]
    return ["/field/", *(asset_url(name) for name in ASSETS), "/field/manifest.webmanifest", *icons]


def render_field_shell() -> str:
    return _render(
        "field.html",
        version=app_version(),
        logic=asset_url("logic.js"),
        script=asset_url("field.js"),
        css=[asset_url("site.css"), asset_url("field.css")],
    )


def service_worker() -> str:
    """static/field-sw.js with its version and precache list written in (a new version: a new worker)."""
    head = f"const VERSION = {json.dumps(app_version())};\nconst PRECACHE = {json.dumps(precached())};\n"
    return head + (STATIC_DIR / "field-sw.js").read_text(encoding="utf-8")


def manifest() -> dict[str, Any]:
    return {
        "name": APP_NAME,
        "short_name": "Điều tra",
        "description": "Phỏng vấn hộ gia đình không cần mạng; gửi phiếu khi có mạng.",
        "lang": "vi",
        "start_url": "/field/",
        "scope": "/field/",
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#ffffff",
        "theme_color": "#a31515",
        "icons": [
            {"src": f"/field/icons/icon-{size}.png", "sizes": f"{size}x{size}", "type": "image/png", "purpose": "any"}
            for size in ICON_SIZES
        ],
    }


@cache
def icon(size: int) -> bytes:
    """A square PNG: a white clipboard with three lines on the brand red (drawn, no file to keep in step)."""
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (size, size), BRAND)
    draw = ImageDraw.Draw(image)
    u = size / 16
    draw.rounded_rectangle((4 * u, 3 * u, 12 * u, 14 * u), radius=u, fill=(255, 255, 255))
    draw.rectangle((6 * u, 2 * u, 10 * u, 4 * u), fill=(255, 255, 255), outline=BRAND, width=max(1, int(u / 3)))
    for row in (6, 8.5, 11):
        draw.rectangle((5.5 * u, row * u, 10.5 * u, (row + 0.8) * u), fill=BRAND)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()


def render_field_form(survey: Survey, geography: Geography) -> str:
    """A survey version's questions and conditions as an HTML fragment the app stores with its package."""
    sections = _form_sections(survey, {}, {}, geography)
    logic = getattr(survey, "client_logic", None)
    return _render(
        "field_form.html",
        survey=survey,
        title=survey.definition.get("title", survey.id),
        sections=sections,
        errors={},
        logic=logic() if callable(logic) else {},
    )


def render_field_device(*, csrf: str, console: Any, linked: dict[str, Any] | None = None) -> str:
    """The console page that links this device: a button, then (after the POST) the token handed to the app."""
    return _render(
        "admin_field_device.html", csrf=csrf, console=console, linked=linked, script_src=asset_url("field.js")
    )
