"""Small helpers for the chain tests: HTTP calls, generated submissions, results and table snapshots."""

from __future__ import annotations

import itertools
import json
import urllib.error
import urllib.request
from datetime import datetime, timezone
from typing import Any

from chalicelib.reference.geography import load_geography
from infra.local.seed.responses import generate_submissions

_seeds = itertools.count(1000)


def http(
    method: str, url: str, body: bytes | None = None, content_type: str = "application/json"
) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        url, data=body, method=method, headers={"Content-Type": content_type} if body is not None else {}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def fresh_submissions(definition: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """n new realistic submissions (fresh ULIDs every call), timed now so the survey is open."""
    return generate_submissions(
        definition, load_geography("vn-2025"), n, seed=next(_seeds), now=datetime.now(timezone.utc)
    )


def post(stack: Any, submission: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return http(
        "POST",
        f"{stack.api_url}/surveys/{submission.get('survey_id', 'sipas-2026')}/responses",
        json.dumps(submission).encode(),
    )


def results(stack: Any, scope: str = "all", include_flagged: bool = False) -> dict[str, Any]:
    flag = "&include_flagged=1" if include_flagged else ""
    status, body = http("GET", f"{stack.api_url}/surveys/sipas-2026/results?scope={scope}{flag}")
    assert status == 200, body
    return body


def screened_total(stack: Any) -> int:
    counts = results(stack)["counts"]
    return counts["accepted"] + counts["flagged"] + counts["rejected"]


def table_items(stack: Any, logical_id: str) -> list[dict[str, Any]]:
    ddb = stack.client("dynamodb")
    items: list[dict[str, Any]] = []
    for page in ddb.get_paginator("scan").paginate(TableName=stack.physical_id(logical_id), ConsistentRead=True):
        items.extend(page["Items"])
    return sorted(items, key=lambda i: json.dumps(i, sort_keys=True))


def reconcile(stack: Any) -> dict[str, Any]:
    out = stack.invoke("ReconcileFunction", stack.eventbridge_event("aws.events", "Scheduled Event", {}))
    return next(s for s in out["surveys"] if s["survey_id"] == "sipas-2026")
