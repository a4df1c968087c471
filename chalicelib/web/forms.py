"""A posted survey form (the no-JavaScript path) read into a submission body, and its gaps as field messages.

Without JavaScript the citizen sees every question, so the form may carry answers to questions whose
condition does not hold (e.g. Part II of Q9 after answering "no" to q8_04). Those are dropped here, with
the survey's own `Survey.reachable`, before the answers are checked: a hidden question has no answer.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Iterator
from typing import Any

from chalicelib.domain.survey import OTHER_SUFFIX, Survey

FORM_CLIENT = "form-html/1"
REQUIRED_MESSAGE = "Vui lòng trả lời câu hỏi bắt buộc này."
PROVINCE_MESSAGE = "Vui lòng chọn tỉnh/thành phố nơi Ông/Bà đang sinh sống."
NUMBER_MESSAGES = {"integer": "Vui lòng nhập một số nguyên.", "decimal": "Vui lòng nhập một số."}
CONSENT_VALUES = ("true", "on", "1", "yes")
SINGLE_VALUED = ("single_choice", "rating", "yes_no", "place", "date")
_INTEGER = re.compile(r"^[+-]?\d{1,15}$")
_DECIMAL = re.compile(r"^[+-]?(\d{1,15}([.,]\d{0,15})?|[.,]\d{1,15})$")


def form_to_submission(survey: Survey, form: dict[str, list[str]]) -> dict[str, Any]:
    """A posted urlencoded form (parse_qs result) as a submission body (schemas/submission.schema.json).

    Answers to questions that the other answers make unreachable are left out.
    """

    def first(name: str) -> str:
        return (form.get(name) or [""])[0]

    version: int | str = first("survey_version").strip()
    with contextlib.suppress(ValueError):
        version = int(version)
    paradata: dict[str, Any] = {"started_at": first("started_at"), "client": FORM_CLIENT}
    page_ms = _page_ms(first("page_ms"))
    if page_ms:
        paradata["page_ms"] = page_ms
    body: dict[str, Any] = {
        "id": first("id").strip(),
        "survey_version": version,
        "channel": first("channel"),
        "province": first("province"),
        "answers": reachable_answers(survey, _answers(survey, form)),
        "paradata": paradata,
    }
    for name in ("commune", "website", "attribution"):
        if first(name):
            body[name] = first(name)
    return body


def reachable_answers(survey: Survey, answers: dict[str, Any]) -> dict[str, Any]:
    """The answers without those to questions (or sections, or rows) whose condition does not hold."""
    reachable = getattr(survey, "reachable", None)
    if not callable(reachable):  # a survey core without conditions: every question is reachable
        return answers
    kept = reachable(answers)
    if isinstance(kept, dict):
        return kept
    ids = set(kept)
    return {k: v for k, v in answers.items() if k in ids or k.removesuffix(OTHER_SUFFIX) in ids}


def missing_required(survey: Survey, answers: dict[str, Any]) -> list[str]:
    """Ids of the required questions and matrix rows without an answer, in form order (conditions aside)."""
    return [name for name, qtype, required in _fields(survey) if required and not _answered(answers.get(name), qtype)]


def form_errors(survey: Survey, submission: dict[str, Any]) -> dict[str, str]:
    """Every gap of a posted form at once, in form order: the province, numbers that are not numbers, then
    the survey's own checks (required, constraints, ranges) with their Vietnamese messages."""
    errors: dict[str, str] = {}
    if not str(submission.get("province") or "").strip():
        errors["province"] = PROVINCE_MESSAGE
    answers = submission.get("answers") or {}
    for name, qtype, _required in _fields(survey):
        if qtype in NUMBER_MESSAGES and isinstance(answers.get(name), str):
            errors[name] = NUMBER_MESSAGES[qtype]
    check = getattr(survey, "check", None)
    if callable(check):
        for problem in check(answers):
            name, message = _problem(problem)
            errors.setdefault(name or "form", message or REQUIRED_MESSAGE)
    else:
        for name in missing_required(survey, answers):
            errors.setdefault(name, REQUIRED_MESSAGE)
    return errors


def field_of(path: str | None) -> str:
    """The form field named by an API error path: '/answers/q9_01' -> 'q9_01', '/province' -> 'province'."""
    if not path:
        return ""
    parts = [p for p in path.split("/") if p]
    return parts[-1] if parts else ""


def _problem(problem: Any) -> tuple[str, str]:
    """(field, Vietnamese message) of one of Survey.check's problems (a mapping or an object)."""

    def part(*names: str) -> str:
        for name in names:
            value = problem.get(name) if isinstance(problem, dict) else getattr(problem, name, None)
            if isinstance(value, dict):
                value = value.get("vi")
            if value:
                return str(value)
        return ""

    return field_of(part("field", "path")), part("message_vi", "message", "vi")


def _fields(survey: Survey) -> Iterator[tuple[str, str, bool]]:
    """(answer name, question type, required) of every answerable question and matrix row, in form order."""
    for section in survey.definition["sections"]:
        for q in section["questions"]:
            required = bool(q.get("required", False))
            if q["type"] == "matrix":
                for row in q["rows"]:
                    yield row["id"], "row", bool(row.get("required", required))
            elif q["type"] != "note":
                yield q["id"], q["type"], required


def _answers(survey: Survey, form: dict[str, list[str]]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for section in survey.definition["sections"]:
        for q in section["questions"]:
            qid, qtype = q["id"], q["type"]
            if qtype == "matrix":
                for row in q["rows"]:
                    posted = _posted(form, row["id"])
                    if posted:
                        answers[row["id"]] = posted[0]
                continue
            posted = _posted(form, qid)
            if not posted or qtype == "note":
                continue
            if qtype == "multi_choice":
                answers[qid] = list(dict.fromkeys(posted))
            elif qtype in ("text", "long_text"):
                if posted[0].strip():
                    answers[qid] = posted[0]
            elif qtype in NUMBER_MESSAGES:
                answers[qid] = _number(posted[0].strip(), qtype)
            elif qtype == "consent":
                if posted[0].strip().lower() in CONSENT_VALUES:
                    answers[qid] = True
            else:
                answers[qid] = posted[0]
            if any(o.get("other_text") for o in q.get("options", [])):
                other = (form.get(qid + OTHER_SUFFIX) or [""])[0]
                if other.strip():
                    answers[qid + OTHER_SUFFIX] = other
    return answers


def _posted(form: dict[str, list[str]], name: str) -> list[str]:
    return [v for v in form.get(name, []) if v != ""]


def _number(raw: str, qtype: str) -> int | float | str:
    """An integer or a decimal (a Vietnamese decimal comma is accepted); the text itself when it is not one."""
    if qtype == "integer" and _INTEGER.match(raw):
        return int(raw)
    if qtype == "decimal" and _DECIMAL.match(raw):
        return float(raw.replace(",", "."))
    return raw


def _page_ms(raw: str) -> dict[str, int]:
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError):  # a hidden field the browser fills; anything else is ignored
        return {}
    if not isinstance(data, dict):
        return {}
    clean = {
        str(k)[:64]: int(v)
        for k, v in data.items()
        if isinstance(v, int | float) and not isinstance(v, bool) and v >= 0
    }
    return dict(list(clean.items())[:50])


def _answered(value: Any, qtype: str = "") -> bool:
    if value is None:
        return False
    if qtype == "consent":
        return value is True
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple):
        return any(_answered(v) for v in value)
    return True
