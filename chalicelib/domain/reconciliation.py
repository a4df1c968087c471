"""Reconciliation: every stored response recounted and compared with the aggregates, cell by cell.

The aggregates are built incrementally from the stream; this is the independent proof that no
response was lost or counted twice. A difference right after a burst may be records still in the
stream; one that persists across two runs is a defect.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any, Protocol

from chalicelib.domain.aggregation import Delta, contribution, merge
from chalicelib.domain.jobs import SurveyCatalog, surveys_for
from chalicelib.domain.responses import MalformedResponse, Response
from chalicelib.domain.survey import Survey

REPORT_PREFIX = "reconcile"
MAX_LISTED = 200  # differences written out in full; the count is always exact


class StoredResponses(Protocol):
    def iter_survey(self, survey_key: str) -> Iterable[dict[str, Any]]: ...


class StoredAggregates(Protocol):
    def scan_prefix(self, prefix: str) -> list[dict[str, Any]]: ...


class ReportSink(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...


def expected_counts(survey: Survey, items: Iterable[dict[str, Any]]) -> tuple[Delta, int, int]:
    """The recount: counters every readable response adds up to, how many were read, how many were not."""
    contributions, read, unreadable = [], 0, 0
    for item in items:
        read += 1
        try:
            contributions.append(contribution(Response.from_item(item), survey))
        except MalformedResponse:
            unreadable += 1
    return merge(contributions), read, unreadable


def differences(expected: Delta, actual: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every cell where the recount and the stored aggregates disagree (a missing cell counts as 0)."""
    stored = {(str(i["pk"]), str(i["sk"])): {k: int(v) for k, v in i.items() if k not in ("pk", "sk")} for i in actual}
    out = []
    for key in sorted(set(expected) | set(stored)):
        want, have = expected.get(key, {}), stored.get(key, {})
        for cell in sorted(set(want) | set(have)):
            if want.get(cell, 0) != have.get(cell, 0):
                out.append(
                    {
                        "pk": key[0],
                        "sk": key[1],
                        "cell": cell,
                        "expected": want.get(cell, 0),
                        "actual": have.get(cell, 0),
                    }
                )
    return out


class ReconcileService:
    def __init__(
        self,
        catalog: SurveyCatalog,
        responses: StoredResponses,
        aggregates: StoredAggregates,
        reports: ReportSink,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._catalog, self._responses, self._aggregates, self._reports = catalog, responses, aggregates, reports
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    def reconcile(self, survey_id: str | None = None) -> list[dict[str, Any]]:
        """The named survey's current version, or every open or closed survey; each result also goes to S3."""
        return [self.reconcile_survey(survey) for survey in surveys_for(self._catalog, survey_id)]

    def reconcile_survey(self, survey: Survey) -> dict[str, Any]:
        expected, read, unreadable = expected_counts(survey, self._responses.iter_survey(survey.key))
        diffs = differences(expected, self._aggregates.scan_prefix(f"{survey.key}#"))
        now = self._clock()
        result = {
            "survey_id": survey.id,
            "survey_version": survey.version,
            "checked_at": now.isoformat(),
            "responses": read,
            "unreadable_responses": unreadable,
            "difference_count": len(diffs),
            "differences": diffs[:MAX_LISTED],
        }
        key = f"{REPORT_PREFIX}/{survey.id}/v{survey.version}/{now.strftime('%Y%m%dT%H%M%SZ')}.json"
        self._reports.put(key, json.dumps(result, ensure_ascii=False, indent=2).encode(), "application/json")
        return result
