"""Lambda's event source mappings locally: a DynamoDB stream poller per function and shard, a rule poller.

The stream poller does what an event source mapping does: batches of BatchSize records read in
order, FilterCriteria, the batching window, partial batch responses, bisection on error, bounded
retries and record age, the on-failure record, and a checkpoint per consumer and shard.
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Protocol

from botocore.exceptions import ClientError

from infra.local.eventbridge import matches_pattern
from infra.local.persistence import Checkpoints
from infra.local.runtime import FunctionError, iso, now
from infra.local.template import FunctionSpec, StreamSource
from infra.local.wire import item_to_wire

log = logging.getLogger("infra.local")


class PollerHost(Protocol):
    """What a poller needs of the stack that runs it."""

    region: str
    checkpoints: Checkpoints

    @property
    def stopping(self) -> bool: ...

    def client(self, service: str) -> Any: ...

    def call(self, spec: FunctionSpec, event: Any) -> Any: ...

    def invoke_async(self, spec: FunctionSpec, event: Any) -> Any: ...

    def resolve(self, expr: Any) -> str | None: ...

    def send_to_destination(self, arn: str, message: dict[str, Any]) -> None: ...

    def moto_stream_shard(self, stream_arn: str, shard_id: str) -> Any: ...


class Interrupted(Exception):
    """A stream delivery stopped early (stack stopping or drain deadline); its records stay pending."""


def lambda_record(raw: dict[str, Any], stream_arn: str, region: str) -> dict[str, Any]:
    """A GetRecords record in the shape Lambda hands to a DynamoDB-stream function."""
    source = raw["dynamodb"]
    created = source.get("ApproximateCreationDateTime")
    if isinstance(created, datetime):
        # moto keeps naive UTC datetimes; boto3 hands back aware ones.
        created = int((created if created.tzinfo else created.replace(tzinfo=timezone.utc)).timestamp())
    record: dict[str, Any] = {"ApproximateCreationDateTime": created, "Keys": item_to_wire(source["Keys"])}
    for image in ("NewImage", "OldImage"):
        if image in source:
            record[image] = item_to_wire(source[image])
    record.update(
        SequenceNumber=source["SequenceNumber"],
        SizeBytes=source.get("SizeBytes", 0),
        StreamViewType=source.get("StreamViewType", "NEW_AND_OLD_IMAGES"),
    )
    shaped = {
        "eventID": raw["eventID"],
        "eventName": raw["eventName"],
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": record,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in raw:  # TTL deletions carry the service principal
        shaped["userIdentity"] = raw["userIdentity"]
    return shaped


def _seq(record: dict[str, Any]) -> str:
    return record["dynamodb"]["SequenceNumber"]


@dataclass
class _Outcome:
    ok: bool
    retry_from: int | None = None  # index of the first record to retry after a partial failure
    function_error: str | None = None  # "Unhandled" when the handler raised


# ------------------------------------------------------------------------------------------ stream poller


class StreamPoller:
    """Lambda's event source mapping for one function, one stream, one shard."""

    def __init__(
        self, stack: PollerHost, spec: FunctionSpec, source: StreamSource, stream_arn: str, shard_id: str
    ) -> None:
        self.stack = stack
        self.spec = spec
        self.source = source
        self.stream_arn = stream_arn
        self.shard_id = shard_id
        self.consumer = f"{spec.logical_id}/{source.name}"
        self.name = self.consumer
        self.lock = threading.Lock()
        self._iterator: str | None = None  # reading through the API
        self._shard: Any = None  # reading moto's memory (see PollerHost.moto_stream_shard)
        self._next_seq = 0
        self._buffer: list[tuple[dict[str, Any], float]] = []  # (record, local arrival time)
        self._last_fetched: str | None = None
        self._start: tuple[str, str | None] = ("TRIM_HORIZON", None)

    def open(self, start_at_latest: bool) -> None:
        """Position the poller: after its checkpoint, else LATEST after a restore, else StartingPosition."""
        checkpoint = self.stack.checkpoints.get(self.consumer, self.stream_arn, self.shard_id)
        if checkpoint is not None:
            kind, seq = "AFTER_SEQUENCE_NUMBER", checkpoint
        elif start_at_latest:
            kind, seq = "LATEST", None
        else:
            kind, seq = self.source.starting_position, None
        self._start = (kind, seq)
        self._shard = self.stack.moto_stream_shard(self.stream_arn, self.shard_id)
        if self._shard is None:
            try:
                self._iterator = self._get_iterator(kind, seq)
            except ClientError:
                if kind != "AFTER_SEQUENCE_NUMBER":
                    raise
                # A checkpoint older than the restored stream's first record: what lies between
                # was processed before the snapshot (see persistence.py), so start at the first.
                self._iterator = self._get_iterator("TRIM_HORIZON")
        elif kind == "AFTER_SEQUENCE_NUMBER":
            self._next_seq = max(int(seq) + 1, self._shard.starting_sequence_number)  # type: ignore[arg-type]
        elif kind == "LATEST":
            self._next_seq = self._shard.starting_sequence_number + len(self._shard.items)
        else:
            self._next_seq = self._shard.starting_sequence_number

    def _get_iterator(self, kind: str, seq: str | None = None) -> str:
        params: dict[str, Any] = {"StreamArn": self.stream_arn, "ShardId": self.shard_id, "ShardIteratorType": kind}
        if seq is not None:
            params["SequenceNumber"] = seq
        return self.stack.client("dynamodbstreams").get_shard_iterator(**params)["ShardIterator"]

    def poll_once(self, force: bool = False, deadline: float | None = None) -> int:
        """Fetch and deliver at most one batch; the number of stream records consumed (0: nothing to do)."""
        if not self.source.enabled:
            return 0
        with self.lock:
            try:
                self._fetch()
                return self._process_next(force, deadline)
            except Interrupted:
                self._drop_committed()
                return 0
            finally:
                self.stack.checkpoints.flush()

    def pending(self) -> int:
        return len(self._buffer)

    def _fetch(self) -> None:
        if len(self._buffer) >= 1000:
            return
        if self._shard is not None:
            self._fetch_in_process()
        elif self._iterator is not None:
            self._fetch_through_api()

    def _fetch_in_process(self) -> None:
        """GetRecords without the HTTP round trip: moto's serialiser costs ~14 ms per response record.

        The records are the very dicts moto would serialise (copied), so the Lambda event is the
        same; tests compare both paths.
        """
        offset = self._next_seq - self._shard.starting_sequence_number
        raws = [copy.deepcopy(r.to_json()) for r in self._shard.items[offset : offset + 1000]]
        arrived = time.monotonic()
        for raw in raws:
            self._buffer.append((lambda_record(raw, self.stream_arn, self.stack.region), arrived))
        self._next_seq += len(raws)

    def _fetch_through_api(self) -> None:
        streams = self.stack.client("dynamodbstreams")
        previous = self._iterator
        try:
            response = streams.get_records(ShardIterator=previous, Limit=1000)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ExpiredIteratorException":
                raise
            # Iterators expire after 15 minutes on AWS; resume right after what we already hold.
            self._iterator = (
                self._get_iterator("AFTER_SEQUENCE_NUMBER", self._last_fetched)
                if self._last_fetched
                else self._get_iterator(*self._start)
            )
            return
        self._iterator = response.get("NextShardIterator")  # None once a shard is closed
        arrived = time.monotonic()
        for raw in response.get("Records", []):
            self._buffer.append((lambda_record(raw, self.stream_arn, self.stack.region), arrived))
            self._last_fetched = raw["dynamodb"]["SequenceNumber"]

    def _next_batch(self) -> tuple[list[dict[str, Any]], int]:
        """Up to BatchSize records passing the filters, and how many buffered records that consumes."""
        batch: list[dict[str, Any]] = []
        for index, (record, _) in enumerate(self._buffer):
            if not self.source.filters or any(matches_pattern(f, record) for f in self.source.filters):
                batch.append(record)
                if len(batch) == self.source.batch_size:
                    return batch, index + 1
        return batch, len(self._buffer)

    def _process_next(self, force: bool, deadline: float | None) -> int:
        if not self._buffer:
            return 0
        batch, span = self._next_batch()
        waited = time.monotonic() - self._buffer[0][1]
        if batch and not force and len(batch) < self.source.batch_size and waited < self.source.batching_window:
            return 0  # MaximumBatchingWindowInSeconds: gather more records first
        if batch:
            self._deliver(batch, deadline)
        # Records the filters dropped count as processed: the checkpoint moves past them too.
        self._commit(self._buffer[span - 1][0])
        del self._buffer[:span]
        return span

    def _commit(self, record: dict[str, Any]) -> None:
        self.stack.checkpoints.advance(self.consumer, self.stream_arn, self.shard_id, _seq(record))

    def _drop_committed(self) -> None:
        checkpoint = self.stack.checkpoints.get(self.consumer, self.stream_arn, self.shard_id)
        if checkpoint is not None:
            self._buffer = [(r, t) for r, t in self._buffer if int(_seq(r)) > int(checkpoint)]

    def _deliver(self, records: list[dict[str, Any]], deadline: float | None) -> None:
        """Invoke until the records succeed or are discarded, as Lambda does for a stream batch.

        A handler exception splits the batch in two when BisectBatchOnFunctionError is on (the
        split costs no retry); a partial batch response checkpoints before the lowest failed
        SequenceNumber and retries from it; each failed invocation of the same records counts
        against MaximumRetryAttempts, after which the records go to the on-failure destination.
        Retries are immediate (AWS backs off): local runs and tests stay fast.
        """
        failures = 0
        while True:
            outcome = self._attempt(records)
            if outcome.ok:
                self._commit(records[-1])
                return
            if outcome.retry_from:
                self._commit(records[outcome.retry_from - 1])
                records = records[outcome.retry_from :]
            elif outcome.function_error and self.source.bisect and len(records) > 1:
                half = len(records) // 2
                self._deliver(records[:half], deadline)
                self._deliver(records[half:], deadline)
                return
            failures += 1
            condition = self._exhausted(failures, records)
            if condition:
                self._discard(records, failures, outcome, condition)
                self._commit(records[-1])
                return
            if self.stack.stopping or (deadline is not None and time.monotonic() > deadline):
                raise Interrupted
            if self.source.max_retries < 0:
                time.sleep(min(0.1 * 2**failures, 2.0))  # infinite retries: at least do not spin

    def _exhausted(self, failures: int, records: list[dict[str, Any]]) -> str | None:
        if 0 <= self.source.max_retries < failures:
            return "RetryAttemptsExhausted"
        created = records[0]["dynamodb"].get("ApproximateCreationDateTime")
        if (
            self.source.max_record_age >= 0
            and created is not None
            and time.time() - created > self.source.max_record_age
        ):
            return "RecordAgeExceeded"  # condition name as we understand Lambda's; not verified
        return None

    def _attempt(self, records: list[dict[str, Any]]) -> _Outcome:
        try:
            result = self.stack.call(self.spec, {"Records": copy.deepcopy(records)})
        except Exception:
            log.warning(
                "%s failed on %d record(s) from %s", self.spec.logical_id, len(records), _seq(records[0]), exc_info=True
            )
            return _Outcome(ok=False, function_error="Unhandled")
        if not self.source.report_failures or not isinstance(result, dict):
            return _Outcome(ok=True)
        failures = result.get("batchItemFailures")
        if not failures:
            return _Outcome(ok=True)  # null or empty list: complete success
        sequence = [_seq(r) for r in records]
        indexes = []
        for failure in failures:
            ident = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not ident or ident not in sequence:
                # Lambda treats an empty, null or unknown identifier as a failure of the whole batch.
                log.warning("%s returned an unusable batchItemFailures entry %r", self.spec.logical_id, failure)
                return _Outcome(ok=False, function_error="Unhandled")
            indexes.append(sequence.index(ident))
        first = min(indexes)
        log.info(
            "%s reported %d failed record(s); retrying from %s", self.spec.logical_id, len(indexes), sequence[first]
        )
        return _Outcome(ok=False, retry_from=first)

    def _discard(self, records: list[dict[str, Any]], invocations: int, outcome: _Outcome, condition: str) -> None:
        def arrival(record: dict[str, Any]) -> str:
            created = record["dynamodb"].get("ApproximateCreationDateTime") or time.time()
            return iso(datetime.fromtimestamp(created, timezone.utc))

        response_context: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
        if outcome.function_error:
            response_context["functionError"] = outcome.function_error
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.spec.arn,
                "condition": condition,
                "approximateInvokeCount": invocations,
            },
            "responseContext": response_context,
            "version": "1.0",
            "timestamp": iso(now(), millis=True),
            "DDBStreamBatchInfo": {
                "shardId": self.shard_id,
                "startSequenceNumber": _seq(records[0]),
                "endSequenceNumber": _seq(records[-1]),
                "approximateArrivalOfFirstRecord": arrival(records[0]),
                "approximateArrivalOfLastRecord": arrival(records[-1]),
                "batchSize": len(records),
                "streamArn": self.stream_arn,
            },
        }
        destination = self.stack.resolve(self.source.on_failure) if self.source.on_failure is not None else None
        log.error(
            "%s: discarding %d record(s) %s..%s (%s)",
            self.spec.logical_id,
            len(records),
            _seq(records[0]),
            _seq(records[-1]),
            condition,
        )
        if destination:
            self.stack.send_to_destination(destination, message)


class RulePoller:
    """An EventBridgeRule event: moto delivers matching events to a local queue; we invoke from it."""

    def __init__(self, stack: PollerHost, spec: FunctionSpec, queue_url: str) -> None:
        self.stack = stack
        self.spec = spec
        self.queue_url = queue_url
        self.name = f"{spec.logical_id}/rules"
        self.lock = threading.Lock()

    def poll_once(self, force: bool = False, deadline: float | None = None) -> int:  # noqa: ARG002 - the pollers' common signature
        with self.lock:
            sqs = self.stack.client("sqs")
            messages = sqs.receive_message(QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
                "Messages", []
            )
            for message in messages:
                with contextlib.suppress(FunctionError):  # already logged and sent to its destination
                    self.stack.invoke_async(self.spec, json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"])
            return len(messages)


class Poller(Protocol):
    name: str
    lock: threading.Lock

    def poll_once(self, force: bool = False, deadline: float | None = None) -> int: ...
