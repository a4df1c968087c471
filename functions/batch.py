"""A stream batch as the workers see it: the readable prefix of its records, and the partial-batch answer.

The readable prefix is the records turned into domain objects, in order, up to the first that cannot
be (the poison record). A worker processes the prefix and reports the poison record as failed.

With ReportBatchItemFailures Lambda checkpoints before the first failed record and retries from it;
when retries run out it discards everything from that record on. So a poison record at the head of a
batch of several is reported as a function error instead: with BisectBatchOnFunctionError Lambda
splits the batch until the poison record is alone, and only that one-record batch reaches the
dead-letter queue. Records before a failure are done; records after it are redelivered.

Why not Powertools' BatchProcessor, whose default reports every failed record: it goes on past a
failure, so records after it are processed out of order (a response's later state before its
earlier one) and then redelivered anyway, since Lambda retries from the lowest failure; and a
reported failure at the head does not bisect (Lambda splits at the reported record, the start), so
the whole batch would retry until it expired into the dead-letter queue. Stopping at the first
failure and raising at the head avoids both. Other exceptions (the store down, a transaction
conflict) fail the invocation: every worker is idempotent, so the retried batch is harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from chalicelib.domain.changes import ResponseChange
from chalicelib.streams import response_change
from functions.observability import logger, metrics

T = TypeVar("T")


class PoisonRecordAtHead(RuntimeError):
    """The first record of a multi-record batch failed: fail the invocation so Lambda bisects."""


@dataclass(frozen=True)
class StreamBatch(Generic[T]):
    items: list[T]  # the readable prefix, as domain objects
    sequences: list[str]  # every record of the batch, in order
    poison: str | None = None  # the first unreadable record

    def answer(self) -> dict[str, Any]:
        return partial_batch_answer(self.sequences, self.poison)


def read_prefix(event: dict[str, Any], read: Callable[[ResponseChange], T]) -> StreamBatch[T]:
    """Each record as a ResponseChange through `read`, in order, until the first that raises."""
    records = list(DynamoDBStreamEvent(event).records)
    sequences = [str(r.dynamodb.sequence_number) if r.dynamodb else "" for r in records]
    items: list[T] = []
    for sequence, record in zip(sequences, records, strict=True):
        try:
            items.append(read(response_change(record)))
        except Exception:
            logger.exception("unreadable stream record", extra={"sequence": sequence})
            metrics.add_metric(name="PoisonRecords", unit="Count", value=1)
            return StreamBatch(items, sequences, sequence)
    return StreamBatch(items, sequences)


def read_images(event: dict[str, Any]) -> StreamBatch[tuple[str, dict[str, Any] | None]]:
    """Each record as (event name, its new image as plain Python) for tables other than the responses'."""
    from chalicelib.streams import to_plain

    records = list(DynamoDBStreamEvent(event).records)
    sequences = [str(r.dynamodb.sequence_number) if r.dynamodb else "" for r in records]
    items: list[tuple[str, dict[str, Any] | None]] = []
    for sequence, record in zip(sequences, records, strict=True):
        try:
            event_name = record.event_name
            name = event_name.name if event_name is not None else ""
            new = record.dynamodb.new_image if record.dynamodb else None
            items.append((str(name), to_plain(dict(new)) if new else None))
        except Exception:
            logger.exception("unreadable stream record", extra={"sequence": sequence})
            metrics.add_metric(name="PoisonRecords", unit="Count", value=1)
            return StreamBatch(items, sequences, sequence)
    return StreamBatch(items, sequences)


def read_changes(event: dict[str, Any]) -> StreamBatch[ResponseChange]:
    return read_prefix(event, _as_is)


def _as_is(change: ResponseChange) -> ResponseChange:
    return change


def partial_batch_answer(sequences: list[str], failed: str | None) -> dict[str, Any]:
    """Nothing failed: an empty list. Else the first failed record, or an exception when it heads the batch."""
    if failed is None:
        return {"batchItemFailures": []}
    if failed == sequences[0] and len(sequences) > 1:
        raise PoisonRecordAtHead(f"record {failed} failed at the head of a batch of {len(sequences)}")
    return {"batchItemFailures": [{"itemIdentifier": failed}]}
