"""A survey version as the domain sees it: its answerable items, its submission schema, its aggregate layout."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from chalicelib.domain import survey_build, survey_rules
from chalicelib.domain.errors import InvalidDefinition
from chalicelib.domain.logic import Condition
from chalicelib.domain.questions import (  # re-exported: the survey's parts are read through this module
    DEFAULT_MAX_LENGTH,
    OTHER_SUFFIX,
    QUESTION_KINDS,
    REQUIRED_EN,
    REQUIRED_VI,
    YES_NO_OPTIONS,
    Item,
    Problem,
)

__all__ = [
    "DEFAULT_MAX_LENGTH",
    "OTHER_SUFFIX",
    "QUESTION_KINDS",
    "REQUIRED_EN",
    "REQUIRED_VI",
    "YES_NO_OPTIONS",
    "Item",
    "Problem",
    "Survey",
    "parse_time",
]

# Counters per aggregate item: 256 "#ab :0, " clauses keep an UpdateExpression near 2.3 KB, well under
# DynamoDB's 4 KB (moto needs infra/local/moto_patches.py beyond ~150 clauses).
PAGE_CELLS = 256
DURATION_BUCKETS = 64  # log-scale buckets of completion time, base 1.25 (1 s … ~19 days)

DEFAULT_SCREENING = {
    "speeder_median_ratio": 0.5,
    "speeder_seconds_per_item": 1.0,
    "speeder_min_history": 30,
    "straightline_min_items": 10,
}


@dataclass
class Survey:
    definition: dict[str, Any]
    items: list[Item] = field(default_factory=list)
    matrices: dict[str, list[str]] = field(default_factory=dict)  # matrix question id -> row ids
    sections: dict[str, Condition | None] = field(default_factory=dict)  # section id -> its condition

    @property
    def id(self) -> str:
        return str(self.definition["id"])

    @property
    def version(self) -> int:
        return int(self.definition["version"])

    @property
    def status(self) -> str:
        """draft | published | closed ("open", the former word, reads as published)."""
        status = str(self.definition.get("status", "draft"))
        return "published" if status == "open" else status

    @property
    def geography(self) -> str:
        return str(self.definition.get("geography", "vn-2025"))

    @property
    def languages(self) -> list[str]:
        return list(self.definition.get("languages") or ["vi"])

    @property
    def screening(self) -> dict[str, Any]:
        return {**DEFAULT_SCREENING, **self.definition.get("screening", {})}

    @property
    def has_commune_pickers(self) -> bool:
        return any(i.kind == "place" and i.level == "commune" for i in self.items)

    @property
    def key(self) -> str:
        return f"{self.id}#{self.version}"

    @classmethod
    def from_definition(cls, definition: dict[str, Any]) -> Survey:
        survey = cls(definition=definition)
        survey.items, survey.matrices, survey.sections = survey_build.build(definition)
        survey._check_scoring()
        return survey

    def _check_scoring(self) -> None:
        scoring = self.definition.get("scoring")
        if not scoring:
            return
        for part in scoring["parts"]:
            for element in part["elements"]:
                for item_id in element["items"]:
                    item = self.item(item_id)
                    if item is None or item.kind != "single":
                        raise InvalidDefinition(
                            f"Chỉ tiêu {item_id} không phải là một câu hỏi lựa chọn của phiếu.",
                            f"scored item {item_id} is not a single-choice item of the survey",
                            field=f"/scoring/{part['id']}/{element['id']}",
                        )

    def item(self, item_id: str) -> Item | None:
        return self._by_id().get(item_id)

    def _by_id(self) -> dict[str, Item]:
        cached = self.__dict__.get("_items_by_id")
        if cached is None:
            cached = {i.id: i for i in self.items}
            self.__dict__["_items_by_id"] = cached
        return cached

    # --- opening window -------------------------------------------------------------------
    def is_open(self, now: datetime | None = None) -> bool:
        if self.status != "published":
            return False
        now = now or datetime.now(timezone.utc)
        opens, closes = self.definition.get("opens_at"), self.definition.get("closes_at")
        if opens and now < parse_time(opens):
            return False
        return not (closes and now > parse_time(closes))

    # --- the rules of an answer (chalicelib/domain/survey_rules.py) -----------------------
    def submission_schema(self) -> dict[str, Any]:
        """The envelope of schemas/submission.schema.json with 'answers' spelled out for this version,
        conditions and cross-field rules included."""
        cached = self.__dict__.get("_schema")
        if cached is None:
            cached = self.__dict__["_schema"] = survey_rules.submission_schema(self)
        return copy.deepcopy(cached)

    def validator(self) -> Any:
        """The compiled contract, less the communes-within-province clauses (see survey_rules.server_schema):
        the submission service checks those from the reference data, so the two still agree."""
        cached = self.__dict__.get("_validator")
        if cached is None:
            from chalicelib.contracts import compile_validator

            cached = compile_validator(survey_rules.server_schema(self.submission_schema()))
            self.__dict__["_validator"] = cached
        return cached

    def check(self, answers: dict[str, Any]) -> list[Problem]:
        """Every rule an answers object breaks, in form order, with a message a citizen can act on."""
        return survey_rules.check(self, answers)

    def reachable(self, answers: dict[str, Any]) -> dict[str, Any]:
        """The answers without those to questions their conditions hide (a form posted without JavaScript)."""
        return survey_rules.reachable(self, answers)

    def client_logic(self) -> dict[str, Any]:
        """The conditions as the browser evaluates them (static/logic.js, for form.js and field.js)."""
        return survey_rules.client_logic(self)

    def missing_translations(self) -> list[str]:
        """JSON paths of texts lacking a language the survey lists: publishing is refused while any remain."""
        return survey_rules.missing_translations(self.definition)

    # --- aggregate layout -----------------------------------------------------------------
    def cells(self, unit: bool = False) -> list[str]:
        """Every counter of one (scope, status), in a stable order: meta first, then each item.

        A sampling-unit scope (the commune) keeps only what an estimate needs from it, the count and
        the scored items' answers; distributions of everything else live at province and national scope.
        """
        key = "_unit_cells" if unit else "_cells"
        cached = self.__dict__.get(key)
        if cached is None:
            if unit:
                scored = set(self.scored_items())
                cached = ["n"] + [f"{i.id}={v}" for i in self.items if i.id in scored for v in i.options]
            else:
                cached = ["n"] + [f"_d{k}" for k in range(DURATION_BUCKETS)]
                for item in self.items:
                    if not item.counted:
                        continue
                    if item.kind != "single":  # a single choice's answered count is the sum of its options
                        cached.append(item.id)
                    cached.extend(f"{item.id}={v}" for v in item.options)
            self.__dict__[key] = cached
        return cached

    def page_of(self, unit: bool = False) -> dict[str, int]:
        key = "_unit_page_of" if unit else "_page_of"
        cached = self.__dict__.get(key)
        if cached is None:
            cached = {cell: i // PAGE_CELLS for i, cell in enumerate(self.cells(unit))}
            self.__dict__[key] = cached
        return cached

    def scored_items(self) -> list[str]:
        scoring = self.definition.get("scoring") or {"parts": []}
        return [i for p in scoring["parts"] for e in p["elements"] for i in e["items"]]


def parse_time(value: str) -> datetime:
    """ISO-8601 with a trailing Z, as browsers send it."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
