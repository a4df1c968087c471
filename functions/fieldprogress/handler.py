"""Field progress worker: each household visit on the fieldwork table's stream counted once (ProgressService)."""

from __future__ import annotations

from typing import Any

from chalicelib import wiring
from chalicelib.domain.field_progress import ProgressService
from functions.batch import read_images
from functions.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any, progress: ProgressService | None = None) -> dict[str, Any]:
    progress = progress or wiring.progress_service()
    batch = read_images(event)
    visits = [image for name, image in batch.items if name == "INSERT" and image and progress.is_visit(image)]
    outcome = progress.count(visits)
    metrics.add_metric(name="FieldVisitsCounted", unit="Count", value=outcome.counted)
    metrics.add_metric(name="FieldVisitsDuplicates", unit="Count", value=outcome.duplicates)
    return batch.answer()
