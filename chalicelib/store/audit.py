"""The audit table: one hash chain of entries plus a head item, written only by appending.

Layout: entries at pk "chain", sk the zero-padded seq ("000000000123"), so a Query reads them in
order; the head at pk "head", sk "chain" holds the last seq and hash. An append is ONE transaction:
put the entry if its key is free, and move the head only if it is still where the writer read it.
Two officials saving at once cannot both take seq N; the loser gets AuditConflict and re-links.
There is deliberately no update or delete method: corrections are new entries.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from chalicelib.domain.audit import Actor, AuditConflict, AuditEntry, canonical_json
from chalicelib.domain.errors import EditConflict
from chalicelib.settings import settings
from chalicelib.store.aws import client

CHAIN_PK = "chain"
HEAD_KEY = {"pk": {"S": "head"}, "sk": {"S": "chain"}}
SEQ_DIGITS = 12


def seq_key(seq: int) -> str:
    return f"{seq:0{SEQ_DIGITS}d}"


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def to_item(entry: AuditEntry) -> dict[str, Any]:
    """DynamoDB JSON; before/after as canonical JSON text, so what is read back hashes exactly as written."""
    item: dict[str, Any] = {
        "pk": _s(CHAIN_PK),
        "sk": _s(seq_key(entry.seq)),
        "seq": {"N": str(entry.seq)},
        "at": _s(entry.at),
        "actor_sub": _s(entry.actor.sub),
        "actor_name": _s(entry.actor.name),
        "actor_role": _s(entry.actor.role),
        "action": _s(entry.action),
        "target_type": _s(entry.target_type),
        "target_id": _s(entry.target_id),
        "before": _s(canonical_json(entry.before)),
        "after": _s(canonical_json(entry.after)),
        "prev_hash": _s(entry.prev_hash),
        "hash": _s(entry.hash),
    }
    if entry.actor.agency is not None:
        item["actor_agency"] = _s(entry.actor.agency)
    if entry.reason is not None:
        item["reason"] = _s(entry.reason)
    return item


def _text(item: dict[str, Any], name: str) -> str | None:
    value = item.get(name)
    if not value:
        return None
    return str(value.get("S", value.get("N", "")))


def _state(raw: str | None) -> dict[str, Any] | None:
    # Tolerant on purpose: an item edited around the service must be reported by verify, not crash it.
    try:
        value = json.loads(raw) if raw is not None else None
    except ValueError:
        return {"_unparseable": raw}
    return value if value is None or isinstance(value, dict) else {"_not_an_object": value}


def from_item(item: dict[str, Any]) -> AuditEntry:
    seq_text = _text(item, "seq") or _text(item, "sk") or "0"
    try:
        seq = int(seq_text)
    except ValueError:
        seq = 0
    return AuditEntry(
        seq=seq,
        at=_text(item, "at") or "",
        actor=Actor(
            sub=_text(item, "actor_sub") or "",
            name=_text(item, "actor_name") or "",
            role=_text(item, "actor_role") or "",
            agency=_text(item, "actor_agency"),
        ),
        action=_text(item, "action") or "",
        target_type=_text(item, "target_type") or "",
        target_id=_text(item, "target_id") or "",
        before=_state(_text(item, "before")),
        after=_state(_text(item, "after")),
        reason=_text(item, "reason"),
        prev_hash=_text(item, "prev_hash") or "",
        hash=_text(item, "hash") or "",
    )


class AuditRepository:
    """The AuditStore port on DynamoDB's low-level client."""

    def __init__(self, table: str | None = None) -> None:
        self._table = table or settings().audit_table

    def head(self) -> tuple[int, str] | None:
        item = client("dynamodb").get_item(TableName=self._table, Key=HEAD_KEY, ConsistentRead=True).get("Item")
        if not item:
            return None
        return int(item["seq"]["N"]), item["hash"]["S"]

    def append(self, entry: AuditEntry, expected_head_seq: int | None, alongside: Sequence[Any] = ()) -> None:
        if entry.seq != (expected_head_seq or 0) + 1:
            raise ValueError(f"entry {entry.seq} cannot follow head {expected_head_seq}")
        if expected_head_seq is None:
            head_condition = "attribute_not_exists(seq)"
            values: dict[str, Any] = {}
        else:
            head_condition = "seq = :expected"
            values = {":expected": {"N": str(expected_head_seq)}}
        ddb = client("dynamodb")
        try:
            ddb.transact_write_items(
                # The same token on botocore's own retry of a lost answer: DynamoDB then reports
                # success instead of failing our own landed entry's condition. 36 characters at most.
                ClientRequestToken=entry.hash[:36],
                TransactItems=[
                    *alongside,
                    {
                        "Put": {
                            "TableName": self._table,
                            "Item": to_item(entry),
                            "ConditionExpression": "attribute_not_exists(pk)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self._table,
                            "Key": HEAD_KEY,
                            "UpdateExpression": "SET seq = :seq, #hash = :hash",
                            "ConditionExpression": head_condition,
                            "ExpressionAttributeNames": {"#hash": "hash"},  # HASH is a reserved word
                            "ExpressionAttributeValues": {
                                ":seq": {"N": str(entry.seq)},
                                ":hash": _s(entry.hash),
                                **values,
                            },
                        }
                    },
                ],
            )
        except ddb.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            if any(r.get("Code") == "ConditionalCheckFailed" for r in reasons[: len(alongside)]):
                raise EditConflict() from exc
            codes = {r.get("Code") for r in reasons[len(alongside) :]}
            # A concurrent transaction on the head is the same race, seen a moment earlier.
            if codes & {"ConditionalCheckFailed", "TransactionConflict"}:
                raise AuditConflict() from exc
            raise

    def entries(self, from_seq: int = 1, to_seq: int | None = None) -> Iterator[AuditEntry]:
        """Entries from from_seq (to to_seq, inclusive) in sequence order: strongly consistent, page by page."""
        ddb = client("dynamodb")
        values = {":pk": _s(CHAIN_PK), ":from": _s(seq_key(max(from_seq, 0)))}
        condition = "pk = :pk AND sk >= :from"
        if to_seq is not None:
            condition = "pk = :pk AND sk BETWEEN :from AND :to"
            values[":to"] = _s(seq_key(max(to_seq, 0)))
        kwargs: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": condition,
            "ExpressionAttributeValues": values,
            "ConsistentRead": True,
        }
        while True:
            page = ddb.query(**kwargs)
            for item in page["Items"]:
                yield from_item(item)
            start = page.get("LastEvaluatedKey")
            if not start:
                return
            kwargs["ExclusiveStartKey"] = start
