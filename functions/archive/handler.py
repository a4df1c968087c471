"""Archive worker: the screened states on the responses stream appended to the S3 data lake (LakeArchive)."""

from __future__ import annotations

from typing import Any

from chalicelib import wiring
from chalicelib.lake import LakeArchive
from functions.batch import read_changes
from functions.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any, archive: LakeArchive | None = None) -> dict[str, Any]:
    batch = read_changes(event)
    outcome = (archive or wiring.lake_archive()).archive(batch.items)
    metrics.add_metric(name="ArchivedResponses", unit="Count", value=outcome.rows)
    return batch.answer()
