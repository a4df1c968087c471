"""The data lake: one JSON line per screened response state, partitioned by survey version and date.

What the lake may hold (Decree 13/2023/NĐ-CP), the rule written once here and kept by LakeArchive:

- never personal data: a row holds only the fields named in ROW_FIELDS and PARADATA_FIELDS, so no
  keyed identifier, key id, honeypot text, user agent or content hash, nor any attribute added later
  until it is named here;
- a withdrawn response keeps one tombstone row (TOMBSTONE_FIELDS: its id, survey and status) and no
  other: none of its answers, free text or place remains in any object, nor in an earlier version
  of one (the bucket is versioned, and an overwritten version is still a copy).

A response's partition is a function of the response (survey, version, date received), so when the
stream shows it withdrawn, or stripped of personal data by the retention job, the archive worker
rewrites that partition: every object is read, its rows put through the rule, an object that changed
is written back (deleted when nothing is left), then the earlier versions under the partition are
deleted. What a rewrite drops follows from the partition itself (its tombstones), not from the event
that asked for it, so a rewrite is idempotent: a redelivered batch changes nothing more, a crash half
way is finished by the retry, and two workers rewriting one partition at once converge, because each
repeats its pass until one changes nothing (whichever writes last then sees the other's tombstone).
An earlier state of a response cannot arrive after its withdrawal: a response's records are ordered
in one shard, and Lambda never returns to a record before one it has processed.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chalicelib.domain.changes import ResponseChange
from chalicelib.domain.privacy import holds_personal_data
from chalicelib.domain.responses import RECEIVED, WITHDRAWN, Response

LAKE_PREFIX = "responses"
CONTENT_TYPE = "application/gzip"
SEQUENCE = "_sequence"  # the stream record a row was written from: orders the states of a response
ROW_FIELDS = (
    "response_id",
    "survey_key",
    "survey_id",
    "survey_version",
    "status",
    "reasons",
    "channel",
    "agency",
    "location",
    "service",
    "province",
    "commune",
    "received_at",
    "screened_at",
    "answers",
    "paradata",
    "collection",  # a direct survey's selection (probability, weight) or a paper form's number and batch
    SEQUENCE,
)
PARADATA_FIELDS = (
    "started_at",
    "submitted_at",
    "page_ms",
    "client",
    "enumerator",
    "embed_origin",
    # the server's notes on attribution (chalicelib/domain/attribution.py)
    "rendered_at",
    "attribution",
    "claimed_channel",
    "embed_origin_check",
    # field interviews (chalicelib/domain/fieldwork.py)
    "ended_at",
    "duration_ms",
    "question_ms",
    "app_version",
    "gps_consent",
)
TOMBSTONE_FIELDS = ("response_id", "survey_key", "survey_id", "survey_version", "status", SEQUENCE)
MAX_PASSES = 5  # passes over one partition before giving up (the batch is then retried)


def partition_of(response: Response) -> str:
    day = (response.received_at or "0000-00-00")[:10]
    return f"{LAKE_PREFIX}/survey={response.survey_id}/version={response.survey_version}/date={day}"


def clean(row: dict[str, Any]) -> dict[str, Any]:
    """The row as the lake may hold it: a tombstone for a withdrawn response, else the named fields only."""
    if row.get("status") == WITHDRAWN:
        return {name: row[name] for name in TOMBSTONE_FIELDS if name in row}
    out = {name: row[name] for name in ROW_FIELDS if name in row}
    if isinstance(out.get("paradata"), dict):
        out["paradata"] = {name: value for name, value in out["paradata"].items() if name in PARADATA_FIELDS}
    return out


def lake_row(response: Response, sequence: str) -> dict[str, Any]:
    return clean({**response.to_item(), SEQUENCE: sequence})


def kept(rows: Iterable[dict[str, Any]], withdrawn: set[str] | None = None) -> list[dict[str, Any]]:
    """Rows as the lake may keep them: each cleaned, no row but the tombstone of a withdrawn response
    (`withdrawn`: the ids with a tombstone anywhere in the partition; by default, among these rows),
    the same state of a response once."""
    rows = [clean(row) for row in rows]
    gone = withdrawn if withdrawn is not None else _tombstoned(rows)
    out, seen = [], set()
    for row in rows:
        state = (row.get("response_id"), row.get(SEQUENCE))
        if (row.get("response_id") in gone and row.get("status") != WITHDRAWN) or state in seen:
            continue
        seen.add(state)
        out.append(row)
    return out


def _tombstoned(rows: Iterable[dict[str, Any]]) -> set[str]:
    return {str(row["response_id"]) for row in rows if row.get("status") == WITHDRAWN}


def needs_rewrite(change: ResponseChange) -> bool:
    """After this change the response's partition is rewritten: it was withdrawn, or its personal data removed."""
    new, old = change.new, change.old
    if new is None:
        return False
    return new.status == WITHDRAWN or (old is not None and holds_personal_data(old) and not holds_personal_data(new))


