"""Aggregate worker: every record of the responses stream becomes a delta of counters, applied exactly once.

Records are read in order; the first record that cannot be read (a poison record) stops the batch:
everything before it is applied and it is reported as failed, so Lambda retries from it, bisects it
down (functions/batch.py) and finally sends it alone to the dead-letter queue, blocking nothing.
Records already counted (at or below their response's marker) are skipped, so redelivered or
bisected batches count once. See chalicelib/store/aggregates.py for the marker rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from chalicelib import wiring
from chalicelib.domain.aggregation import Delta, contribution, delta, merge
from chalicelib.store.aggregates import TRANSACTION_ITEMS
from chalicelib.streams import response_change
from functions.batch import sequences_of, stream_response
from functions.observability import logger, metrics


@dataclass
class Counted:
    response_id: str
    sequence: str
    delta: Delta


def read_records(event: dict[str, Any]) -> tuple[list[Counted], str | None]:
    """Deltas of the readable prefix of the batch, and the sequence number of the first poison record."""
    counted: list[Counted] = []
    catalog = wiring.surveys()
    for record in DynamoDBStreamEvent(event).records:
        sequence = str(record.dynamodb.sequence_number) if record.dynamodb else ""
        try:
            change = response_change(record)
            image = change.new or change.old
            if image is None:
                continue
            survey = catalog.get(image.survey_id, image.survey_version)
            counted.append(
                Counted(
                    image.response_id,
                    change.sequence,
                    delta(contribution(change.new, survey), contribution(change.old, survey)),
                )
            )
        except Exception:
            logger.exception("unreadable stream record", extra={"sequence": sequence})
            metrics.add_metric(name="AggregatePoisonRecords", unit="Count", value=1)
            return counted, sequence
    return counted, None


def runs(pending: list[Counted]) -> list[tuple[Delta, dict[str, tuple[str | None, str]], list[Counted]]]:
    """Cut records into consecutive runs whose counters plus markers fit one transaction."""
    out = []
    current: list[Counted] = []
    keys: set[tuple[str, str]] = set()
    ids: set[str] = set()
    for item in pending:
        new_keys = keys | set(item.delta)
        new_ids = ids | {item.response_id}
        if current and len(new_keys) + len(new_ids) > TRANSACTION_ITEMS:
            out.append(current)
            current, keys, ids = [], set(), set()
            new_keys, new_ids = set(item.delta), {item.response_id}
        current.append(item)
        keys, ids = new_keys, new_ids
    if current:
        out.append(current)
    # The previous marker values are filled in by apply_batch, which knows what each earlier run wrote.
    return [(merge(i.delta for i in run), {i.response_id: (None, i.sequence) for i in run}, run) for run in out]


def apply_batch(event: dict[str, Any]) -> dict[str, Any]:
    counted, poison = read_records(event)
    repo = wiring.aggregates()
    seen = repo.markers(c.response_id for c in counted)
    fresh = [c for c in counted if c.response_id not in seen or int(c.sequence) > int(seen[c.response_id])]
    pending = [c for c in fresh if c.delta]  # a change that moves no counter needs no write and no marker
    writes = 0
    for merged, markers, run in runs(pending):
        for response_id, (_, new) in list(markers.items()):
            markers[response_id] = (seen.get(response_id), new)
        writes += repo.apply(merged, markers)
        for item in run:
            seen[item.response_id] = item.sequence
    metrics.add_metric(name="AggregateRecords", unit="Count", value=len(pending))
    metrics.add_metric(name="AggregateSkippedDuplicates", unit="Count", value=len(counted) - len(fresh))
    metrics.add_metric(name="AggregateWriteRequests", unit="Count", value=writes)
    return stream_response(sequences_of(event), [poison] if poison else [])


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return apply_batch(event)
