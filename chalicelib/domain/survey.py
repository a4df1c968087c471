"""A survey version as the domain sees it: its answerable items, its submission schema, its aggregate layout."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from chalicelib.domain.errors import InvalidDefinition

OTHER_SUFFIX = "__other"  # answers[<question>__other] holds the free text of an option with other_text
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


@dataclass(frozen=True)
class Item:
    """One answerable unit: a single/multi choice or text question, or one row of a matrix."""

    id: str
    kind: str  # single | multi | text
    required: bool
    options: tuple[str, ...] = ()
    question_id: str = ""
    section_id: str = ""
    max_choices: int | None = None
    max_length: int = 2000
    other_options: tuple[str, ...] = ()
    personal_data: bool = False

    @property
    def counted(self) -> bool:
        """Personal data is never aggregated (Decree 13/2023: not needed for scoring)."""
        return not self.personal_data


@dataclass
class Survey:
    definition: dict[str, Any]
    items: list[Item] = field(default_factory=list)
    matrices: dict[str, list[str]] = field(default_factory=dict)  # matrix question id -> row ids

    @property
    def id(self) -> str:
        return str(self.definition["id"])

    @property
    def version(self) -> int:
        return int(self.definition["version"])

    @property
    def status(self) -> str:
        return str(self.definition.get("status", "draft"))

    @property
    def geography(self) -> str:
        return str(self.definition.get("geography", "vn-2025"))

    @property
    def screening(self) -> dict[str, Any]:
        return {**DEFAULT_SCREENING, **self.definition.get("screening", {})}

    @property
    def key(self) -> str:
        return f"{self.id}#{self.version}"

    @classmethod
    def from_definition(cls, definition: dict[str, Any]) -> Survey:
        survey = cls(definition=definition)
        seen: set[str] = set()

        def add(item: Item) -> None:
            if item.id in seen or item.id + OTHER_SUFFIX in seen:
                raise InvalidDefinition(
                    f"Mã câu hỏi bị trùng: {item.id}", f"duplicate question or row id: {item.id}", field=item.id
                )
            seen.add(item.id)
            survey.items.append(item)

        for section in definition["sections"]:
            for q in section["questions"]:
                qtype, required = q["type"], bool(q.get("required", False))
                if qtype in ("single_choice", "multi_choice"):
                    add(
                        Item(
                            id=q["id"],
                            kind="single" if qtype == "single_choice" else "multi",
                            required=required,
                            options=tuple(o["value"] for o in q["options"]),
                            question_id=q["id"],
                            section_id=section["id"],
                            max_choices=q.get("max_choices"),
                            other_options=tuple(o["value"] for o in q["options"] if o.get("other_text")),
                        )
                    )
                elif qtype == "matrix":
                    scale = tuple(o["value"] for o in q["scale"])
                    rows = []
                    for row in q["rows"]:
                        add(
                            Item(
                                id=row["id"],
                                kind="single",
                                required=bool(row.get("required", required)),
                                options=scale,
                                question_id=q["id"],
                                section_id=section["id"],
                            )
                        )
                        rows.append(row["id"])
                    survey.matrices[q["id"]] = rows
                else:
                    add(
                        Item(
                            id=q["id"],
                            kind="text",
                            required=required,
                            question_id=q["id"],
                            section_id=section["id"],
                            max_length=int(q.get("max_length", 2000)),
                            personal_data=bool(q.get("personal_data", False)),
                        )
                    )
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
        if self.status not in ("published", "open"):  # "open" is the former word for published
            return False
        now = now or datetime.now(timezone.utc)
        opens, closes = self.definition.get("opens_at"), self.definition.get("closes_at")
        if opens and now < parse_time(opens):
            return False
        return not (closes and now > parse_time(closes))

    # --- submission contract --------------------------------------------------------------
    def submission_schema(self) -> dict[str, Any]:
        """The envelope of schemas/submission.schema.json with 'answers' spelled out for this version."""
        from chalicelib.contracts import load_schema

        envelope = load_schema("submission")
        answers: dict[str, Any] = {}
        required: list[str] = []
        for item in self.items:
            if item.kind == "single":
                answers[item.id] = {"type": "string", "enum": list(item.options)}
            elif item.kind == "multi":
                spec: dict[str, Any] = {
                    "type": "array",
                    "items": {"type": "string", "enum": list(item.options)},
                    "uniqueItems": True,
                    "minItems": 1 if item.required else 0,
                }
                if item.max_choices:
                    spec["maxItems"] = item.max_choices
                answers[item.id] = spec
            else:
                answers[item.id] = {"type": "string", "maxLength": item.max_length}
            if item.other_options:
                answers[item.id + OTHER_SUFFIX] = {"type": "string", "maxLength": 500}
            if item.required:
                required.append(item.id)
        schema = {k: v for k, v in envelope.items() if k not in ("$id", "title", "description")}
        schema["title"] = f"Submission to {self.id} version {self.version}"
        schema["properties"] = {
            **envelope["properties"],
            "survey_version": {"type": "integer", "enum": [self.version]},
            "answers": {
                "type": "object",
                "additionalProperties": False,
                "required": required,
                "properties": answers,
            },
        }
        return schema

    def validator(self) -> Any:
        cached = self.__dict__.get("_validator")
        if cached is None:
            from chalicelib.contracts import compile_validator

            cached = compile_validator(self.submission_schema())
            self.__dict__["_validator"] = cached
        return cached

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
