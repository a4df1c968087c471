"""A posted survey form (the no-JavaScript path) read into a submission body, and its gaps as field messages."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from chalicelib.domain.survey import OTHER_SUFFIX, Survey

FORM_CLIENT = "form-html/1"
REQUIRED_MESSAGE = "Vui lòng trả lời câu hỏi bắt buộc này."
PROVINCE_MESSAGE = "Vui lòng chọn tỉnh/thành phố nơi Ông/Bà đang sinh sống."


def form_to_submission(survey: Survey, form: dict[str, list[str]]) -> dict[str, Any]:
    """A posted urlencoded form (parse_qs result) as a submission body (schemas/submission.schema.json)."""

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
        "answers": _answers(survey, form),
        "paradata": paradata,
    }
    for name in ("commune", "website", "attribution"):
        if first(name):
            body[name] = first(name)
    return body


def missing_required(survey: Survey, answers: dict[str, Any]) -> list[str]:
    """Ids of the required items without an answer, in form order."""
    return [item.id for item in survey.items if item.required and not _answered(answers.get(item.id))]


def form_errors(survey: Survey, submission: dict[str, Any]) -> dict[str, str]:
    """Every gap of a posted form at once, in form order: the province, then each required item."""
    errors: dict[str, str] = {}
    if not str(submission.get("province") or "").strip():
        errors["province"] = PROVINCE_MESSAGE
    errors.update(dict.fromkeys(missing_required(survey, submission.get("answers") or {}), REQUIRED_MESSAGE))
    return errors


def field_of(path: str | None) -> str:
    """The form field named by an API error path: '/answers/q9_01' -> 'q9_01', '/province' -> 'province'."""
    if not path:
        return ""
    parts = [p for p in path.split("/") if p]
    return parts[-1] if parts else ""


def _answers(survey: Survey, form: dict[str, list[str]]) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in survey.items:
        posted = [v for v in form.get(item.id, []) if v != ""]
        if item.kind == "multi":
            chosen = list(dict.fromkeys(posted))
            if chosen:
                answers[item.id] = chosen
        elif item.kind == "text":
            if posted and posted[0].strip():
                answers[item.id] = posted[0]
        elif posted:
            answers[item.id] = posted[0]
        if item.other_options:
            other = (form.get(item.id + OTHER_SUFFIX) or [""])[0]
            if other.strip():
                answers[item.id + OTHER_SUFFIX] = other
    return answers


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


def _answered(value: Any) -> bool:
    if value is None:
        return False
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, list | tuple):
        return any(_answered(v) for v in value)
    return True
