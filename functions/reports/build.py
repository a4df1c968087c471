"""The results report of a survey version, from its aggregates: HTML, CSV of item indices per province, manifest.

ReportBuilder picks the survey versions (the requested one, else every open or closed survey),
builds each report set and writes it to the reports bucket, the manifest last.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

import pandas as pd
from jinja2 import Environment, FileSystemLoader, select_autoescape

from chalicelib.domain.aggregation import NATIONAL, aggregate_pk
from chalicelib.domain.jobs import SurveyCatalog, surveys_for
from chalicelib.domain.results import compute_results
from chalicelib.domain.survey import Survey
from chalicelib.reference.geography import load_geography

TEMPLATES = Path(__file__).parent / "templates"
REPORT_PREFIX = "reports"
CONTENT_TYPES = {
    "report.html": "text/html; charset=utf-8",
    "item_indices_by_province.csv": "text/csv; charset=utf-8",
    "manifest.json": "application/json",
}


@dataclass(frozen=True)
class BuiltReport:
    prefix: str
    files: dict[str, bytes]
    manifest: dict[str, Any]

    @property
    def counted(self) -> int:
        return int(self.manifest["inputs"]["responses_counted"])


def province_table(survey: Survey, by_scope: dict[str, dict[str, Any]]) -> pd.DataFrame:
    """One row per province with responses: n, overall, part, element and item indices."""
    geography = load_geography(survey.geography)
    rows = []
    for province in geography.provinces:
        result = by_scope.get(f"p{province.code}")
        if not result or not result["n"]:
            continue
        row: dict[str, Any] = {"province_code": province.code, "province": province.name, "n": result["n"]}
        index = result.get("index") or {}
        row["index"] = index.get("value")
        for part in index.get("parts", []):
            row[f"part_{part['id']}"] = part["value"]
            for element in part["elements"]:
                row[f"element_{element['id']}"] = element["value"]
                for item in element["items"]:
                    row[item["id"]] = item["value"]
        rows.append(row)
    frame = pd.DataFrame(rows)
    if not frame.empty:
        frame = frame.sort_values(["index", "province_code"], ascending=[False, True], na_position="last")
        frame.insert(2, "rank", range(1, len(frame) + 1))
    return frame


def build_report(
    survey: Survey, scope_items: dict[str, list[dict[str, Any]]], now: datetime | None = None
) -> BuiltReport:
    """`scope_items` maps a scope ('all', 'p01', …) to its aggregate items, as read from the store."""
    now = now or datetime.now(timezone.utc)
    by_scope = {
        scope: compute_results(survey, items, scope, include_flagged=False) for scope, items in scope_items.items()
    }
    national = by_scope.get(NATIONAL) or compute_results(survey, [], NATIONAL, include_flagged=False)
    with_flagged = compute_results(survey, scope_items.get(NATIONAL, []), NATIONAL, include_flagged=True)
    table = province_table(survey, by_scope)

    csv_buffer = io.StringIO()
    table.to_csv(csv_buffer, index=False, float_format="%.2f")
    csv_bytes = ("\ufeff" + csv_buffer.getvalue()).encode("utf-8")  # BOM: Excel opens Vietnamese correctly

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html", "j2"]))
    html = env.get_template("report.html.j2").render(
        survey=survey.definition,
        national=national,
        with_flagged=with_flagged,
        provinces=table.to_dict(orient="records"),
        generated_at=now.strftime("%Y-%m-%d %H:%M UTC"),
    )
    html_bytes = html.encode("utf-8")

    stamp = now.strftime("%Y%m%dT%H%M%SZ")
    prefix = f"{REPORT_PREFIX}/{survey.id}/v{survey.version}/{stamp}"
    files = {"report.html": html_bytes, "item_indices_by_province.csv": csv_bytes}
    canonical_inputs = json.dumps(scope_items, sort_keys=True, default=str).encode()
    manifest = {
        "survey_id": survey.id,
        "survey_version": survey.version,
        "methodology": survey.definition.get("methodology"),
        "index_rule": (survey.definition.get("scoring") or {}).get("overall_rule", "mean_of_parts"),
        "weighted": False,
        "statuses_counted": ["accepted"],
        "generated_at": now.isoformat(),
        "inputs": {
            "source": "aggregates",
            "scopes": sorted(scope_items),
            "aggregate_items": sum(len(v) for v in scope_items.values()),
            "responses_counted": national["n"],
            "sha256": hashlib.sha256(canonical_inputs).hexdigest(),
        },
        "outputs": [
            {"key": f"{prefix}/{name}", "bytes": len(body), "sha256": hashlib.sha256(body).hexdigest()}
            for name, body in files.items()
        ],
    }
    files["manifest.json"] = json.dumps(manifest, ensure_ascii=False, indent=2).encode("utf-8")
    return BuiltReport(prefix=prefix, files=files, manifest=manifest)


def scopes_for_report(survey: Survey) -> list[str]:
    geography = load_geography(survey.geography)
    return [NATIONAL] + [f"p{p.code}" for p in geography.provinces]


def report_pks(survey: Survey) -> dict[str, str]:
    return {scope: aggregate_pk(survey.key, scope) for scope in scopes_for_report(survey)}


class ScopeAggregates(Protocol):
    def scope_items(self, pk: str) -> list[dict[str, Any]]: ...


class ReportSink(Protocol):
    def put(self, key: str, body: bytes, content_type: str) -> None: ...


class ReportBuilder:
    def __init__(
        self,
        catalog: SurveyCatalog,
        aggregates: ScopeAggregates,
        reports: ReportSink,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self._catalog, self._aggregates, self._reports = catalog, aggregates, reports
        self._clock = clock or (lambda: datetime.now(timezone.utc))

    def run(self, survey_id: str | None = None, version: int | None = None) -> list[BuiltReport]:
        """The requested survey version's report set, or every open or closed survey's."""
        return [self.write(survey) for survey in surveys_for(self._catalog, survey_id, version)]

    def write(self, survey: Survey) -> BuiltReport:
        scope_items = {s: items for s, pk in report_pks(survey).items() if (items := self._aggregates.scope_items(pk))}
        built = build_report(survey, scope_items, self._clock())
        # manifest last: a report set is complete once its manifest exists
        for name in sorted(built.files, key=lambda n: n == "manifest.json"):
            self._reports.put(f"{built.prefix}/{name}", built.files[name], CONTENT_TYPES[name])
        return built
