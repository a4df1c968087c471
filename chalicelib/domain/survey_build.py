"""Reading a survey definition into answerable items with their conditions (docs/SURVEY_MODEL.md).

Every expression (relevant, required, constraint, choice_filter) is compiled here, once per version,
into a condition (chalicelib/domain/logic.py); an expression that cannot be held to is refused with the
JSON path of the field that holds it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chalicelib.domain.errors import InvalidDefinition
from chalicelib.domain.logic import (
    Condition,
    ExpressionError,
    Target,
    all_of,
    canonical,
    compile_condition,
)
from chalicelib.domain.questions import DEFAULT_MAX_LENGTH, OTHER_SUFFIX, QUESTION_KINDS, YES_NO_OPTIONS, Item

# The fields of a submission's envelope and of the citizen's form: a question with one of these ids could not be
# told apart from them in a posted form.
RESERVED_IDS = frozenset(
    {"id", "survey_version", "channel", "province", "commune", "website", "started_at", "page_ms", "attribution"}
)


Built = tuple[list[Item], dict[str, list[str]], dict[str, Condition | None]]


def build(definition: dict[str, Any]) -> Built:
    """The items (questions and matrix rows, in form order, with their conditions), the matrices' rows and
    each section's condition of one definition."""
    items: list[Item] = []
    matrices: dict[str, list[str]] = {}
    sections: dict[str, Condition | None] = {}
    raw: list[tuple[Item, dict[str, Any], str]] = []  # (item without conditions, its question, its json path)
    seen: set[str] = set()

    def add(item: Item, question: dict[str, Any], path: str) -> None:
        if item.id in RESERVED_IDS:
            raise InvalidDefinition(
                f"Mã câu hỏi “{item.id}” trùng với một trường của phiếu; hãy đặt mã khác.",
                f"The question id “{item.id}” is reserved for a field of the submission; choose another.",
                field=path + "/id",
            )
        if item.id in seen or item.id + OTHER_SUFFIX in seen or item.id in sections:
            raise InvalidDefinition(
                f"Mã câu hỏi bị trùng: {item.id}", f"duplicate question or row id: {item.id}", field=path + "/id"
            )
        seen.add(item.id)
        raw.append((item, question, path))

    for s_index, section in enumerate(definition["sections"]):
        sections[section["id"]] = None
        for q_index, q in enumerate(section["questions"]):
            path = f"/sections/{s_index}/questions/{q_index}"
            qtype, required = q["type"], bool(q.get("required", False))
            common = {"question_id": q["id"], "section_id": section["id"], "question_type": qtype}
            if qtype == "note":
                continue
            if qtype == "matrix":
                scale = q["scale"]
                rows = []
                for r_index, row in enumerate(q["rows"]):
                    item = Item(
                        id=row["id"],
                        kind="single",
                        required=bool(row.get("required", required)),
                        options=tuple(o["value"] for o in scale),
                        na_options=tuple(o["value"] for o in scale if o.get("not_applicable")),
                        **common,
                    )
                    add(item, {**q, "_row": row}, f"{path}/rows/{r_index}")
                    rows.append(row["id"])
                matrices[q["id"]] = rows
                continue
            kind = QUESTION_KINDS[qtype]
            options: list[dict[str, Any]] = (
                list(YES_NO_OPTIONS) if qtype == "yes_no" else q.get("options") or q.get("scale") or []
            )
            max_length = q.get("max_length", DEFAULT_MAX_LENGTH.get(qtype, 2000))
            item = Item(
                id=q["id"],
                kind=kind,
                required=required,
                options=tuple(o["value"] for o in options),
                max_choices=q.get("max_choices"),
                max_length=int(max_length),
                other_options=tuple(o["value"] for o in options if o.get("other_text")),
                na_options=tuple(o["value"] for o in options if o.get("not_applicable")),
                personal_data=bool(q.get("personal_data", False)),
                minimum=q.get("min") if isinstance(q.get("min"), int | float) else None,
                maximum=q.get("max") if isinstance(q.get("max"), int | float) else None,
                level=str(q.get("level", "")),
                parent=str(q.get("parent", "")),
                **common,
            )
            _check_options(options, path)
            if qtype == "date" and (q.get("min") is not None or q.get("max") is not None):
                raise InvalidDefinition(
                    "Giới hạn ngày (min, max) chưa được hỗ trợ: hợp đồng dữ liệu (JSON Schema) không so sánh được ngày.",
                    "Date bounds (min, max) are not supported: the contract (JSON Schema) cannot compare dates.",
                    field=path + ("/min" if q.get("min") is not None else "/max"),
                )
            add(item, q, path)

    targets = {item.id: Target(item.kind, item.options, item.na_options) for item, _, _ in raw}
    by_id = {item.id: item for item, _, _ in raw}

    def compile_at(text: str, where: str, **kw: Any) -> Condition:
        try:
            return compile_condition(text, targets.get, **kw)
        except ExpressionError as exc:
            at = f" (vị trí {exc.at + 1})" if exc.at is not None else ""
            at_en = f" (position {exc.at + 1})" if exc.at is not None else ""
            raise InvalidDefinition(
                f"Biểu thức “{text}” không hợp lệ{at}: {exc.message_vi}",
                f"Invalid expression “{text}”{at_en}: {exc.message_en}",
                field=where,
                details=[{"expression": text, "position": exc.at}],
            ) from None

    section_path = {s["id"]: f"/sections/{i}" for i, s in enumerate(definition["sections"])}
    for section in definition["sections"]:
        if section.get("relevant"):
            where = section_path[section["id"]] + "/relevant"
            sections[section["id"]] = compile_at(section["relevant"], where)

    for item, q, path in raw:
        q_path = path.split("/rows/")[0]
        row = q.get("_row") or {}
        relevant = [sections[item.section_id]]
        if q.get("relevant"):
            relevant.append(compile_at(q["relevant"], q_path + "/relevant"))
        if row.get("relevant"):
            relevant.append(compile_at(row["relevant"], path + "/relevant"))
        conditions = [c for c in relevant if c is not None]
        changes: dict[str, Any] = {"relevant": all_of(*conditions) if conditions else None}
        if q.get("required_if"):
            changes["required_if"] = compile_at(q["required_if"], q_path + "/required_if")
        if q.get("constraint") and "_row" not in q:
            changes["constraint"] = compile_at(q["constraint"], q_path + "/constraint", self_id=item.id)
            changes["constraint_message"] = q.get("constraint_message")
        if q.get("choice_filter"):
            if item.kind not in ("single", "multi") or "_row" in q:
                raise InvalidDefinition(
                    "Chỉ câu hỏi lựa chọn mới có bộ lọc phương án (choice_filter).",
                    "Only a choice question may have a choice_filter.",
                    field=q_path + "/choice_filter",
                )
            changes["filters"] = _filters(q, compile_at, q_path)
        if item.kind == "place" and item.level == "commune" and item.parent:
            parent = by_id.get(item.parent)
            if parent is None or parent.kind != "place" or parent.level != "province":
                raise InvalidDefinition(
                    f"Câu chọn xã/phường phải gắn với một câu chọn tỉnh/thành phố của phiếu (parent: {item.parent}).",
                    f"A commune picker's parent must be a province picker of the survey (parent: {item.parent}).",
                    field=q_path + "/parent",
                )
        items.append(replace(item, **changes))
    return items, matrices, sections


def _filters(q: dict[str, Any], compile_at: Any, path: str) -> tuple[tuple[Condition, tuple[str, ...]], ...]:
    """choice_filter: the condition under which each option is offered, options sharing one grouped."""
    groups: dict[str, tuple[Condition, list[str]]] = {}
    options = q.get("options") or []
    # ODK reads an empty cell of a choices column as '': an option without a value in a column has ''
    columns = {column for option in options for column in option.get("filter") or {}}
    for option in options:
        attrs = {**dict.fromkeys(columns, ""), **(option.get("filter") or {}), "name": option["value"]}
        condition = compile_at(q["choice_filter"], f"{path}/choice_filter", attrs=attrs)
        key = canonical(condition)
        groups.setdefault(key, (condition, []))[1].append(option["value"])
    return tuple((condition, tuple(values)) for condition, values in groups.values())


def _check_options(options: list[dict[str, Any]], path: str) -> None:
    values = [o["value"] for o in options]
    if len(set(values)) != len(values):
        duplicate = next(v for v in values if values.count(v) > 1)
        raise InvalidDefinition(
            f"Giá trị phương án bị trùng: {duplicate}", f"duplicate option value: {duplicate}", field=path + "/options"
        )