def encode(rows: Iterable[dict[str, Any]]) -> bytes:
    body = "".join(json.dumps(row, ensure_ascii=False, sort_keys=True) + "\n" for row in rows)
    return gzip.compress(body.encode("utf-8"), mtime=0)  # mtime 0: the same rows, the same bytes


def decode(blob: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(blob).decode("utf-8").splitlines() if line.strip()]


def latest_rows(objects: Iterable[bytes]) -> dict[str, dict[str, Any]]:
    """Newest state per response across lake objects (duplicates from retried batches collapse here).

    A withdrawn response's newest state is its tombstone (status "withdrawn", no answers): a reader
    counts it nowhere, as the aggregates do.
    """
    latest: dict[str, dict[str, Any]] = {}
    for blob in objects:
        for row in decode(blob):
            current = latest.get(row["response_id"])
            if current is None or int(row[SEQUENCE]) >= int(current[SEQUENCE]):
                latest[row["response_id"]] = row
    return latest


class LakeObjects(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...

    def get(self, key: str) -> bytes | None: ...

    def keys(self, prefix: str) -> Iterable[str]: ...

    def delete(self, key: str) -> None: ...

    def forget_history(self, prefix: str) -> int:
        """Delete every version under the prefix that is not an object's current one; how many went."""
        ...


class PartitionBusy(RuntimeError):
    """Passes over a partition kept changing it (other writers at work): fail the batch, it is retried."""


@dataclass(frozen=True)
class ArchiveOutcome:
    rows: int  # lines written for this batch's changes
    objects: int  # objects written for them
    rewritten: int  # existing objects rewritten or deleted by the personal-data rule
    forgotten: int  # earlier object versions deleted


class LakeArchive:
    """Appends a stream batch's screened states to the lake, then rewrites the partitions it must.

    Each batch writes one object per partition named by its first and last sequence numbers, so a
    redelivered batch rewrites the same object. A bisected retry may write a record into a second
    object: readers keep the newest line per response_id (latest_rows). A change the lake cannot see
    (the retention job's removal of personal data the lake never held) adds no line.
    """

    def __init__(self, store: LakeObjects, max_passes: int = MAX_PASSES) -> None:
        self._store, self._max_passes = store, max_passes

    def archive(self, changes: Sequence[ResponseChange]) -> ArchiveOutcome:
        batches: dict[str, list[dict[str, Any]]] = {}
        to_rewrite: set[str] = set()
        for change in changes:
            if change.new is None:
                continue  # a REMOVE: nothing to archive
            partition = partition_of(change.new)
            if (row := _visible_row(change)) is not None:
                batches.setdefault(partition, []).append(row)
            if needs_rewrite(change):
                to_rewrite.add(partition)
        rows = 0
        for partition, batch in batches.items():
            keep = kept(batch)  # a response accepted then withdrawn in one batch: its answers are never written
            self._store.put(
                f"{partition}/{batch[0][SEQUENCE]}-{batch[-1][SEQUENCE]}.jsonl.gz", encode(keep), CONTENT_TYPE
            )
            rows += len(keep)
        rewritten = forgotten = 0
        for partition in sorted(to_rewrite):
            changed, gone = self.rewrite(partition)
            rewritten, forgotten = rewritten + changed, forgotten + gone
        return ArchiveOutcome(rows, len(batches), rewritten, forgotten)

    def rewrite(self, partition: str) -> tuple[int, int]:
        """Every object of the partition as the rule allows, until a pass changes nothing; then its history
        forgotten. Returns (objects changed, versions forgotten). Safe to repeat, and to run on any partition."""
        changed = 0
        for _ in range(self._max_passes):
            moved = self._pass(f"{partition}/")
            changed += moved
            if not moved:
                return changed, self._store.forget_history(f"{partition}/")
        raise PartitionBusy(partition)

    def _pass(self, prefix: str) -> int:
        objects = {key: decode(blob) for key in self._store.keys(prefix) if (blob := self._store.get(key)) is not None}
        withdrawn = _tombstoned(row for rows in objects.values() for row in rows)
        changed = 0
        for key, rows in objects.items():
            keep = kept(rows, withdrawn)
            if keep == rows:
                continue
            if keep:
                self._store.put(key, encode(keep), CONTENT_TYPE)
            else:
                self._store.delete(key)
            changed += 1
        return changed


def _visible_row(change: ResponseChange) -> dict[str, Any] | None:
    """The lake row of the change's new state, unless it is unscreened or reads as the row of the state before."""
    if change.new is None or change.new.status == RECEIVED:
        return None
    row = lake_row(change.new, change.sequence)
    if change.old is not None and change.old.status != RECEIVED and lake_row(change.old, change.sequence) == row:
        return None
    return row
