"""Reconcile worker (hourly, or for one survey on request): a recount of the responses against the aggregates."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from chalicelib import wiring
from chalicelib.domain.reconciliation import ReconcileService
from functions.observability import logger, metrics

LOGGED = ("survey_id", "survey_version", "difference_count")


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any, reconcile: ReconcileService | None = None) -> dict[str, Any]:
    detail = EventBridgeEvent(event).detail or {}
    results = (reconcile or wiring.reconcile_service()).reconcile(detail.get("survey_id"))
    for result in results:
        metrics.add_metric(name="ReconcileDifferences", unit="Count", value=result["difference_count"])
        if result["difference_count"]:
            logger.warning("aggregates differ from a recount", extra={k: result[k] for k in LOGGED})
    return {"surveys": results}
