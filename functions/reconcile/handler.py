"""Reconcile worker: recounts every stored response and reports any difference from the aggregates.

The aggregates are built incrementally from the stream; this is the independent proof that no
response was lost or counted twice. A difference right after a burst may be records still in the
stream; one that persists across two runs is a defect, and the alarm on the metric says so.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from chalicelib import wiring
from chalicelib.domain.aggregation import contribution, merge
from chalicelib.domain.responses import MalformedResponse, Response
from chalicelib.domain.survey import Survey
from functions.observability import logger, metrics


def expected_counts(survey: Survey, items: list[dict[str, Any]]) -> tuple[dict[tuple[str, str], dict[str, int]], int]:
    contributions, unreadable = [], 0
    for item in items:
        try:
            contributions.append(contribution(Response.from_item(item), survey))
        except MalformedResponse:
            unreadable += 1
    return merge(contributions), unreadable


def differences(expected: dict[tuple[str, str], dict[str, int]], actual: list[dict[str, Any]]) -> list[dict[str, Any]]:
    stored = {(str(i["pk"]), str(i["sk"])): {k: int(v) for k, v in i.items() if k not in ("pk", "sk")} for i in actual}
    out = []
    for key in sorted(set(expected) | set(stored)):
        want, have = expected.get(key, {}), stored.get(key, {})
        for cell in sorted(set(want) | set(have)):
            if want.get(cell, 0) != have.get(cell, 0):
                out.append(
                    {
                        "pk": key[0],
                        "sk": key[1],
                        "cell": cell,
                        "expected": want.get(cell, 0),
                        "actual": have.get(cell, 0),
                    }
                )
    return out


def reconcile_survey(survey: Survey) -> dict[str, Any]:
    items = list(wiring.responses().iter_survey(survey.key))
    expected, unreadable = expected_counts(survey, items)
    diffs = differences(expected, wiring.aggregates().scan_prefix(f"{survey.key}#"))
    now = datetime.now(timezone.utc)
    result = {
        "survey_id": survey.id,
        "survey_version": survey.version,
        "checked_at": now.isoformat(),
        "responses": len(items),
        "unreadable_responses": unreadable,
        "difference_count": len(diffs),
        "differences": diffs[:200],
    }
    key = f"reconcile/{survey.id}/v{survey.version}/{now.strftime('%Y%m%dT%H%M%SZ')}.json"
    wiring.reports_store().put(key, json.dumps(result, ensure_ascii=False, indent=2).encode(), "application/json")
    metrics.add_metric(name="ReconcileDifferences", unit="Count", value=len(diffs))
    if diffs:
        logger.warning("aggregates differ from a recount", extra={"survey": survey.key, "differences": len(diffs)})
    return result


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    detail = event.get("detail") or {}
    if detail.get("survey_id"):
        surveys = [wiring.surveys().get(str(detail["survey_id"]))]
    else:
        surveys = [s for s in wiring.surveys().list_current() if s.status in ("open", "closed")]
    return {"surveys": [reconcile_survey(s) for s in surveys]}
