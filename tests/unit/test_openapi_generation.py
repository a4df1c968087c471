"""The OpenAPI document is generated from the route declarations; an undeclared route cannot slip through."""

from __future__ import annotations

import pytest
from chalice import Blueprint, Chalice

from chalicelib.api.openapi import UndocumentedRoute, document
from chalicelib.api.operations import OPERATIONS, Param, api


@pytest.fixture(autouse=True)
def _registry_restored():
    """Probe routes declared here must not leak into the app's registry (other tests walk it)."""
    saved = dict(OPERATIONS)
    yield
    OPERATIONS.clear()
    OPERATIONS.update(saved)


def test_a_route_without_a_declaration_fails_the_document():
    app = Chalice(app_name="probe")

    @app.route("/probe-undeclared")
    def probe_undeclared() -> dict:
        return {}

    with pytest.raises(UndocumentedRoute, match="probe_undeclared"):
        document(app.routes)


def test_a_path_parameter_the_declaration_does_not_describe_fails_the_document():
    app = Chalice(app_name="probe")
    blueprint = Blueprint(__name__)

    @blueprint.route("/probe/{thing}")
    @api("probeThing", "A probe", params=(Param("other", "query", "not the path one"),))
    def probe_thing(thing: str) -> dict:
        return {"thing": thing}

    app.register_blueprint(blueprint)
    with pytest.raises(UndocumentedRoute, match="thing"):
        document(app.routes)


def test_the_app_document_carries_each_declaration():
    import app as app_module

    doc = document(app_module.app.routes)
    submit = doc["paths"]["/surveys/{survey_id}/responses"]["post"]
    assert submit["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Submission"}
    assert {"201", "200", "400", "409", "413", "415", "422", "500"} <= set(submit["responses"])
    dashboard = doc["paths"]["/admin/api/dashboard"]["get"]
    assert dashboard["x-permission"] == "results.read"
    version = next(p for p in doc["paths"]["/surveys/{survey_id}"]["get"]["parameters"] if p["name"] == "version")
    assert version["schema"]["pattern"] == "^[0-9]{1,9}$"  # the limit the API enforces, documented
