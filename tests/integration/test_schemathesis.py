"""Schemathesis against the live local stack's /openapi.json: no 5xx anywhere, and every answer as documented.

Each operation of the served document runs through schemathesis' phases — explicit examples, coverage (boundary
and invalid values, missing parameters, wrong methods) and fuzzing with valid and invalid data — with a bounded,
derandomized number of examples, so CI sees the same calls every run. Every call carries a national system
administrator's bearer token (public routes ignore it). Path parameters get a real value as their example
(survey "sipas-2026", agency "P01", province "01") and fuzzed cases swap in the real survey half of the time, so a
good share of the calls reach past the 404.

Every call goes through schemathesis' full set of checks: no 5xx, documented status codes, content types, headers
and bodies; invalid data rejected and valid data accepted as documented; unsupported methods refused; auth not
ignored. All distinct failures of an operation are collected (no stop at the first, no shrinking) and
reported together, each with a curl command that reproduces it; the server's traceback is in the captured log.

The operations run through `build_operation_test`, the function schemathesis' own pytest plugin uses: its lazy
`schemathesis.pytest.from_fixture` loader (the way to test a schema served by a fixture) sets
`request.node._nodeid`, which pytest 9.2 no longer has. Revisit when the pins move.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.feedback import FeedbackSources
from schemathesis.pytest._test_builder import build_operation_test
from schemathesis.python._constants.orchestrator import make_constants_value_source

log = logging.getLogger(__name__)

SURVEY = "sipas-2026"
EXAMPLES = {"survey_id": SURVEY, "agency": "P01", "code": "01"}  # real values: pages and counts, not only 404s
MAX_EXAMPLES = 30  # fuzzing cases per operation (valid and invalid together); coverage cases come on top
SEED = 2026
# Schemathesis' full set of response checks (max_response_time needs a budget: timings are for bench/).
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "unsupported_method",
    "allow_header_conformance",
    "use_after_free",
    "ensure_resource_availability",
    "ignored_auth",
    "object_level_authorization",
)
# Methods the coverage phase tries on each path besides the documented ones (every one must get a 4xx).
UNEXPECTED_METHODS = ["GET", "PUT", "POST", "DELETE", "OPTIONS", "PATCH", "TRACE", "QUERY"]
# Bodies whose rules go beyond what a JSON Schema can say: a schema-valid body these rules refuse is answered
# 400/422 with the rule's code and field (documented), so "valid data accepted" tolerates exactly those two there.
RULES_BEYOND_SCHEMA = {
    "POST /surveys/{survey_id}/responses": "the survey version's own compiled schema, places, honeypot",
    "POST /s/{survey_id}": "the form is shown again with each gap (required answers, province)",
    "POST /admin/api/agencies/{agency}/users": "national-only roles, taken usernames, e-mail shape",
    "PUT /admin/api/agencies/{agency}/users/{username}/access": "national-only roles, reachable scopes",
    "PUT /admin/api/agencies/{agency}/settings": "an origin must be a real web origin, never a public suffix",
    "POST /admin/api/surveys": "a definition's rules (ids, expressions, scoring, kinds and owners), a readable XLSForm",
    "POST /admin/api/surveys/{survey_id}/versions": "the same rules for the new draft, a readable XLSForm",
    "PUT /admin/api/surveys/{survey_id}/versions/{version}": "the same rules for the draft, a readable XLSForm",
    "PUT /admin/api/surveys/{survey_id}/versions/{version}/schedule": "closes_at after opens_at (and in the future once published)",
    "POST /admin/api/sampling/{year}/frames": "a readable CSV/XLSX whose rows name real provinces and communes (422 by row and column)",
    "POST /admin/api/sampling/{year}/samples": "the size given one way; provinces and certainty communes in the frame; a bounded sample",
    "PUT /admin/api/fieldwork/rechecks/{survey_id}/{version}/form": "each question a closed item of the survey version",
    "POST /admin/api/fieldwork/rechecks/{survey_id}/{version}/results/{response_id}": "only the form's questions",
    "PUT /admin/api/coding/{survey_id}/{version}/{question_id}/frame": "codes unique, patterns safe (the regex() rules)",
    "POST /admin/api/coding/{survey_id}/{version}/{question_id}/apply": "a code of the frame, a safe pattern",
    "POST /admin/api/coding/{survey_id}/{version}/{question_id}/answers/{response_id}": "a code of the frame, an answered question",
}
# Every accepted report request queues a report build: the real survey only as the example and coverage give it.
KEEP_FUZZED_SURVEY = {"POST /surveys/{survey_id}/reports"}


def _operations() -> list[str]:
    from app import app

    return sorted(f"{method} {path}" for path, methods in app.routes.items() for method in methods)


@pytest.fixture(scope="module")
def api_schema(live_stack: Any) -> Iterator[Any]:
    """The live document with real values as path-parameter examples, configured for a bounded, repeatable run."""
    document = requests.get(f"{live_stack.api_url}/openapi.json", timeout=30).json()
    for path_item in document["paths"].values():
        for operation in path_item.values():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter["name"] in EXAMPLES:
                    parameter["example"] = EXAMPLES[parameter["name"]]
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # The survey definition is a large, deep schema: hypothesis sometimes draws past its entropy budget
            # for it, which says nothing about the server. Those draws are skipped, not the operation.
            "suppress-health-check": ["data_too_large"],
            "base-url": live_stack.api_url,
            "headers": {"Authorization": f"Bearer {live_stack.idp.issue('admin')}"},
            "request-timeout": 30,
            "generation": {
                "mode": "all",
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",
            },
            "phases": {"coverage": {"unexpected-methods": UNEXPECTED_METHODS}},
        }
    )
    schema = schemathesis.openapi.from_dict(document, config=config)

    @schema.hook
    def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
        if path_parameters and "survey_id" in path_parameters and context.operation.label not in KEEP_FUZZED_SURVEY:
            return st.sampled_from([{**path_parameters, "survey_id": SURVEY}, path_parameters])
        return st.just(path_parameters)

    yield schema
    # Leave the stack settled for the tests after this module: the report requests made here go through.
    live_stack.drain(timeout=120)


@pytest.fixture(scope="module")
def feedback(api_schema: Any) -> FeedbackSources:
    return FeedbackSources(constants_value_source=make_constants_value_source(api_schema))


def _swapped_into_validity(case: Any, failure: Any) -> bool:
    """A case generated as invalid only for its survey id (and unknown query names) that the hook below made valid
    by swapping the real survey in: public routes accept unknown query names by design (chalicelib/api/operations),
    so its acceptance is right. Which cases those are depends on the document's constants, i.e. on every route."""
    if failure.title != "Schema-violating request accepted" or (case.path_parameters or {}).get("survey_id") != SURVEY:
        return False
    invalid = [line.strip() for line in failure.message.splitlines() if line.strip().startswith("- ")]
    return bool(invalid) and all(
        line.startswith(
            ("- path: violates `pattern` at /properties/survey_id", "- query: violates `additionalProperties`")
        )
        for line in invalid
    )


