"""The data-lake layout: one JSON line per screened response state, partitioned by survey version and date."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable
from typing import Any

from chalicelib.domain.responses import Response

LAKE_PREFIX = "responses"


def lake_key(response: Response) -> str:
    day = (response.received_at or "0000-00-00")[:10]
    return f"{LAKE_PREFIX}/survey={response.survey_id}/version={response.survey_version}/date={day}"


def lake_row(response: Response, sequence: str) -> dict[str, Any]:
    """Microdata without personal identifiers: the keyed hashes stay in DynamoDB only."""
    row = response.to_item()
    row.pop("identifiers", None)
    row.pop("honeypot", None)
    row["_sequence"] = sequence
    return row


def latest_rows(objects: Iterable[bytes]) -> dict[str, dict[str, Any]]:
    """Newest state per response across lake objects (duplicates from retried batches collapse here)."""
    latest: dict[str, dict[str, Any]] = {}
    for blob in objects:
        for line in gzip.decompress(blob).decode("utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            current = latest.get(row["response_id"])
            if current is None or int(row["_sequence"]) >= int(current["_sequence"]):
                latest[row["response_id"]] = row
    return latest
