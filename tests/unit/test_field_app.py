"""The field app's shell, worker, manifest, icons and form fragment (the offline flows themselves: tests/e2e)."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest

from chalicelib.domain.survey import Survey
from chalicelib.reference.geography import load_geography
from chalicelib.web import field_app as web
from tests.shared.model_survey import model_definition
from tests.unit.test_pages import Tags


def proxy(response: Any) -> dict[str, Any]:
    """What Lambda's proxy integration would send: it must be JSON (binary bodies base64-encoded)."""
    import app as app_module

    out = response.to_dict(app_module.app.api.binary_types)
    json.dumps(out)
    return out


def test_the_shell_is_a_vietnamese_installable_page_with_no_inline_script() -> None:
    from chalicelib.api.field_app import field_app_shell

    answer = proxy(field_app_shell())
    assert answer["statusCode"] == 200
    tags = Tags(answer["body"])
    assert tags.find("html", lang="vi")
    assert tags.find("link", rel="manifest", href="/field/manifest.webmanifest")
    scripts = [a["src"] for t, a in tags.tags if t == "script"]
    assert [re.sub(r"\?v=.*", "", s) for s in scripts] == ["/static/logic.js", "/static/field.js"]  # no inline code
    assert tags.find("strong", id="unsent")  # the unsent count is in the page's header, always in view
    # before an interview: the household's adults (the app then shows which one to interview)
    assert tags.find("input", id="adults", type="number", min="1", max="30")
    assert tags.find("label", **{"for": "adults"})
    assert answer["headers"]["Cache-Control"] == "no-cache"


def test_the_worker_precaches_every_asset_of_this_version_and_a_change_makes_a_new_version(monkeypatch) -> None:
    from chalicelib.api.field_app import field_service_worker

    answer = proxy(field_service_worker())
    body = answer["body"]
    precache = json.loads(re.search(r"const PRECACHE = (\[.*\]);", body).group(1))
    for name in web.ASSETS:
        assert any(url.startswith(f"/static/{name}?v=") for url in precache), name
    assert "/field/" in precache and "/field/manifest.webmanifest" in precache
    assert answer["headers"]["Content-Type"].startswith("text/javascript")
    before = web.app_version()
    assert f'const VERSION = "{before}"' in body
    monkeypatch.setattr(web, "BUILD", "next")
    assert web.app_version() != before
    assert f'const VERSION = "{web.app_version()}"' in web.service_worker()


def test_the_manifest_makes_it_installable_with_icons_we_serve() -> None:
    from PIL import Image

    from chalicelib.api.field_app import field_icon, field_manifest

    answer = proxy(field_manifest())
    assert answer["headers"]["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(answer["body"])
    assert manifest["start_url"] == "/field/" and manifest["display"] == "standalone" and manifest["lang"] == "vi"
    sizes = set()
    for entry in manifest["icons"]:
        name = entry["src"].rsplit("/", 1)[1]
        icon = proxy(field_icon(name=name))
        assert icon["isBase64Encoded"]
        image = Image.open(io.BytesIO(field_icon(name=name).body))
        assert image.format == "PNG" and f"{image.width}x{image.height}" == entry["sizes"]
        sizes.add(image.width)
    assert {192, 512} <= sizes  # what Chromium asks of an installable app


def test_an_unknown_icon_is_a_400_not_a_file_read() -> None:
    from chalicelib.api.field_app import field_icon

    assert proxy(field_icon(name="../app.py"))["statusCode"] == 400


@pytest.fixture(scope="module")
def survey() -> Survey:
    return Survey.from_definition(model_definition())


def test_the_form_fragment_has_every_question_and_the_conditions_of_the_citizens_form(survey: Survey) -> None:
    html = web.render_field_form(survey, load_geography(survey.geography))
    tags = Tags(html)
    boxes = {a["data-q"] for t, a in tags.tags if "data-q" in a}
    answerable = {i.id for i in survey.items}
    assert answerable <= boxes
    assert not tags.find("select", name="province")  # the household says where: no "where you live" section
    assert not tags.find("form")  # a fragment: the app's own form holds it
    logic = json.loads(
        re.search(r'<script type="application/json" class="logic">(.*?)</script>', html, re.DOTALL).group(1)
    )
    assert logic == survey.client_logic()


def test_the_device_page_is_for_enumerators_only() -> None:
    from chalicelib.api.operations import OPERATIONS
    from chalicelib.auth.permissions import PERMISSIONS

    for view in ("admin_field_device", "admin_field_device_link"):
        assert OPERATIONS[view].permission == "field.collect" and OPERATIONS[view].own  # any enumerator, for themselves
    assert OPERATIONS["admin_field_device_link"].form is not None  # a POST with the CSRF token
    assert PERMISSIONS["field.collect"].roles == frozenset({"enumerator"})


def test_the_linking_page_hands_the_token_to_the_app_without_inline_code() -> None:
    linked = {
        "token": "f1.abc.def",
        "expires_at": "2026-12-30T00:00:00Z",
        "enumerator": {"sub": "s", "name": "Điều tra viên", "agency": "P01"},
    }
    html = web.render_field_device(csrf="c", console=None, linked=linked)
    tags = Tags(html)
    assert json.loads(tags.text["script"]) == linked  # data for field.js, not code
    assert [a.get("src", "") for t, a in tags.tags if t == "script" and a.get("type") != "application/json"] == [
        tags.find("script")[0]["src"]
    ]
    assert "Điều tra viên" in html