@pytest.mark.parametrize("label", _operations())
def test_operation_never_fails_on_the_server_and_answers_as_documented(
    api_schema: Any, feedback: FeedbackSources, label: str
) -> None:
    operation = api_schema.find_operation_by_label(label)
    assert operation is not None, f"{label} is routed but not in /openapi.json"
    checks = [getattr(schemathesis.checks, name) for name in CHECKS]
    statuses: Counter[int] = Counter()
    real_survey = 0
    failures: dict[tuple[str, int], str] = {}

    def call(case: Any) -> None:
        nonlocal real_survey
        response = case.call()
        statuses[response.status_code] += 1
        real_survey += (case.path_parameters or {}).get("survey_id") == SURVEY
        try:
            case.validate_response(response, checks=checks)
        except FailureGroup as group:
            for failure in group.exceptions:
                if (
                    label in RULES_BEYOND_SCHEMA
                    and failure.title == "Schema-valid request rejected"
                    and response.status_code in (400, 422)
                ):
                    continue
                if _swapped_into_validity(case, failure):
                    continue
                failures.setdefault((failure.title, response.status_code), group.message)

    run = build_operation_test(
        config=api_schema.config, operation=operation, test_func=call, given_kwargs={}, feedback=feedback
    )
    run()

    calls = sum(statuses.values())
    log.info("%s: %d calls, statuses %s, %d on %s", label, calls, dict(sorted(statuses.items())), real_survey, SURVEY)
    if failures:
        pytest.fail(f"{label}: {len(failures)} distinct failure(s) in {calls} calls\n\n" + "".join(failures.values()))
    assert calls > 0
    if "{survey_id}" in label and label not in KEEP_FUZZED_SURVEY:
        assert real_survey >= calls // 5, f"only {real_survey} of {calls} calls reached survey {SURVEY}"


@pytest.mark.parametrize("method", ["TRACE", "QUERY"])
def test_methods_the_local_server_does_not_route_get_a_4xx(live_stack: Any, method: str) -> None:
    """A method no route has is the client's mistake (405 for a known path), never a server error."""
    response = requests.request(method, f"{live_stack.api_url}/surveys", timeout=30)
    assert response.status_code < 500, f"{method} /surveys -> {response.status_code}"
