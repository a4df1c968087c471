"""Exploration: run everything, collect every failure without stopping."""

from __future__ import annotations

import collections
import json

import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis.checks import CHECKS

FAILS: list = []
CALLS: collections.Counter = collections.Counter()


@pytest.fixture(scope="module")
def api_schema(live_stack):
    token = live_stack.idp.issue("admin")
    config = schemathesis.Config.from_dict(
        {
            "seed": 2026,
            "generation": {"max-examples": 30, "deterministic": True, "mode": "all", "database": "none"},
            "phases": {"stateful": {"enabled": False}, "coverage": {"unexpected-methods": ["PUT", "DELETE", "PATCH"]}},
            "base-url": live_stack.api_url,
            "headers": {"Authorization": f"Bearer {token}"},
        }
    )
    import requests
    doc = requests.get(f"{live_stack.api_url}/openapi.json", timeout=30).json()
    for path_item in doc["paths"].values():
        for op in path_item.values():
            for param in op.get("parameters", []):
                if param["name"] == "survey_id":
                    param["example"] = "sipas-2026"
    loaded = schemathesis.openapi.from_dict(doc, config=config)

    @loaded.hook
    def flatmap_path_parameters(ctx, path_parameters):
        if "survey_id" in (path_parameters or {}):
            return st.sampled_from([{**path_parameters, "survey_id": "sipas-2026"}, path_parameters])
        return st.just(path_parameters)

    yield loaded
    print("CALLS", sum(CALLS.values()))
    for k, v in sorted(CALLS.items()):
        print(" ", k, v)
    print("FAILURES", len(FAILS))
    seen = set()
    for f in FAILS:
        key = (f[0], f[1], f[2])
        if key in seen:
            continue
        seen.add(key)
        print(json.dumps(f, default=str, ensure_ascii=False))


def check_case(case):
    names = [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "response_headers_conformance",
    ]
    resp = case.call()
    CALLS[(case.operation.label, resp.status_code, (case.path_parameters or {}).get("survey_id") == "sipas-2026", case.meta.phase.name.value if case.meta else None, str(case.meta.generation.mode.value) if case.meta else None)] += 1
    for n in names:
        chk = CHECKS.get_one(n)
        try:
            case.validate_response(resp, checks=[chk])
        except BaseException as exc:
            FAILS.append(
                (
                    case.operation.label,
                    n,
                    resp.status_code,
                    str(exc),
                    case.path_parameters,
                    case.query,
                    json.dumps(case.body, default=str) if not isinstance(case.body, type(schemathesis.core.NOT_SET)) else None,
                    case.media_type,
                    resp.text[:300],
                )
            )


def test_api(api_schema):
    from schemathesis.core.result import Ok
    from schemathesis.generation.feedback import FeedbackSources
    from schemathesis.pytest._test_builder import build_operation_test
    from schemathesis.python._constants.orchestrator import make_constants_value_source

    feedback = FeedbackSources(constants_value_source=make_constants_value_source(api_schema))
    import time
    for result in api_schema.get_all_operations():
        op = result.ok()
        t = time.monotonic()
        test = build_operation_test(config=api_schema.config, operation=op, test_func=check_case, given_kwargs={}, feedback=feedback)
        try:
            test()
        except BaseException as exc:
            print("RAISED", op.label, type(exc), str(exc)[:500])
        print("TIME", op.label, round(time.monotonic() - t, 2))
