"""Domain events onto EventBridge (the on-demand report request, later others)."""

from __future__ import annotations

import json
from typing import Any

from chalicelib.settings import settings
from chalicelib.store.aws import client


def publish(source: str, detail_type: str, detail: dict[str, Any]) -> None:
    result = client("events").put_events(
        Entries=[
            {
                "Source": source,
                "DetailType": detail_type,
                "Detail": json.dumps(detail, ensure_ascii=False),
                "EventBusName": settings().event_bus,
            }
        ]
    )
    if result.get("FailedEntryCount"):
        raise RuntimeError(f"EventBridge refused the event: {result['Entries']}")
