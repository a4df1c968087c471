"""Aggregate counters in DynamoDB, applied atomically with a per-response stream marker.

The marker rule (why per response, how runs and markers move) lives in chalicelib/domain/counting.py;
this is its store: one TransactWriteItems per run, the markers' old values as its conditions.
Markers expire after MARKER_DAYS (the stream keeps records 24 h), so they cost no storage for long.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from chalicelib.domain.aggregation import Delta, ItemKey
from chalicelib.domain.counting import TRANSACTION_ITEMS, MarkerMoved, Markers
from chalicelib.settings import settings
from chalicelib.store.aws import client

MARKER_SK = "-"
MARKER_DAYS = 3


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


class AggregateRepository:
    def __init__(self) -> None:
        self._table = settings().aggregates_table

    # --- reads ------------------------------------------------------------------------------
    def scope_items(self, pk: str) -> list[dict[str, Any]]:
        """Every status page of one (survey version, scope): one Query, O(cells), never a scan of responses."""
        return self._all("query", KeyConditionExpression="pk = :pk", ExpressionAttributeValues={":pk": {"S": pk}})

    def get_items(self, keys: Iterable[ItemKey]) -> list[dict[str, Any]]:
        ddb = client("dynamodb")
        wanted = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in keys]
        out: list[dict[str, Any]] = []
        for i in range(0, len(wanted), 100):
            request: dict[str, Any] = {self._table: {"Keys": wanted[i : i + 100]}}
            while request:
                page = ddb.batch_get_item(RequestItems=request)
                out.extend(_plain(x) for x in page["Responses"].get(self._table, []))
                request = page.get("UnprocessedKeys") or {}
        return out

    def scan_prefix(self, prefix: str) -> list[dict[str, Any]]:
        """All aggregate items whose pk starts with a survey key (reports and reconcile, not the live path)."""
        return self._all(
            "scan", FilterExpression="begins_with(pk, :p)", ExpressionAttributeValues={":p": {"S": prefix}}
        )

    def _all(self, operation: str, **kwargs: Any) -> list[dict[str, Any]]:
        pages = client("dynamodb").get_paginator(operation).paginate(TableName=self._table, **kwargs)
        return [_plain(item) for page in pages for item in page["Items"]]

    def markers(self, response_ids: Iterable[str]) -> dict[str, str]:
        """Last counted sequence number of each response (absent: never counted, or marker expired)."""
        items = self.get_items((_marker_pk(r), MARKER_SK) for r in sorted(set(response_ids)))
        return {str(i["pk"])[len(_MARKER_PREFIX) :]: str(i["seq"]) for i in items}

    # --- writes -----------------------------------------------------------------------------
    def apply(self, delta: Delta, markers: Markers) -> int:
        """Add the delta and move each response's marker (previous -> new) in one transaction.

        The caller (CountingService) cuts a batch into runs whose items fit one transaction,
        so every run is all-or-nothing and the markers say which runs landed. Returns requests made.
        """
        actions = [self._update(pk, sk, cells) for (pk, sk), cells in sorted(delta.items())]
        expires = int(time.time()) + MARKER_DAYS * 86400
        actions += [self._move_marker(rid, prev, new, expires) for rid, (prev, new) in sorted(markers.items())]
        if len(actions) > TRANSACTION_ITEMS:
            raise ValueError(f"{len(actions)} items do not fit one transaction")
        if not actions:
            return 0
        ddb = client("dynamodb")
        for attempt in range(5):
            try:
                ddb.transact_write_items(TransactItems=actions)
                return 1 + attempt
            except ddb.exceptions.TransactionCanceledException as exc:
                codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
                if "ConditionalCheckFailed" in codes:
                    if self._landed(markers):
                        return 1 + attempt  # our own earlier attempt landed (a retried request): done
                    raise MarkerMoved(", ".join(sorted(markers))) from exc
                if "TransactionConflict" not in codes or attempt == 4:
                    raise
                time.sleep(0.05 * 2**attempt)  # another shard's run touched the same counters
        return 5

    def _landed(self, markers: Markers) -> bool:
        """Every marker already holds the value this transaction sets: an earlier attempt of it committed."""
        current = self.markers(markers)
        return all(current.get(rid) == new for rid, (_, new) in markers.items())

    def _update(self, pk: str, sk: str, cells: dict[str, int]) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        parts = []
        value_names: dict[int, str] = {}
        for i, (cell, count) in enumerate(sorted(cells.items())):
            name = f"#{_b36(i)}"
            names[name] = cell
            if count not in value_names:
                value_names[count] = f":{_b36(len(value_names))}"
                values[value_names[count]] = _n(count)
            parts.append(f"{name} {value_names[count]}")
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                "UpdateExpression": "ADD " + ", ".join(parts),
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }

    def _move_marker(self, response_id: str, previous: str | None, new: str, expires: int) -> dict[str, Any]:
        condition = "attribute_not_exists(seq)" if previous is None else "seq = :prev"
        values: dict[str, Any] = {":seq": {"S": new}, ":exp": _n(expires)}
        if previous is not None:
            values[":prev"] = {"S": previous}
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"pk": {"S": _marker_pk(response_id)}, "sk": {"S": MARKER_SK}},
                "UpdateExpression": "SET seq = :seq, expires_at = :exp",
                "ConditionExpression": condition,
                "ExpressionAttributeValues": values,
            }
        }


_MARKER_PREFIX = "_seen#"


def _marker_pk(response_id: str) -> str:
    return _MARKER_PREFIX + response_id


_DIGITS = "0123456789abcdefghijklmnopqrstuvwxyz"


def _b36(i: int) -> str:
    out = ""
    while True:
        i, r = divmod(i, 36)
        out = _DIGITS[r] + out
        if not i:
            return out


def _plain(item: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in item.items():
        if "N" in value:
            out[key] = int(value["N"])
        elif "S" in value:
            out[key] = value["S"]
    return out
