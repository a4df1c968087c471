"""Retention worker (scheduled daily): strips keyed hashes and user agents past each survey's retention period.

An operator may pass {"detail": {"now": "<ISO time>"}} to evaluate the rule at another moment (the
tests do); the period itself always comes from the survey definition.
"""

from __future__ import annotations

from typing import Any

from chalicelib import wiring
from chalicelib.domain.survey import parse_time
from functions.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    detail = event.get("detail") or {}
    now = parse_time(str(detail["now"])) if detail.get("now") else None
    runs = []
    for survey in wiring.surveys().list_current():
        run = wiring.privacy_service().strip_expired(survey, now)
        metrics.add_metric(name="PersonalDataStripped", unit="Count", value=run.stripped)
        runs.append({"survey": run.survey_key, "received_before": run.cutoff, "stripped": run.stripped})
    return {"runs": runs}
