"""Reading recorded stream events in tests as the workers read them, and cutting them as Lambda would."""

from __future__ import annotations

import copy
from typing import Any

from aws_lambda_powertools.utilities.data_classes import DynamoDBStreamEvent

from chalicelib.domain.changes import ResponseChange
from chalicelib.domain.responses import Response
from chalicelib.streams import response_change


def changes(event: dict[str, Any]) -> list[ResponseChange]:
    return [response_change(record) for record in DynamoDBStreamEvent(event).records]


def final_states(event: dict[str, Any]) -> dict[str, Response | None]:
    """Each response's last image in the batch (None once removed)."""
    out: dict[str, Response | None] = {}
    for change in changes(event):
        image = change.new or change.old
        if image is not None:
            out[image.response_id] = change.new
    return out


def sequences(event: dict[str, Any]) -> list[str]:
    return [record["dynamodb"]["SequenceNumber"] for record in event["Records"]]


def batch_of(event: dict[str, Any], *positions: int) -> dict[str, Any]:
    """A batch of the event's records at these positions, in this order (a copy)."""
    return {"Records": [copy.deepcopy(event["Records"][i]) for i in positions]}
