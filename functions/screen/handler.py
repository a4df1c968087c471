"""Screen worker: each newly received response on the stream screened once (accepted, flagged or rejected, with reasons)."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any

from chalicelib import wiring
from chalicelib.domain.screening import ScreeningService
from functions.batch import read_changes
from functions.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any, screening: ScreeningService | None = None) -> dict[str, Any]:
    batch = read_changes(event)
    service = screening or wiring.screening_service()
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    verdicts = {c.new.response_id: v for c in batch.items if c.new and (v := service.screen(c.new, now))}
    for status, count in Counter(v.status for v in verdicts.values()).items():
        metrics.add_metric(name=f"Responses{status.title()}", unit="Count", value=count)
    for response_id, verdict in verdicts.items():
        if verdict.reasons:
            logger.info("response screened", extra={"response_id": response_id, "reasons": verdict.reasons})
    return batch.answer()
