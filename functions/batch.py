"""How a stream worker reports a record it cannot process, so the rest of the batch is never dropped.

With ReportBatchItemFailures Lambda checkpoints before the first failed record and retries from it;
when retries run out it discards everything from that record on. So a poison record at the head of a
batch of several is reported as a function error instead: with BisectBatchOnFunctionError Lambda
splits the batch until the poison record is alone, and only that one-record batch reaches the
dead-letter queue. Records before a failure are done; records after it are redelivered.
"""

from __future__ import annotations

from typing import Any


class PoisonRecordAtHead(RuntimeError):
    """The first record of a multi-record batch failed: fail the invocation so Lambda bisects."""


def stream_response(sequences: list[str], failed: list[str]) -> dict[str, Any]:
    if not failed:
        return {"batchItemFailures": []}
    first = min(failed, key=int)
    if first == sequences[0] and len(sequences) > 1:
        raise PoisonRecordAtHead(f"record {first} failed at the head of a batch of {len(sequences)}")
    return {"batchItemFailures": [{"itemIdentifier": first}]}


def sequences_of(event: dict[str, Any]) -> list[str]:
    return [str(r.get("dynamodb", {}).get("SequenceNumber", "")) for r in event.get("Records", [])]
