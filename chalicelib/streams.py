"""The one place that turns DynamoDB stream records into domain objects."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from chalicelib.domain.changes import ResponseChange
from chalicelib.domain.responses import Response


def to_plain(value: Any) -> Any:
    """Decimals from the stream deserializer back to int/float."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return [to_plain(v) for v in value]
    return value


def response_change(record: Any) -> ResponseChange:
    """From a Powertools DynamoDBRecord; raises MalformedResponse for an image that is not a response."""
    ddb = record.dynamodb
    new = ddb.new_image if ddb else None
    old = ddb.old_image if ddb else None
    return ResponseChange(
        sequence=str(ddb.sequence_number if ddb else ""),
        event_name=str(record.event_name.name if hasattr(record.event_name, "name") else record.event_name),
        old=Response.from_item(to_plain(old)) if old else None,
        new=Response.from_item(to_plain(new)) if new else None,
    )
