"""The data lake: one JSON line per screened response state, partitioned by survey version and date."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.domain.responses import RECEIVED, Response
from chalicelib.streams import ResponseChange

LAKE_PREFIX = "responses"
CONTENT_TYPE = "application/gzip"


def partition_of(response: Response) -> str:
    day = (response.received_at or "0000-00-00")[:10]
    return f"{LAKE_PREFIX}/survey={response.survey_id}/version={response.survey_version}/date={day}"


def lake_row(response: Response, sequence: str) -> dict[str, Any]:
    """Microdata without personal identifiers: the keyed hashes stay in DynamoDB only."""
    row = response.to_item()
    row.pop("identifiers", None)
    row.pop("honeypot", None)
    row["_sequence"] = sequence
    return row


def encode(rows: Iterable[dict[str, Any]]) -> bytes:
    body = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
    return gzip.compress(body.encode("utf-8"), mtime=0)  # mtime 0: the same rows, the same bytes


def decode(blob: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(blob).decode("utf-8").splitlines() if line.strip()]


def latest_rows(objects: Iterable[bytes]) -> dict[str, dict[str, Any]]:
    """Newest state per response across lake objects (duplicates from retried batches collapse here)."""
    latest: dict[str, dict[str, Any]] = {}
    for blob in objects:
        for row in decode(blob):
            current = latest.get(row["response_id"])
            if current is None or int(row["_sequence"]) >= int(current["_sequence"]):
                latest[row["response_id"]] = row
    return latest


class LakeObjects(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...


@dataclass(frozen=True)
class ArchiveOutcome:
    rows: int  # lines written
    objects: int  # objects written


class LakeArchive:
    """Appends the screened states of a stream batch to the lake.

    Each batch writes one object per partition named by its first and last sequence numbers, so a
    redelivered batch rewrites the same object. A bisected retry may write a record into a second
    object: readers of the lake keep the newest line per response_id (latest_rows).
    """

    def __init__(self, store: LakeObjects) -> None:
        self._store = store

    def archive(self, changes: Sequence[ResponseChange]) -> ArchiveOutcome:
        partitions: dict[str, list[dict[str, Any]]] = {}
        for change in changes:
            response = change.new
            if response is None or response.status == RECEIVED:
                continue
            partitions.setdefault(partition_of(response), []).append(lake_row(response, change.sequence))
        for partition, rows in partitions.items():
            key = f"{partition}/{rows[0]['_sequence']}-{rows[-1]['_sequence']}.jsonl.gz"
            self._store.put(key, encode(rows), CONTENT_TYPE)
        return ArchiveOutcome(sum(len(rows) for rows in partitions.values()), len(partitions))
