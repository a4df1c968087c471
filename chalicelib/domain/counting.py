"""Counting response changes into the aggregates exactly once, however Lambda redelivers them.

Why a marker per response and not one per batch: Lambda may redeliver a batch whole, cut in halves
(bisect on error) or from a failed record onwards, and a DynamoDB stream record does not name its
shard, so neither a batch nor a shard position is a stable identity. A response's own records are:
they arrive in order in one shard. So each response has a marker, the sequence number of its last
counted record, and the rule is:

- a record at or below its response's marker was counted already and is skipped;
- the fresh records are cut into consecutive runs whose counters plus markers fit one transaction;
- each run adds its deltas and moves every touched response's marker from the value read before
  (the store's, or the one the previous run set) to the run's last record for that response, all in
  one transaction whose condition is the old marker value.

A crash between runs leaves the landed runs' markers moved, so a retry skips them; the condition makes
a concurrent or replayed writer fail instead of counting twice. A change that moves no counter is
neither written nor marked: counting it again changes nothing either.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

from chalicelib.domain.aggregation import Delta, contribution, delta, merge
from chalicelib.domain.changes import ResponseChange
from chalicelib.domain.responses import MalformedResponse
from chalicelib.domain.survey import Survey

TRANSACTION_ITEMS = 100  # DynamoDB's limit of actions per TransactWriteItems

Markers = dict[str, tuple[str | None, str]]  # response id -> (marker read before, marker after)


class MarkerMoved(RuntimeError):
    """A response's marker moved since we read it (a replay raced us): fail the batch, it is retried."""


class SurveyLookup(Protocol):
    def get(self, survey_id: str, version: int | None = None) -> Survey: ...


class AggregateStore(Protocol):
    def markers(self, response_ids: Iterable[str]) -> dict[str, str]:
        """Last counted sequence number of each response that has one."""
        ...

    def apply(self, delta: Delta, markers: Markers) -> int:
        """Add the delta and move the markers in one transaction; raises MarkerMoved when a marker is not
        what the caller read (unless all already hold their new values). Returns the requests made."""
        ...


@dataclass(frozen=True)
class Counted:
    """One stream record as counting sees it: whose change it is, where it stands, what it adds."""

    response_id: str
    sequence: str
    delta: Delta


@dataclass(frozen=True)
class CountOutcome:
    counted: int  # records whose delta was applied
    duplicates: int  # records at or below their response's marker: counted before
    transactions: int  # runs applied
    requests: int  # requests the store made, retries included


class CountingService:
    def __init__(
        self, catalog: SurveyLookup, store: AggregateStore, transaction_items: int = TRANSACTION_ITEMS
    ) -> None:
        self._catalog, self._store, self._limit = catalog, store, transaction_items

    def read(self, change: ResponseChange) -> Counted:
        """What one record adds: contribution(after) − contribution(before). Raises for a record it cannot count."""
        image = change.new or change.old
        if image is None:
            raise MalformedResponse(f"stream record {change.sequence} carries no image")
        survey = self._catalog.get(image.survey_id, image.survey_version)
        return Counted(
            image.response_id,
            change.sequence,
            delta(contribution(change.new, survey), contribution(change.old, survey)),
        )

    def count(self, records: Sequence[Counted]) -> CountOutcome:
        """Apply the records not counted yet, in order, run by run (see the module's rule)."""
        seen = self._store.markers({r.response_id for r in records})
        fresh = [r for r in records if r.response_id not in seen or int(r.sequence) > int(seen[r.response_id])]
        pending = [r for r in fresh if r.delta]
        requests = 0
        runs = self.runs(pending)
        for run in runs:
            markers: Markers = {r.response_id: (seen.get(r.response_id), r.sequence) for r in run}
            requests += self._store.apply(merge(r.delta for r in run), markers)
            seen.update({response_id: new for response_id, (_, new) in markers.items()})
        return CountOutcome(len(pending), len(records) - len(fresh), len(runs), requests)

    def runs(self, records: Sequence[Counted]) -> list[list[Counted]]:
        """Consecutive runs whose counters plus markers fit one transaction."""
        out: list[list[Counted]] = []
        current: list[Counted] = []
        keys: set[tuple[str, str]] = set()
        ids: set[str] = set()
        for record in records:
            more_keys, more_ids = keys | set(record.delta), ids | {record.response_id}
            if current and len(more_keys) + len(more_ids) > self._limit:
                out.append(current)
                current, more_keys, more_ids = [], set(record.delta), {record.response_id}
            current.append(record)
            keys, ids = more_keys, more_ids
        if current:
            out.append(current)
        return out
