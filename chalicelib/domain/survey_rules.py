"""The rules of an answer, from one survey definition: the published schema, the server's check, the browser's logic.

`submission_schema` spells every rule out in JSON Schema (types, bounds, conditions as if/then clauses,
"other" text, choice filters, communes within their province), so a client validating against the contract
is never refused for a rule it could not see. `check` says the same rules in form order with messages a
citizen can act on; tests/unit/test_survey_rules.py keeps the two in agreement.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

from chalicelib.domain.logic import Condition, absent, all_of, answered, holds
from chalicelib.domain.questions import OTHER_SUFFIX, REQUIRED_EN, REQUIRED_VI, Item, Problem


class Survey(Protocol):
    """What these rules read of a survey version (chalicelib/domain/survey.py)."""

    items: list[Item]
    sections: dict[str, Condition | None]

    @property
    def id(self) -> str: ...

    @property
    def version(self) -> int: ...

    @property
    def geography(self) -> str: ...

    def item(self, item_id: str) -> Item | None: ...


NOT_REACHABLE = (
    "Câu hỏi này không áp dụng với các câu trả lời trước đó; vui lòng để trống.",
    "This question does not apply given the earlier answers; leave it empty.",
)
CONSTRAINT = ("Câu trả lời chưa đúng yêu cầu của câu hỏi.", "The answer does not meet the question's condition.")
FILTERED = (
    "Phương án này không phù hợp với câu trả lời trước đó.",
    "This option does not fit an earlier answer.",
)
OTHER_ONLY = (
    "Chỉ ghi nội dung 'Khác' khi đã chọn phương án 'Khác'.",
    "Free text for 'other' is only allowed when the 'other' option is chosen.",
)
UNKNOWN_COMMUNE = (
    "Không có xã/phường/đặc khu với mã này trong danh mục địa giới của phiếu.",
    "No commune with this code in the survey's geography.",
)
OUTSIDE_PROVINCE = (
    "Xã/phường đã chọn không thuộc tỉnh/thành phố đã chọn.",
    "The commune chosen is not in the province chosen.",
)


# ------------------------------------------------------------------------------------------ the schema
# Clauses that hold a commune within its province (one per province with its communes listed) and the list
# of every commune a commune picker accepts. They are published so a client sees the rule, but compiled
# they would be ~0.5 MB of code and ~0.4 s of a cold start each, so the server applies the same rules from
# the same reference data in Python (server_schema, check).
GEOGRAPHY = "commune within province"


def server_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """The published schema without its geography clauses (the server checks those from the reference data)."""

    def keep(clause: Any) -> bool:
        return not (isinstance(clause, dict) and clause.get("$comment") == GEOGRAPHY)

    out = dict(schema)
    out["allOf"] = [c for c in schema.get("allOf", []) if keep(c)]
    answers = dict(schema["properties"]["answers"])
    if "allOf" in answers:
        answers["allOf"] = [c for c in answers["allOf"] if keep(c)]
    answers["properties"] = {
        name: spec if keep(spec) else {k: v for k, v in spec.items() if k != "enum"}
        for name, spec in answers["properties"].items()
    }
    out["properties"] = {**schema["properties"], "answers": answers}
    return out


def _places(survey: Survey) -> Any:
    from chalicelib.reference.geography import load_geography

    return load_geography(survey.geography)


def _answer_spec(item: Item, places: Any) -> dict[str, Any]:
    kind = item.kind
    if kind == "single":
        return {"type": "string", "enum": list(item.options)}
    if kind == "multi":
        spec: dict[str, Any] = {
            "type": "array",
            "items": {"type": "string", "enum": list(item.options)},
            "uniqueItems": True,
            "minItems": 1 if item.required and item.relevant is None and item.required_if is None else 0,
        }
        if item.max_choices:
            spec["maxItems"] = item.max_choices
        return spec
    if kind in ("integer", "decimal"):
        spec = {"type": "integer" if kind == "integer" else "number"}
        if item.minimum is not None:
            spec["minimum"] = item.minimum
        if item.maximum is not None:
            spec["maximum"] = item.maximum
        return spec
    if kind == "date":
        return {"type": "string", "format": "date"}
    if kind == "consent":
        if item.required and item.relevant is None and item.required_if is None:
            return {"const": True, "description": "consent given"}
        return {"type": "boolean", "description": "consent given (true) or not"}
    if kind == "place":
        if item.level == "province":
            return {"type": "string", "enum": [p.code for p in places.provinces]}
        codes = [c.code for p in places.provinces for c in places.communes_of(p.code)]
        return {"$comment": GEOGRAPHY, "type": "string", "pattern": "^[0-9]{5}$", "enum": codes}
    spec = {"type": "string", "maxLength": item.max_length}
    if item.required and item.relevant is None and item.required_if is None:
        spec["pattern"] = NOT_BLANK  # a required text is not answered by spaces
    return spec


NOT_BLANK = "\\S"


def _when_chosen(item: Item, values: list[str] | tuple[str, ...]) -> Condition:
    """The answer to item is (for a multi choice: includes) one of values."""
    if item.kind == "multi":
        return {"required": [item.id], "properties": {item.id: {"contains": {"enum": list(values)}}}}
    return {"required": [item.id], "properties": {item.id: {"enum": list(values)}}}


def _within_province(commune: str, province: str, places: Any) -> list[Condition]:
    """A commune answer implies the province answer that contains it: one clause per province."""
    clauses = []
    for p in places.provinces:
        codes = [c.code for c in places.communes_of(p.code)]
        if codes:
            clauses.append(
                {
                    "$comment": GEOGRAPHY,
                    "if": {"required": [commune], "properties": {commune: {"enum": codes}}},
                    "then": {"required": [province], "properties": {province: {"const": p.code}}},
                }
            )
    return clauses


def submission_schema(survey: Survey) -> dict[str, Any]:
    from chalicelib.contracts import load_schema

    places = _places(survey)
    envelope = load_schema("submission")
    answers: dict[str, Any] = {}
    required: list[str] = []
    rules: list[Condition] = []
    for item in survey.items:
        answers[item.id] = _answer_spec(item, places)
        if item.other_options:
            answers[item.id + OTHER_SUFFIX] = {"type": "string", "maxLength": 500}
            rules.append({"if": answered(item.id + OTHER_SUFFIX), "then": _when_chosen(item, item.other_options)})
        must = _must_answer(item)
        if item.relevant is not None:
            rule: dict[str, Any] = {"if": item.relevant, "else": absent(item.id)}
            if item.required and item.required_if is None:
                rule["then"] = must
            rules.append(rule)
        elif item.required and item.required_if is None:
            required.append(item.id)
        if item.required_if is not None:
            rules.append({"if": all_of(item.relevant, item.required_if), "then": must})
        if item.constraint is not None:
            rules.append({"if": answered(item.id), "then": item.constraint})
        for condition, values in item.filters:
            rules.append({"if": _when_chosen(item, values), "then": condition})
        if item.kind == "place" and item.level == "commune" and item.parent:
            rules.extend(_within_province(item.id, item.parent, places))
    answers_schema: dict[str, Any] = {
        "type": "object",
        "additionalProperties": False,
        "required": required,
        "properties": answers,
    }
    if rules:
        answers_schema["allOf"] = rules
    schema = {k: v for k, v in envelope.items() if k not in ("$id", "title", "description")}
    schema["title"] = f"Submission to {survey.id} version {survey.version}"
    schema["description"] = (
        "The answers of this survey version with every rule the server applies: conditions are if/then "
        "clauses (a question whose condition does not hold must be absent), 'other' texts, choice filters "
        "and communes within their province (docs/SURVEY_MODEL.md)."
    )
    properties = dict(envelope["properties"])
    properties["survey_version"] = {"type": "integer", "enum": [survey.version]}
    properties["province"] = {**properties["province"], "enum": [p.code for p in places.provinces]}
    properties["answers"] = answers_schema
    schema["properties"] = properties
    schema["allOf"] = [*schema.get("allOf", []), *_within_province("commune", "province", places)]
    return schema


def _must_answer(item: Item) -> Condition:
    if item.kind == "multi":
        return {"required": [item.id], "properties": {item.id: {"minItems": 1}}}
    if item.kind == "text":
        return {"required": [item.id], "properties": {item.id: {"pattern": NOT_BLANK}}}
    if item.kind == "consent":
        return {"required": [item.id], "properties": {item.id: {"const": True}}}
    return {"required": [item.id]}


# ------------------------------------------------------------------------------------------ the check
def _given(value: Any) -> bool:
    return value is not None and value != [] and not (isinstance(value, str) and not value.strip())


def _required_now(item: Item, answers: dict[str, Any]) -> bool:
    if item.required_if is not None:
        return holds(item.required_if, answers)
    return item.required


def check(survey: Survey, answers: dict[str, Any]) -> list[Problem]:
    places = None
    problems: list[Problem] = []

    def say(item_id: str, message: tuple[str, str]) -> None:
        problems.append(Problem(f"/answers/{item_id}", message[0], message[1]))

    for item in survey.items:
        present = item.id in answers
        value = answers.get(item.id)
        shown = item.relevant is None or holds(item.relevant, answers)
        if not shown:
            if present:
                say(item.id, NOT_REACHABLE)
            continue
        if not present or not (value is True if item.kind == "consent" else _given(value)):
            if _required_now(item, answers):
                say(item.id, (REQUIRED_VI, REQUIRED_EN))
            continue
        if item.constraint is not None and not holds(item.constraint, answers):
            message = item.constraint_message or {}
            say(item.id, (message.get("vi") or CONSTRAINT[0], message.get("en") or CONSTRAINT[1]))
        for condition, values in item.filters:
            chosen = value if isinstance(value, list) else [value]
            if set(chosen) & set(values) and not holds(condition, answers):
                say(item.id, FILTERED)
                break
        if item.kind == "place" and item.level == "commune" and isinstance(value, str):
            places = places or _places(survey)
            if places.commune(value) is None:
                say(item.id, UNKNOWN_COMMUNE)
            elif item.parent and not places.contains(str(answers.get(item.parent) or ""), value):
                say(item.id, OUTSIDE_PROVINCE)
        other = item.id + OTHER_SUFFIX
        if other in answers:
            chosen = value if isinstance(value, list) else [value]
            if not set(chosen) & set(item.other_options):
                problems.append(Problem(f"/answers/{other}", *OTHER_ONLY))
    for key in answers:
        if key.endswith(OTHER_SUFFIX) and key[: -len(OTHER_SUFFIX)] not in answers:
            owner = survey.item(key[: -len(OTHER_SUFFIX)])
            if owner is not None and owner.other_options:
                problems.append(Problem(f"/answers/{key}", *OTHER_ONLY))
    return problems


def reachable(survey: Survey, answers: dict[str, Any]) -> dict[str, Any]:
    """Drop answers to hidden questions until none is left (a condition may read an answer just dropped)."""
    out = dict(answers)
    for _ in range(len(survey.items) + 1):
        hidden = [
            item.id
            for item in survey.items
            if item.relevant is not None and item.id in out and not holds(item.relevant, out)
        ]
        if not hidden:
            break
        for item_id in hidden:
            out.pop(item_id, None)
            out.pop(item_id + OTHER_SUFFIX, None)
    return out


# ------------------------------------------------------------------------------------------ the browser
def client_logic(survey: Survey) -> dict[str, Any]:
    """Per item: r = condition to show, q = required (true or a condition), c/m = constraint and message,
    f = [[condition, option values], ...] choice filters; per section: its condition. Only what is not trivial."""
    items: dict[str, Any] = {}
    for item in survey.items:
        entry: dict[str, Any] = {}
        if item.relevant is not None:
            entry["r"] = item.relevant
        if item.required_if is not None:
            entry["q"] = item.required_if
        if item.constraint is not None:
            entry["c"] = item.constraint
            if item.constraint_message:
                entry["m"] = item.constraint_message
        if item.filters:
            entry["f"] = [[condition, list(values)] for condition, values in item.filters]
        if entry:
            items[item.id] = entry
    sections = {sid: condition for sid, condition in survey.sections.items() if condition is not None}
    return {"items": items, "sections": sections}


# ------------------------------------------------------------------------------------------ languages
_TEXT_FIELDS = ("title", "description", "topic", "text", "help", "intro", "label", "constraint_message")


def _texts(node: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _TEXT_FIELDS and isinstance(value, dict) and all(isinstance(v, str) for v in value.values()):
                yield f"{path}/{key}", value
            elif isinstance(value, dict | list) and key not in ("screening", "methodology", "filter"):
                yield from _texts(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _texts(value, f"{path}/{index}")


def missing_translations(definition: dict[str, Any]) -> list[str]:
    languages = ["vi", *[code for code in definition.get("languages") or [] if code != "vi"]]  # Vietnamese always
    missing = []
    for path, text in _texts(definition, ""):
        for language in languages:
            if not str(text.get(language) or "").strip():
                missing.append(f"{path}/{language}")
    return missing
