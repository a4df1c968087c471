"""Archive worker: screened response states into the S3 data lake; a withdrawal or expired personal data leaves every copy."""

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
    metrics.add_metric(name="LakeObjectsRewritten", unit="Count", value=outcome.rewritten)
    metrics.add_metric(name="LakeVersionsForgotten", unit="Count", value=outcome.forgotten)
    return batch.answer()
