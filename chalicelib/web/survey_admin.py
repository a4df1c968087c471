"""The console's survey authoring pages: the survey list, one survey's versions and actions, and the preview."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

from chalicelib.web.pages import VN_TIME, _env, _render

KINDS = {"regular": "Khảo sát định kỳ", "adhoc": "Khảo sát chuyên đề", "consultation": "Lấy ý kiến"}
STATUSES = {"draft": "Nháp", "published": "Đã phát hành", "closed": "Đã đóng"}


def local_input(value: str | None) -> str:
    """An ISO instant as a datetime-local field shows it, in Vietnam time ('2026-06-01T08:00')."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(VN_TIME).strftime("%Y-%m-%dT%H:%M")


def from_local_input(value: str) -> str | None:
    """A datetime-local field's value (Vietnam time, no zone) as an ISO instant; '' is no limit (None)."""
    text = value.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text  # the service refuses it with the field named
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone(timedelta(hours=7)))
    return moment.isoformat()


def _context(**context: Any) -> dict[str, Any]:
    env = _env()
    env.filters.setdefault("localinput", local_input)
    return {"kinds": KINDS, "statuses": STATUSES, **context}


def _problems(error: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """An error's located details: an XLSForm's problems (sheet, row, column), or texts lacking a language."""
    details = list(getattr(error, "details", None) or [])
    code = getattr(error, "code", "")
    problems = [d for d in details if code == "invalid_xlsform" and isinstance(d, dict)]
    gaps = [d for d in details if code == "missing_language" and isinstance(d, dict)]
    return problems, gaps


def render_admin_surveys(
    surveys: list[dict[str, Any]],
    *,
    national: bool,
    csrf: str,
    console: Any,
    error: Any = None,
    notice: str = "",
    draft_id: str = "",
    draft_json: str = "",
) -> str:
    rows = [{**s, "responses_total": sum(int(v.get("responses") or 0) for v in s["versions"])} for s in surveys]
    problems, gaps = _problems(error)
    return _render(
        "admin_surveys.html",
        **_context(
            surveys=rows,
            national=national,
            csrf=csrf,
            console=console,
            error=error,
            notice=notice,
            problems=problems,
            gaps=gaps,
            draft_id=draft_id,
            draft_json=draft_json,
        ),
    )


def render_admin_survey(
    survey: dict[str, Any],
    draft_definition: dict[str, Any] | None,
    *,
    csrf: str,
    console: Any,
    error: Any = None,
    notice: str = "",
    draft_json: str | None = None,
) -> str:
    versions = survey["versions"]
    draft = next((v for v in versions if v["status"] == "draft"), None)
    text = draft_json
    if text is None and draft_definition is not None:
        text = json.dumps(draft_definition, ensure_ascii=False, indent=2)
    problems, gaps = _problems(error)
    return _render(
        "admin_survey.html",
        **_context(
            survey=survey,
            draft=draft,
            latest=versions[-1],
            draft_json=text or "",
            csrf=csrf,
            console=console,
            error=error,
            notice=notice,
            problems=problems,
            gaps=gaps,
        ),
    )
