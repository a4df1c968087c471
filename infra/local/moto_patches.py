"""Performance fixes to moto's DynamoDB emulation for the local stack (the emulator only; our code is unchanged).

moto 5.2 has two costs that grow with our workload, not with anything DynamoDB does:
- TransactWriteItems deep-copies the whole table once per action (for rollback), so a 100-action
  transaction on an aggregates table of thousands of items takes seconds. Real DynamoDB checks every
  condition first and then applies all actions atomically; the patch does the same and keeps a
  rollback copy of the touched items only.
- UpdateExpression validation counts ADD/SET/REMOVE clauses at every node of the parsed chain,
  which is quadratic in the number of clauses; the patch counts once, at the root.
- Even then, parsing and validating costs ~1.5 ms per clause, and the aggregate worker's counters
  are long "ADD #a :1, #b :1, …" expressions. The patch applies an unconditional ADD-only update of
  numbers directly (the same result DynamoDB gives) and leaves every other update to moto.
Each patch is applied once per process and is checked by tests/integration (results equal a recount).
"""

from __future__ import annotations

import copy
import re
import threading
from decimal import Decimal
from typing import Any

_applied = False
_lock = threading.Lock()


def apply_moto_patches() -> None:
    global _applied  # noqa: PLW0603 — a process-wide, idempotent switch
    with _lock:
        if _applied:
            return
        _patch_action_count_validator()
        _patch_transact_write_items()
        _patch_add_only_updates()
        _applied = True


def _patch_action_count_validator() -> None:
    from moto.dynamodb.parsing import validators
    from moto.dynamodb.parsing.ast_nodes import UpdateExpression

    original = validators.ActionCountValidator.verify_action_counts

    def verify_at_root(self: Any, node: Any) -> Any:
        if isinstance(getattr(node, "parent", None), UpdateExpression):
            return node  # the root's check sees every clause; checking each sub-chain again is quadratic
        return original(self, node)

    validators.ActionCountValidator.verify_action_counts = verify_at_root


def _patch_transact_write_items() -> None:
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models import DynamoDBBackend, get_filter_expression

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        if len(transact_items) > 100:
            raise TooManyTransactionsException()
        seen: set[tuple[str, str]] = set()
        plan: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        errors: list[tuple[Any, Any, Any]] = []
        # Phase 1: every condition against the state before the transaction, nothing written.
        for entry in transact_items:
            if len(entry) > 1:
                raise TransactWriteSingleOpException
            op_type, op = next(iter(entry.items()))
            table = self.get_table(op["TableName"])
            if op_type == "Put":
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = op["Item"][table.range_key_attr]
            else:
                key = op["Key"]
            marker = (str(op["TableName"]), str(dict(sorted(key.items()))))
            if marker in seen:
                raise MultipleTransactionsException()
            seen.add(marker)
            current = self.get_item(op["TableName"], key)
            condition = op.get("ConditionExpression")
            if condition is not None:
                check = get_filter_expression(
                    condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                )
                if not check.expr(current):
                    old = None
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        old = current.to_json()["Attributes"]
                    errors.append(("ConditionalCheckFailed", "The conditional request failed", old))
                    continue
            errors.append((None, None, None))
            plan.append((op_type, op, key))
        if any(code is not None for code, _, _ in errors):
            raise TransactionCanceledException(errors)
        # Phase 2: apply; a validation error rolls back the touched items only.
        backups = [(op["TableName"], key, copy.deepcopy(self.get_item(op["TableName"], key))) for _, op, key in plan]
        try:
            for op_type, op, key in plan:
                names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
                if op_type == "Put":
                    self.put_item(op["TableName"], op["Item"])
                elif op_type == "Delete":
                    self.delete_item(op["TableName"], key)
                elif op_type == "Update":
                    self.update_item(
                        op["TableName"],
                        key,
                        update_expression=op["UpdateExpression"],
                        expression_attribute_names=names,
                        expression_attribute_values=values,
                    )
        except (MockValidationException, ConditionalCheckFailed):
            for table_name, key, item in backups:
                table = self.get_table(table_name)
                if item is None:
                    self.delete_item(table_name, key)
                else:
                    table.put_item(item.to_json()["Attributes"])
            raise

    DynamoDBBackend.transact_write_items = transact_write_items


_ADD_ONLY = re.compile(r"^\s*ADD\s+(#[A-Za-z0-9_]+\s+:[A-Za-z0-9_]+\s*(,\s*#[A-Za-z0-9_]+\s+:[A-Za-z0-9_]+\s*)*)$")


def _patch_add_only_updates() -> None:
    from moto.dynamodb.models import DynamoDBBackend

    original = DynamoDBBackend.update_item

    def update_item(
        self: Any, table_name: str, key: dict[str, Any], update_expression: str, *args: Any, **kwargs: Any
    ) -> Any:
        names = kwargs.get("expression_attribute_names") or (args[0] if args else None)
        values = kwargs.get("expression_attribute_values") or (args[1] if len(args) > 1 else None)
        plain = not kwargs.get("condition_expression") and not kwargs.get("expected") and len(args) <= 2
        match = _ADD_ONLY.match(update_expression or "") if plain and names and values else None
        if match is None:
            return original(self, table_name, key, update_expression, *args, **kwargs)
        increments: dict[str, Decimal] = {}
        for clause in match.group(1).split(","):
            name, value = clause.split()
            number = values[value]
            if set(number) != {"N"}:
                return original(self, table_name, key, update_expression, *args, **kwargs)
            increments[names[name]] = Decimal(number["N"])
        table = self.get_table(table_name)
        current = self.get_item(table_name, key)
        attrs = dict(current.to_json()["Attributes"]) if current is not None else dict(key)
        for attr, step in increments.items():
            old = attrs.get(attr)
            if old is not None and "N" not in old:
                return original(self, table_name, key, update_expression, *args, **kwargs)
            total = (Decimal(old["N"]) if old else Decimal(0)) + step
            attrs[attr] = {"N": str(total.normalize()) if total != total.to_integral() else str(int(total))}
        return table.put_item(attrs, overwrite=True)

    DynamoDBBackend.update_item = update_item
