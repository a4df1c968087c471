"""DynamoDB's JSON wire format for items: boto3's values (binary as bytes) to JSON text (binary as base64) and back."""

from __future__ import annotations

import base64
from typing import Any


def _b64(value: Any) -> str:
    """Binary as base64 text; moto's own records may already hold the text."""
    return value if isinstance(value, str) else base64.b64encode(bytes(value)).decode("ascii")


def _attr_to_wire(value: dict[str, Any]) -> dict[str, Any]:
    """A boto3 attribute value as DynamoDB's JSON wire format (binary as base64 text)."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": _b64(inner)}
    if kind == "BS":
        return {"BS": [_b64(b) for b in inner]}
    if kind == "M":
        return {"M": {k: _attr_to_wire(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_attr_to_wire(v) for v in inner]}
    return {kind: inner}


def _attr_from_wire(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner)}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) for b in inner]}
    if kind == "M":
        return {"M": {k: _attr_from_wire(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_attr_from_wire(v) for v in inner]}
    return {kind: inner}


def item_to_wire(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _attr_to_wire(v) for k, v in item.items()}


def item_from_wire(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _attr_from_wire(v) for k, v in item.items()}
