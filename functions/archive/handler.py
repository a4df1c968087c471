"""Archive worker: screened responses appended to the S3 data lake as JSON Lines, partitioned by survey and date.

Each batch writes one object per partition named by its first and last sequence numbers, so a
redelivered batch rewrites the same object. A bisected retry may write a record into a second
object: readers of the lake keep the newest line per response_id (see chalicelib.lake).
"""

from __future__ import annotations

import gzip
import json
from typing import Any

from chalicelib import wiring
from chalicelib.lake import lake_key, lake_row
from functions.batch import read_changes
from functions.observability import logger, metrics


def archive_batch(event: dict[str, Any]) -> dict[str, Any]:
    partitions: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    batch = read_changes(event)
    for change in batch.items:
        response = change.new
        if response is None or response.status == "received":
            continue
        partition = lake_key(response)
        partitions.setdefault(partition, []).append((change.sequence, lake_row(response, change.sequence)))
    store = wiring.lake_store()
    for partition, rows in partitions.items():
        body = "\n".join(json.dumps(row, ensure_ascii=False, sort_keys=True) for _, row in rows) + "\n"
        key = f"{partition}/{rows[0][0]}-{rows[-1][0]}.jsonl.gz"
        store.put(key, gzip.compress(body.encode("utf-8"), mtime=0), "application/gzip")
        metrics.add_metric(name="ArchivedResponses", unit="Count", value=len(rows))
    return batch.answer()


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return archive_batch(event)
