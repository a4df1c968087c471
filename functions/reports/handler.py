"""Reports worker: on schedule (every open or closed survey) or on request (one survey), a report set into S3."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import EventBridgeEvent

from chalicelib import wiring
from functions.observability import logger, metrics
from functions.reports.build import ReportBuilder

REPORT_REQUESTED = "ReportRequested"  # detail: survey_id, survey_version (chalicelib/api: request_report)


def reports() -> ReportBuilder:
    return ReportBuilder(wiring.surveys(), wiring.aggregates(), wiring.reports_store())


@metrics.log_metrics
@logger.inject_lambda_context
def handler(event: dict[str, Any], context: Any, service: ReportBuilder | None = None) -> dict[str, Any]:
    request = EventBridgeEvent(event)
    detail = request.detail if request.detail_type == REPORT_REQUESTED else {}
    version = detail.get("survey_version")
    built = (service or reports()).run(detail.get("survey_id"), int(version) if version else None)
    for report in built:
        metrics.add_metric(name="ReportsBuilt", unit="Count", value=1)
        logger.info("report built", extra={"prefix": report.prefix, "responses": report.counted})
    return {"reports": [{"prefix": report.prefix, "manifest": report.manifest} for report in built]}
