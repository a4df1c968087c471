"""The console's paper-entry pages: batches, the keyboard-first entry screen, the resolve page."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from chalicelib.web.pages import _render

STATES = {
    "awaiting_second": "Chờ nhập lần 2",
    "agreed": "Khớp — đã tạo phiếu",
    "mismatch": "Lệch — chờ đối chiếu",
    "resolved": "Đã đối chiếu",
}
YES_NO = (("1", "yes", "Có"), ("2", "no", "Không"))


@dataclass
class EntryField:
    """One box of the entry screen, in the paper's order and numbering: what the clerk types and what it means."""

    id: str  # the answer key (question id, matrix row id, <question>__other)
    number: str  # as printed: the question id, "q5.a" for a matrix row
    text: str
    kind: str  # single | multi | yn | integer | decimal | text | date | consent | place
    codes: list[tuple[str, str]] = field(default_factory=list)  # (code typed, label)
    minimum: float | None = None
    maximum: float | None = None
    other_of: str = ""  # a free-text box shown when one of other_codes is keyed in that question
    other_codes: list[str] = field(default_factory=list)


def _vi(text: Any) -> str:
    return str(text.get("vi", "")) if isinstance(text, dict) else str(text or "")


def entry_fields(survey: Any) -> list[EntryField]:
    fields: list[EntryField] = []
    for section in survey.definition.get("sections", []):
        for q in section.get("questions", []):
            kind = q.get("type")
            if kind == "note":
                continue
            options = q.get("options") or q.get("scale") or []
            codes = [(str(o["value"]), _vi(o.get("label"))) for o in options]
            others = [str(o["value"]) for o in options if o.get("other_text")]
            if kind == "matrix":
                fields.extend(
                    EntryField(
                        row["id"], f"{q['id']}.{row['id']}", f"{_vi(q['text'])} — {_vi(row['text'])}", "single", codes
                    )
                    for row in q.get("rows", [])
                )
                continue
            shape = {
                "single_choice": "single",
                "rating": "single",
                "multi_choice": "multi",
                "yes_no": "yn",
                "long_text": "text",
            }.get(kind, kind)
            if shape == "yn":
                codes = [(code, label) for code, _, label in YES_NO]
            fields.append(EntryField(q["id"], q["id"], _vi(q.get("text")), shape, codes, q.get("min"), q.get("max")))
            if others:
                fields.append(
                    EntryField(
                        f"{q['id']}__other", f"{q['id']} (khác)", "Ghi rõ", "text", other_of=q["id"], other_codes=others
                    )
                )
    return fields


def keyed(fields: list[EntryField], answers: dict[str, Any]) -> dict[str, str]:
    """Stored answers as a clerk would have typed them (codes, numbers, several codes separated by spaces)."""
    kinds = {f.id: f.kind for f in fields}
    out: dict[str, str] = {}
    for key, value in answers.items():
        if isinstance(value, list):
            out[key] = " ".join(str(v) for v in value)
        elif kinds.get(key) == "yn":
            out[key] = {"yes": "1", "no": "2"}.get(str(value), str(value))
        elif value is True:
            out[key] = "1"
        elif isinstance(value, float) and value.is_integer():
            out[key] = str(int(value))
        else:
            out[key] = str(value)
    return out


def from_form(fields: list[EntryField], posted: dict[str, list[str]]) -> dict[str, str]:
    """The answers a console form posted (a.<id> boxes), yes/no codes read as the survey's values."""
    answers: dict[str, str] = {}
    for f in fields:
        value = (posted.get(f"a.{f.id}") or [""])[0].strip()
        if not value:
            continue
        if f.kind == "yn":
            value = {code: meaning for code, meaning, _ in YES_NO}.get(value, value)
        answers[f.id] = value
    return answers


def logic_json(survey: Any) -> str:
    # "</" cannot close the script element that holds it
    return json.dumps(survey.client_logic(), ensure_ascii=False).replace("</", "<\\/")


def render_paper_batches(agency: str, batches: list[dict[str, Any]], surveys: list[Any], **context: Any) -> str:
    return _render("admin_paper.html", agency=agency, batches=batches, surveys=surveys, **context)


def render_paper_batch(batch: dict[str, Any], survey: Any, **context: Any) -> str:
    fields = entry_fields(survey)
    return _render(
        "admin_paper_batch.html",
        batch=batch,
        survey=survey,
        fields=fields,
        logic=logic_json(survey),
        states=STATES,
        **context,
    )


def render_paper_form(form: dict[str, Any], survey: Any, **context: Any) -> str:
    fields = entry_fields(survey)
    entries = [keyed(fields, e["answers"]) for e in form.get("entries", [])]
    return _render(
        "admin_paper_form.html",
        form=form,
        batch=form["batch"],
        survey=survey,
        fields=fields,
        entries=entries,
        final=keyed(fields, form.get("final") or {}),
        logic=logic_json(survey),
        states=STATES,
        **context,
    )
