"""Every body the API serves fits Lambda's proxy response (JSON-serialisable text), assets included."""

from __future__ import annotations

import json

import pytest


@pytest.mark.parametrize("name", ["site.css", "form.js"])
def test_static_assets_become_a_json_serialisable_proxy_response(name):
    import app as app_module
    from chalicelib.api.citizen import static_file

    response = static_file(name=name)
    proxy = response.to_dict(app_module.app.api.binary_types)
    assert isinstance(proxy["body"], str)
    json.dumps(proxy)
    assert proxy["headers"]["Cache-Control"].endswith("immutable")
