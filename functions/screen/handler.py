"""Screen worker: INSERT records of the responses stream -> status accepted/flagged/rejected with reason codes."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from chalicelib import wiring
from chalicelib.streams import response_change
from functions.batch import sequences_of, stream_response
from functions.observability import logger, metrics

processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


verdicts: Counter[str] = Counter()  # per invocation: one metric value per status, not one per record


def screen_record(record: DynamoDBRecord) -> None:
    change = response_change(record)
    if change.new is None:
        return
    now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    verdict = wiring.screening_service().screen(change.new, now)
    if verdict is not None:
        verdicts[verdict.status] += 1
        if verdict.reasons:
            logger.info("response screened", extra={"response_id": change.new.response_id, "reasons": verdict.reasons})


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    verdicts.clear()
    result = process_partial_response(event=event, record_handler=screen_record, processor=processor, context=context)
    for status, count in verdicts.items():
        metrics.add_metric(name=f"Responses{status.title()}", unit="Count", value=count)
    failed = [str(f["itemIdentifier"]) for f in result.get("batchItemFailures", [])]
    return stream_response(sequences_of(event), failed)
