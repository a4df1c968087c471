"""Retention worker (scheduled daily): keyed hashes and user agents removed past each survey's retention period.

An operator may pass {"detail": {"now": "<ISO time>"}} to evaluate the rule at another moment (the
tests do); the period itself always comes from the survey definition.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from chalicelib import wiring
from chalicelib.domain.jobs import SurveyCatalog
from chalicelib.domain.privacy import PrivacyService
from chalicelib.domain.survey import parse_time
from functions.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
def handler(
    event: dict[str, Any], context: Any, privacy: PrivacyService | None = None, catalog: SurveyCatalog | None = None
) -> dict[str, Any]:
    detail = EventBridgeEvent(event).detail or {}
    now = parse_time(str(detail["now"])) if detail.get("now") else None
    surveys = (catalog or wiring.surveys()).list_current()
    runs = (privacy or wiring.privacy_service()).strip_all_expired(surveys, now)
    metrics.add_metric(name="PersonalDataStripped", unit="Count", value=sum(run.stripped for run in runs))
    return {"runs": [{"survey": r.survey_key, "received_before": r.cutoff, "stripped": r.stripped} for r in runs]}
