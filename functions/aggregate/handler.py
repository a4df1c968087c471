"""Aggregate worker: the responses stream's records counted into the aggregates exactly once (CountingService)."""

from __future__ import annotations

from typing import Any

from chalicelib import wiring
from chalicelib.domain.counting import CountingService
from functions.batch import read_prefix
from functions.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any, counting: CountingService | None = None) -> dict[str, Any]:
    counting = counting or wiring.counting_service()
    batch = read_prefix(event, counting.read)
    outcome = counting.count(batch.items)
    metrics.add_metric(name="AggregateRecords", unit="Count", value=outcome.counted)
    metrics.add_metric(name="AggregateSkippedDuplicates", unit="Count", value=outcome.duplicates)
    metrics.add_metric(name="AggregateWriteRequests", unit="Count", value=outcome.requests)
    return batch.answer()
