"""Reports worker: on schedule (every open survey) or on request (one survey), writes a report set into S3."""

from __future__ import annotations

from typing import Any

from chalicelib import wiring
from functions.observability import logger, metrics
from functions.reports.build import build_report, report_pks

CONTENT_TYPES = {
    "report.html": "text/html; charset=utf-8",
    "item_indices_by_province.csv": "text/csv; charset=utf-8",
    "manifest.json": "application/json",
}


def run_report(survey_id: str, version: int | None = None) -> dict[str, Any]:
    survey = wiring.surveys().get(survey_id, version)
    repo = wiring.aggregates()
    scope_items = {scope: items for scope, pk in report_pks(survey).items() if (items := repo.scope_items(pk))}
    built = build_report(survey, scope_items)
    store = wiring.reports_store()
    # manifest last: a report set is complete once its manifest exists
    for name in sorted(built.files, key=lambda n: n == "manifest.json"):
        store.put(f"{built.prefix}/{name}", built.files[name], CONTENT_TYPES[name])
    metrics.add_metric(name="ReportsBuilt", unit="Count", value=1)
    logger.info(
        "report built", extra={"prefix": built.prefix, "responses": built.manifest["inputs"]["responses_counted"]}
    )
    return {"prefix": built.prefix, "manifest": built.manifest}


def surveys_of(event: dict[str, Any]) -> list[tuple[str, int | None]]:
    detail = event.get("detail") or {}
    if event.get("detail-type") == "ReportRequested" and detail.get("survey_id"):
        version = detail.get("survey_version")
        return [(str(detail["survey_id"]), int(version) if version else None)]
    return [(s.id, s.version) for s in wiring.surveys().list_current() if s.status in ("open", "closed")]


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"reports": [run_report(sid, version) for sid, version in surveys_of(event)]}
