"""Handlers (and a tiny Chalice app) for the local stack's tests: they record what they get and fail on request."""

from __future__ import annotations

import os
import threading
from collections import defaultdict
from typing import Any

import boto3
from chalice import Chalice

CALLS: dict[str, list[dict[str, Any]]] = defaultdict(list)
_lock = threading.Lock()
_seen_fail_once: set[str] = set()


def reset() -> None:
    with _lock:
        CALLS.clear()
        _seen_fail_once.clear()


def _record(name: str, event: Any, context: Any) -> None:
    with _lock:
        CALLS[name].append(
            {
                "event": event,
                "function_name": context.function_name,
                "request_id": context.aws_request_id,
                "arn": context.invoked_function_arn,
                "memory": context.memory_limit_in_mb,
                "remaining_ms": context.get_remaining_time_in_millis(),
                "items_table": os.environ.get("TEST_ITEMS_TABLE"),
                "thread": threading.current_thread().name,
            }
        )


def keys(call: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["Keys"]["id"]["S"] for r in call["event"]["Records"]]


def recorder(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Items with mode "poison" raise; "fail-once" is reported as a batch item failure the first time."""
    _record("recorder", event, context)
    failures = []
    for record in event["Records"]:
        key = record["dynamodb"]["Keys"]["id"]["S"]
        mode = record["dynamodb"].get("NewImage", {}).get("mode", {}).get("S", "ok")
        if mode == "poison":
            raise RuntimeError(f"poison record {key}")
        if mode == "fail-once":
            with _lock:
                first = key not in _seen_fail_once
                _seen_fail_once.add(key)
            if first:
                failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
    return {"batchItemFailures": failures}


def inserts(event: dict[str, Any], context: Any) -> None:
    _record("inserts", event, context)


def clock(event: dict[str, Any], context: Any) -> str:
    _record("clock", event, context)
    return "tick"


def ping(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _record("ping", event, context)
    if event.get("detail", {}).get("fail"):
        raise ValueError("asked to fail")
    return {"pong": event.get("detail")}


app = Chalice(app_name="local-stack-test")


@app.route("/items/{item_id}", methods=["PUT"])
def put_item(item_id: str) -> dict[str, str]:
    boto3.client("dynamodb").put_item(
        TableName=os.environ["TEST_ITEMS_TABLE"], Item={"id": {"S": item_id}, "kind": {"S": "keep"}}
    )
    return {"id": item_id}
