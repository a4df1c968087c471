"""The fieldwork table (direct surveys): one pk/sk table, one item family per key prefix.

Families (the services own their keys; this adapter only reads and writes plain dicts):

    assign#<year>#<sample_id>   enum#<sub>                  an enumerator's villages in a sample (fieldwork.py)
    enumerator#<sub>            <year>#<sample_id>          the same assignment, found from the enumerator
    visit#<visit_id>            -                           one household visit (any outcome); the stream counts it
    hhdone#<year>#<sample>#<household_id>  -                a household's one completed interview (its visit id)
    progress#<year>#<sample_id> all | province#.. | village#.. | enum#..   progress counters (field_progress.py)
    mark#<visit_id>             -                           a visit counted into progress (exactly once)
    paper#...                   (see chalicelib/domain/paper.py) paper forms: batches, entries, resolutions
    recheck#<survey_key>        form                        the re-check form (field_quality.py; replaced)
    recheck#<survey_key>        draw#<response_id>          one interview drawn for re-check (written once)
    recheck#<survey_key>        result#<response_id>#<at>   one re-check's answers and comparison (append-only)
    coding#<survey_key>#<question_id>  frame                an open question's code frame (replaced)
    coding#<survey_key>#<question_id>  change#<at>#<response_id>  one coding change, who and why (append-only)

The quality families are read and written by chalicelib/store/field_quality.py; an interview's stored
answers (the responses table) are never changed by a re-check or a code.

Writes that must happen together (a completed interview's visit and its response) go in one
TransactWriteItems; a failed condition becomes `TransactionConflict` with the reasons per item.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chalicelib.domain.fieldwork import TransactionConflict
from chalicelib.settings import settings
from chalicelib.store.aws import client


def _serializer() -> Any:
    from boto3.dynamodb.types import TypeSerializer

    return TypeSerializer()


def to_wire(item: Mapping[str, Any]) -> dict[str, Any]:
    from decimal import Decimal

    def fix(value: Any) -> Any:
        if isinstance(value, float):
            return Decimal(repr(value))
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [fix(v) for v in value]
        return value

    serializer = _serializer()
    return {k: serializer.serialize(fix(v)) for k, v in item.items() if v is not None}


def from_wire(item: Mapping[str, Any]) -> dict[str, Any]:
    from boto3.dynamodb.types import TypeDeserializer

    from chalicelib.streams import to_plain

    deserializer = TypeDeserializer()
    return dict(to_plain({k: deserializer.deserialize(v) for k, v in item.items()}))


class FieldworkRepository:
    def __init__(self, table: str | None = None) -> None:
        self._table = table or settings().fieldwork_table

    @property
    def table(self) -> str:
        return self._table

    # --- reads ---------------------------------------------------------------------------------
    def get(self, pk: str, sk: str = "-", consistent: bool = False) -> dict[str, Any] | None:
        answer = client("dynamodb").get_item(
            TableName=self._table, Key={"pk": {"S": pk}, "sk": {"S": sk}}, ConsistentRead=consistent
        )
        item = answer.get("Item")
        return from_wire(item) if item else None

    def get_many(self, keys: Iterable[tuple[str, str]]) -> list[dict[str, Any]]:
        ddb = client("dynamodb")
        wanted = [{"pk": {"S": pk}, "sk": {"S": sk}} for pk, sk in dict.fromkeys(keys)]
        out: list[dict[str, Any]] = []
        for i in range(0, len(wanted), 100):
            request: dict[str, Any] = {self._table: {"Keys": wanted[i : i + 100]}}
            while request:
                page = ddb.batch_get_item(RequestItems=request)
                out.extend(from_wire(x) for x in page["Responses"].get(self._table, []))
                request = page.get("UnprocessedKeys") or {}
        return out

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
        """Every item of one partition (whose sort key starts with sk_prefix), in sort-key order."""
        values: dict[str, Any] = {":pk": {"S": pk}}
        condition = "pk = :pk"
        if sk_prefix:
            condition += " AND begins_with(sk, :p)"
            values[":p"] = {"S": sk_prefix}
        pages = (
            client("dynamodb")
            .get_paginator("query")
            .paginate(TableName=self._table, KeyConditionExpression=condition, ExpressionAttributeValues=values)
        )
        return [from_wire(item) for page in pages for item in page["Items"]]

    # --- writes --------------------------------------------------------------------------------
    def put(self, item: Mapping[str, Any]) -> None:
        client("dynamodb").put_item(TableName=self._table, Item=to_wire(item))

    def put_new(self, item: Mapping[str, Any]) -> bool:
        """Write only when no item has this key; False (nothing written) when one has."""
        ddb = client("dynamodb")
        try:
            ddb.put_item(TableName=self._table, Item=to_wire(item), ConditionExpression="attribute_not_exists(pk)")
        except ddb.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def transact(self, actions: Sequence[dict[str, Any]]) -> None:
        """TransactWriteItems of prepared actions (see put_action, update_action); TransactionConflict on a
        failed condition. Actions on other tables (the responses table) are passed through as written."""
        ddb = client("dynamodb")
        try:
            ddb.transact_write_items(TransactItems=list(actions))
        except ddb.exceptions.TransactionCanceledException as exc:
            reasons = [str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons", [])]
            raise TransactionConflict(reasons) from exc

    def put_action(self, item: Mapping[str, Any], new: bool = True, table: str | None = None) -> dict[str, Any]:
        action: dict[str, Any] = {"TableName": table or self._table, "Item": to_wire(item)}
        if new:
            action["ConditionExpression"] = f"attribute_not_exists({'pk' if table is None else _hash_key(item)})"
        return {"Put": action}

    def add_action(self, pk: str, sk: str, counts: Mapping[str, int]) -> dict[str, Any]:
        """ADD each count to its attribute (creating the item at zero)."""
        names = {f"#c{i}": name for i, name in enumerate(counts)}
        values = {f":c{i}": {"N": str(int(v))} for i, v in enumerate(counts.values())}
        expression = "ADD " + ", ".join(f"#c{i} :c{i}" for i in range(len(counts)))
        return {
            "Update": {
                "TableName": self._table,
                "Key": {"pk": {"S": pk}, "sk": {"S": sk}},
                "UpdateExpression": expression,
                "ExpressionAttributeNames": names,
                "ExpressionAttributeValues": values,
            }
        }


def _hash_key(item: Mapping[str, Any]) -> str:
    # Items of the responses table are keyed by response_id; ours by pk.
    return "response_id" if "response_id" in item and "pk" not in item else "pk"
