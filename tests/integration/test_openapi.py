"""The OpenAPI document is served, valid, lists exactly the app's routes, and real answers match it."""

from __future__ import annotations

import json

import jsonschema
from openapi_spec_validator import validate

from tests.integration.helpers import fresh_submissions, http, post


def _resolve(document: dict, schema: dict) -> dict:
    """Inline the document's component refs so jsonschema can check an answer against a response schema."""
    return {**schema, "components": document["components"]} if "$ref" in schema else schema


def _check(document: dict, path: str, method: str, status: int, body: dict) -> None:
    spec = document["paths"][path][method]["responses"][str(status)]["content"]["application/json"]["schema"]
    ref = spec["$ref"].split("/")[-1] if "$ref" in spec else None
    schema = document["components"]["schemas"][ref] if ref else spec
    resolver_root = {"components": document["components"], **schema}
    jsonschema.validate(body, resolver_root, cls=jsonschema.Draft202012Validator)


def test_openapi_document_is_valid_and_covers_every_route(live_stack):
    from app import app

    status, document = http("GET", f"{live_stack.api_url}/openapi.json")
    assert status == 200
    validate(document)
    routes = {(path, method.lower()) for path, methods in app.routes.items() for method in methods}
    documented = {(path, method) for path, ops in document["paths"].items() for method in ops}
    assert routes == documented


def test_real_answers_match_the_documented_schemas(live_stack, sipas):
    _, document = http("GET", f"{live_stack.api_url}/openapi.json")
    submission = fresh_submissions(sipas, 1)[0]
    status, receipt = post(live_stack, submission)
    _check(document, "/surveys/{survey_id}/responses", "post", status, receipt)
    status, error = http("POST", f"{live_stack.api_url}/surveys/sipas-2026/responses", b"{", "application/json")
    _check(document, "/surveys/{survey_id}/responses", "post", status, error)
    status, results = http("GET", f"{live_stack.api_url}/surveys/sipas-2026/results?scope=all")
    _check(document, "/surveys/{survey_id}/results", "get", status, results)
    status, contract = http("GET", f"{live_stack.api_url}/surveys/sipas-2026")
    assert status == 200
    assert json.dumps(contract["submission_schema"])  # the compiled schema is served as JSON
    jsonschema.validate(submission, contract["submission_schema"])


def test_every_declared_operation_is_routed_and_every_route_declared():
    """Both ways: a declaration without a route, or a route without one, is a failure (not a silent gap)."""
    from app import app
    from chalicelib.api.operations import OPERATIONS

    routed = {entry.view_name for methods in app.routes.values() for entry in methods.values()}
    assert routed == set(OPERATIONS)
    ids = [op.operation_id for op in OPERATIONS.values()]
    assert len(ids) == len(set(ids))


def test_officials_routes_refuse_undocumented_query_parameters_and_citizens_pages_tolerate_them(live_stack):
    import requests

    api = live_stack.api_url
    bearer = {"Authorization": f"Bearer {live_stack.idp.issue('admin')}"}
    # a misspelt parameter of the officials' API is named, not silently ignored
    answer = requests.get(f"{api}/admin/api/surveys?inculde_drafts=1", headers=bearer, timeout=30)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == "invalid_query" and answer.json()["error"]["field"] == "inculde_drafts"
    assert requests.get(f"{api}/admin/api/surveys", headers=bearer, timeout=30).status_code == 200
    # the console says it in a page
    assert requests.get(f"{api}/admin/surveys?x=1", allow_redirects=False, timeout=30).status_code == 400
    # a link shared in Facebook or Zalo comes back with tracking parameters: the citizen still gets the form
    shared = requests.get(f"{api}/s/sipas-2026?fbclid=IwAR0x&utm_source=zalo", timeout=30)
    assert shared.status_code == 200 and 'id="survey"' in shared.text
    assert requests.get(f"{api}/surveys/sipas-2026?_=1733000000", timeout=30).status_code == 200
