"""Live results from aggregate counters: item, element and part indices (SIPAS) and answer distributions.

Item index S_j = 100 × share of valid answers rated positive (4 or 5); element = mean of its items;
part = mean of its elements; overall by the survey's rule (METHODOLOGY §1). Unweighted for now:
design weights come with the sampling module.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from statistics import fmean
from typing import Any, Protocol

from chalicelib.domain.aggregation import ATTRIBUTION, NATIONAL, NO_VALUE, UNIT_PREFIX, aggregate_pk, attribution_sk
from chalicelib.domain.errors import InvalidScope, NotFound
from chalicelib.domain.responses import ACCEPTED, FLAGGED, RECEIVED, REJECTED, STATUSES
from chalicelib.domain.survey import Item, Survey


def parse_scope(scope: str | None) -> str:
    scope = (scope or NATIONAL).strip()
    if scope == NATIONAL:
        return scope
    if (scope[:1] == "p" and len(scope) == 3 and scope[1:].isdigit()) or (
        scope[:1] == "c" and len(scope) == 6 and scope[1:].isdigit()
    ):
        return scope
    raise InvalidScope(field="scope")


def sum_counts(items: Iterable[dict[str, Any]], statuses: Iterable[str]) -> dict[str, int]:
    """Add up the pages of the chosen statuses into one counter map."""
    wanted = set(statuses)
    total: dict[str, int] = {}
    for item in items:
        if str(item["sk"]).split("#", 1)[0] not in wanted:
            continue
        for cell, value in item.items():
            if cell in ("pk", "sk") or cell.startswith("_"):
                continue
            total[cell] = total.get(cell, 0) + int(value)
    return total


def status_counts(items: Iterable[dict[str, Any]]) -> dict[str, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for item in items:
        status = str(item["sk"]).split("#", 1)[0]
        if status in counts:
            counts[status] += int(item.get("n", 0))
    return counts


def answered(counts: dict[str, int], item: Item) -> int:
    """Valid answers to an item: a single choice has exactly one option per answer, so its options add up.

    "Not applicable" answers are not valid answers for an index: they count in neither part of the share.
    """
    if item.kind == "single":
        return sum(counts.get(f"{item.id}={v}", 0) for v in item.scored_options)
    return counts.get(item.id, 0)


def item_index(counts: dict[str, int], item: Item, positive: Iterable[str]) -> tuple[float | None, int]:
    item_id = item.id
    n = answered(counts, item)
    if not n:
        return None, 0
    hits = sum(counts.get(f"{item_id}={v}", 0) for v in positive)
    return 100.0 * hits / n, n


def _mean(values: list[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return fmean(present) if present else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def compute_results(survey: Survey, items: list[dict[str, Any]], scope: str, include_flagged: bool) -> dict[str, Any]:
    statuses = [ACCEPTED, FLAGGED] if include_flagged else [ACCEPTED]
    counts = sum_counts(items, statuses)
    by_status = status_counts(items)
    texts = _texts(survey)
    out: dict[str, Any] = {
        "survey_id": survey.id,
        "survey_version": survey.version,
        "methodology": survey.definition.get("methodology"),
        "scope": scope,
        "include_flagged": include_flagged,
        "counts": {
            "received_unscreened": by_status[RECEIVED],
            "accepted": by_status[ACCEPTED],
            "flagged": by_status[FLAGGED],
            "rejected": by_status[REJECTED],
        },
        "n": counts.get("n", 0),
        "weighted": False,
    }
    scoring = survey.definition.get("scoring")
    if scoring:
        positive = scoring["positive_values"]
        parts, all_elements, all_items = [], [], []
        for part in scoring["parts"]:
            elements = []
            for element in part["elements"]:
                rows = []
                for item_id in element["items"]:
                    value, n = item_index(counts, survey.item(item_id), positive)  # type: ignore[arg-type]
                    rows.append(
                        {"id": item_id, "text": texts.get(item_id, {}).get("text"), "value": _round(value), "n": n}
                    )
                    all_items.append(value)
                e_value = _mean([r["value"] for r in rows])
                all_elements.append(e_value)
                elements.append(
                    {"id": element["id"], "label": element["label"], "value": _round(e_value), "items": rows}
                )
            parts.append(
                {
                    "id": part["id"],
                    "label": part["label"],
                    "value": _round(_mean([e["value"] for e in elements])),
                    "elements": elements,
                }
            )
        rule = scoring.get("overall_rule", "mean_of_parts")
        overall = {
            "mean_of_parts": lambda: _mean([p["value"] for p in parts]),
            "mean_of_elements": lambda: _mean(all_elements),
            "mean_of_items": lambda: _mean(all_items),
        }[rule]()
        out["index"] = {"value": _round(overall), "rule": rule, "positive_values": positive, "parts": parts}
    # A commune keeps only the scored items (see Survey.cells): other distributions are provincial.
    out["questions"] = [] if scope.startswith(UNIT_PREFIX) else _distributions(survey, counts, texts)
    return out


def _texts(survey: Survey) -> dict[str, dict[str, Any]]:
    """Item id -> its text and option labels (rows of a matrix share the matrix's scale)."""
    cached = survey.__dict__.get("_texts")
    if cached is not None:
        return cached
    out: dict[str, dict[str, Any]] = {}
    for section in survey.definition["sections"]:
        for q in section["questions"]:
            if q["type"] == "matrix":
                labels = {o["value"]: o["label"] for o in q["scale"]}
                for row in q["rows"]:
                    out[row["id"]] = {"text": row["text"], "labels": labels, "question": q["id"]}
            else:
                from chalicelib.domain.survey import YES_NO_OPTIONS

                options = YES_NO_OPTIONS if q["type"] == "yes_no" else q.get("options") or q.get("scale") or []
                labels = {o["value"]: o["label"] for o in options}
                out[q["id"]] = {"text": q["text"], "labels": labels, "question": q["id"]}
    survey.__dict__["_texts"] = out
    return out


def _distributions(survey: Survey, counts: dict[str, int], texts: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in survey.items:
        if item.kind not in ("single", "multi") or not item.counted:
            continue
        # Shares of every answer, "not applicable" included (the index leaves it out: see answered()).
        n_answered = (
            sum(counts.get(f"{item.id}={v}", 0) for v in item.options)
            if item.kind == "single"
            else answered(counts, item)
        )
        labels = texts.get(item.id, {}).get("labels", {})
        options = []
        for value in item.options:
            count = counts.get(f"{item.id}={value}", 0)
            share = round(100.0 * count / n_answered, 2) if n_answered else None
            option = {"value": value, "label": labels.get(value), "count": count, "share": share}
            if value in item.na_options:
                option["not_applicable"] = True
            options.append(option)
        out.append(
            {
                "id": item.id,
                "question": item.question_id,
                "text": texts.get(item.id, {}).get("text"),
                "kind": item.kind,
                "n": n_answered,
                "options": options,
            }
        )
    return out


class AggregateReader(Protocol):
    def scope_items(self, pk: str) -> list[dict[str, Any]]: ...

    def get_items(self, keys: Iterable[tuple[str, str]]) -> list[dict[str, Any]]: ...


CHANNEL_LABELS = {
    "web": "Cổng khảo sát",
    "widget": "Phiếu nhúng trên trang của cơ quan",
    "qr": "Mã QR tại điểm tiếp nhận",
    "link": "Đường dẫn của cơ quan",
    "field": "Điều tra viên",
    "paper": "Phiếu giấy",
    "api": "Ứng dụng khác (API)",
}
COUNTED_STATUSES = (RECEIVED, ACCEPTED, FLAGGED, REJECTED)


def attribution_counts(items: Iterable[dict[str, Any]], agency: str | None) -> dict[str, Any]:
    """Responses by channel and agency (national items), or by channel and location (one agency's items).

    Each row has every response counted (`n`, whatever its screening status) and the `accepted` ones.
    """
    wanted = attribution_sk("", agency)  # '#all' or '#ag#P01' after the status
    groups: dict[str, dict[str, dict[str, int]]] = {"": {}, "ch": {}, "ag": {}, "loc": {}}
    for item in items:
        status, _, rest = str(item["sk"]).partition("#")
        if status not in COUNTED_STATUSES or f"#{rest}" != wanted:
            continue
        for cell, value in item.items():
            kind, _, key = ("", "", "") if cell == "n" else str(cell).partition(":")
            if kind not in groups:
                continue
            row = groups[kind].setdefault(key, {"n": 0, "accepted": 0})
            row["n"] += int(value)
            row["accepted"] += int(value) if status == ACCEPTED else 0
    total = groups[""].get("", {"n": 0, "accepted": 0})

    def rows(kind: str, name: str) -> list[dict[str, Any]]:
        ordered = sorted(groups[kind].items(), key=lambda kv: (-kv[1]["n"], kv[0]))
        return [{name: None if key == NO_VALUE else key, **counts} for key, counts in ordered if counts["n"]]

    out: dict[str, Any] = {"agency": agency, **total, "by_channel": rows("ch", "channel")}
    for row in out["by_channel"]:
        row["label"] = CHANNEL_LABELS.get(row["channel"], row["channel"])
    out["by_agency" if agency is None else "by_location"] = (
        rows("ag", "agency") if agency is None else rows("loc", "location")
    )
    return out


class SurveyVersions(Protocol):
    def list_current(self) -> list[Survey]: ...

    def get(self, survey_id: str, version: int | None = None) -> Survey: ...


class ResultsService:
    """Live results of a survey in a scope, and the officials' dashboards, read from the aggregates only."""

    def __init__(
        self,
        surveys: SurveyVersions,
        aggregates: AggregateReader,
        geography: Callable[[], Any],
        names: Callable[[str | None], dict[str, str]] | None = None,
    ) -> None:
        self._surveys, self._aggregates, self._geography = surveys, aggregates, geography
        self._names = names  # agency codes to names (agency None), or an agency's location codes to names

    def results(
        self, survey_id: str, scope: str | None, include_flagged: bool, version: str | None = None
    ) -> tuple[Survey, dict[str, Any]]:
        from chalicelib.domain.catalog import read_version

        survey = read_version(self._surveys, survey_id, version)
        scope = parse_scope(scope)
        items = self._aggregates.scope_items(aggregate_pk(survey.key, scope))
        return survey, compute_results(survey, items, scope, include_flagged)

    def agency_scope(self, agency: str | None) -> str:
        """An agency's results scope: a province agency 'P01' reads scope 'p01'; the Ministry reads 'all'."""
        if agency is None or agency == "national":
            return NATIONAL
        if len(agency) == 3 and agency[0] == "P" and self._geography().province(agency[1:]) is not None:
            return f"p{agency[1:]}"
        raise NotFound("Không có cơ quan với mã này.", "No agency with that code.", field="agency")

    def dashboard(self, agency: str | None) -> dict[str, Any]:
        """Response counts and the index (flagged included) of every current survey in an agency's area."""
        scope = self.agency_scope(agency)
        surveys = []
        for survey in self._surveys.list_current():
            items = self._aggregates.scope_items(aggregate_pk(survey.key, scope))
            data = compute_results(survey, items, scope, True)
            surveys.append(
                {
                    "id": survey.id,
                    "version": survey.version,
                    "title": survey.definition["title"],
                    "status": survey.status,
                    "counts": data["counts"],
                    "index_with_flagged": (data.get("index") or {}).get("value"),
                }
            )
        return {"agency": agency or "national", "scope": scope, "surveys": surveys}

    def attribution(self, agency: str | None) -> list[dict[str, Any]]:
        """Where the responses to each current survey version came from: nationally by channel and agency;
        for an agency, its own responses by channel and location (pk survey#version#attr, aggregation.py)."""
        out = []
        names = self._names(agency) if self._names else {}
        for survey in self._surveys.list_current():
            pk = aggregate_pk(survey.key, ATTRIBUTION)
            if agency is None:
                items = self._aggregates.scope_items(pk)
            else:
                items = self._aggregates.get_items((pk, attribution_sk(s, agency)) for s in COUNTED_STATUSES)
            counts = attribution_counts(items, agency)
            for row in counts.get("by_agency", counts.get("by_location", [])):
                code = row.get("agency", row.get("location"))
                row["name"] = names.get(code) if code else None
            out.append({"id": survey.id, "version": survey.version, "title": survey.definition["title"], **counts})
        return out

    def console_dashboard(self, principal: Any) -> dict[str, Any]:
        """The console's dashboard follows the matrix: counts only for roles with results.read on their scope.

        Attribution (by channel, agency, location) is shown nationally, or for the official's own agency,
        a ministry included: its counters and pages are its own even where its results are by place.
        """
        agency = None if principal.can("console.view", None) else principal.agency
        if not principal.can("results.read", agency):
            return {"agency": agency or "national", "scope": "none", "surveys": [], "why": "no_results_permission"}
        if agency is not None and not agency.startswith("P"):  # a ministry: results are by place, not by ministry
            board = {"agency": agency, "scope": "none", "surveys": [], "why": "no_area"}
        else:
            board = self.dashboard(agency)
        return {**board, "attribution": self.attribution(agency)}
