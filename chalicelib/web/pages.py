"""Server-rendered pages: the citizens' portal, survey form, receipt, live results, reports, and the console."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from chalicelib.domain.survey import OTHER_SUFFIX, YES_NO_OPTIONS, Survey
from chalicelib.domain.texts import text_en as _en  # the Jinja filters "en" and "vi"
from chalicelib.domain.texts import text_vi as _vi
from chalicelib.web.forms import PROVINCE_MESSAGE, REQUIRED_MESSAGE

if TYPE_CHECKING:
    import jinja2

    from chalicelib.reference.geography import Geography

WEB_DIR = Path(__file__).resolve().parent
STATIC_DIR = WEB_DIR / "static"
STATIC_TYPES = {
    "site.css": "text/css; charset=utf-8",
    "form.js": "text/javascript; charset=utf-8",
    "logic.js": "text/javascript; charset=utf-8",  # the conditions' evaluator: form.js and field.js
    "frame.js": "text/javascript; charset=utf-8",
    "field.js": "text/javascript; charset=utf-8",  # the enumerators' offline app (chalicelib/web/field_app.py)
    "field.css": "text/css; charset=utf-8",
    "paper.js": "text/javascript; charset=utf-8",
    "embed.js": "text/javascript; charset=utf-8",  # loaded by agencies' sites by a fixed URL: not immutable
}
VN_TIME = timezone(timedelta(hours=7), "ICT")


# --- static assets -----------------------------------------------------------------------------
def static_file(name: str) -> tuple[bytes, str] | None:
    """The bytes and Content-Type of a known static asset (site.css, form.js); None for anything else."""
    content_type = STATIC_TYPES.get(name)
    if content_type is None:
        return None
    return (STATIC_DIR / name).read_bytes(), content_type


@cache
def asset_url(name: str) -> str:
    """/static/<name>?v=<content hash>: a changed file gets a new URL, so assets can be cached for long."""
    import hashlib

    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]
    return f"/static/{name}?v={digest}"


# --- template environment ----------------------------------------------------------------------
@cache
def _env() -> jinja2.Environment:
    import jinja2  # lazy: the API's cold start pays for jinja2 only when a page is rendered

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(WEB_DIR / "templates")),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["vi"] = _vi
    env.filters["en"] = _en
    env.filters["num"] = _num
    env.filters["size"] = _size
    env.filters["urlkey"] = lambda key: quote(str(key), safe="")
    env.filters["vntime"] = _vn_time
    env.globals["asset"] = asset_url
    return env


def _render(template: str, **context: Any) -> str:
    context.setdefault("embed", False)
    context.setdefault("script", False)
    return _env().get_template(template).render(**context)


def _num(value: float | None, digits: int = 1) -> str:
    """Vietnamese number format (decimal comma); '—' for no data."""
    if value is None:
        return "—"
    return f"{value:,.{digits}f}".replace(",", " ").replace(".", ",")


def _size(n: int) -> str:
    if n < 1024:
        return f"{n} B"
    if n < 1024 * 1024:
        return f"{_num(n / 1024)} KB"
    return f"{_num(n / 1024 / 1024)} MB"


def _vn_time(value: str | None) -> str:
    """An ISO timestamp shown in Vietnam time, e.g. '14:05, 01/06/2026 (giờ Việt Nam)'."""
    if not value:
        return ""
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return str(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(VN_TIME).strftime("%H:%M, %d/%m/%Y") + " (giờ Việt Nam)"


# --- pages -------------------------------------------------------------------------------------
def render_home(surveys: list[Survey], share: dict[str, Any] | None = None) -> str:
    """Portal home: the open surveys, each with links to its form, its live results and the reports.

    `share`: the Open Graph tags (chalicelib/domain/channels.py share_meta).
    """
    return _render("home.html", surveys=[s for s in surveys if s.is_open()], share=share)


def render_survey_form(
    survey: Survey,
    geography: Geography,
    *,
    response_id: str,
    started_at: str,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    embed: bool = False,
    agency: str | None = None,
    preview: bool = False,
    attribution: str = "",
    channel: str = "",
    share: dict[str, Any] | None = None,
) -> str:
    """The survey as an accessible form that works without JavaScript (form.js only enhances it).

    Without JavaScript the whole survey is one page and a conditional question says when to answer it;
    form.js pages it by section and evaluates the conditions of <script id="logic"> (Survey.client_logic).

    preview: the console's "Xem trước" of a version (a draft too): the same form, a banner, no sending.

    `share`: the Open Graph tags and the "Chia sẻ" block (chalicelib/domain/channels.py share_meta); never in a widget.

    `attribution` is the server's signed token of where the form was opened (chalicelib/domain/attribution.py):
    a hidden field that both the form post and form.js send back as the submission's `attribution`.
    """
    vals = {k: _as_list(v) for k, v in (values or {}).items()}
    errors = dict(errors or {})
    sections = _form_sections(survey, vals, errors, geography)
    province = (vals.get("province") or [""])[0]
    commune = (vals.get("commune") or [""])[0]
    # After a post without JavaScript the chosen province's communes are offered, so the commune can be picked too.
    communes = geography.communes_of(province) if province else []
    return _render(
        "survey_form.html",
        survey=survey,
        title=survey.definition.get("title", survey.id),
        description=survey.definition.get("description"),
        sections=sections,
        provinces=geography.provinces,
        province=province,
        commune=commune,
        communes=communes,
        hidden={
            "id": response_id,
            "survey_version": str(survey.version),
            "channel": channel or ("widget" if embed else "web"),
            "started_at": started_at,
            "page_ms": "",
            **({"attribution": attribution} if attribution else {}),
        },
        action=f"/s/{survey.id}" + (("?embed=1" + (f"&agency={agency}" if agency else "")) if embed else ""),
        api=f"/surveys/{survey.id}/responses",
        # a preview keeps its answers apart from the real form's draft (same origin, same browser)
        draft=("preview:" if preview else "") + f"{survey.id}#{survey.version}",
        logic=_client_logic(survey),
        errors=errors,
        summary=_error_summary(survey, errors),
        required_message=REQUIRED_MESSAGE,
        province_message=PROVINCE_MESSAGE,
        retention_days=int(survey.definition.get("retention_days") or 365),
        embed=embed,
        script=True,
        preview=preview,
        share=None if embed else share,
    )


def render_receipt(survey: Survey, receipt: dict[str, Any], *, embed: bool = False) -> str:
    """Thank-you page with the receipt code the citizen should keep."""
    return _render(
        "receipt.html",
        survey=survey,
        title=survey.definition.get("title", survey.id),
        code=str(receipt.get("receipt", "")),
        received_at=receipt.get("received_at"),
        embed=embed,
    )


def render_results(
    survey: Survey,
    results: dict[str, Any],
    *,
    scope: str,
    geography: Geography,
    include_flagged: bool,
    version_pinned: bool = False,
) -> str:
    """Live results: the index by part, element and item, status counts and the unscored answers' distributions."""
    scored = set(survey.scored_items())
    matrices: dict[str, dict[str, Any]] = {}
    questions: list[dict[str, Any]] = []
    headings = {q["id"]: q for s in survey.definition["sections"] for q in s["questions"]}
    for dist in results.get("questions", []):
        if dist["id"] in scored:
            continue
        qid = dist.get("question") or dist["id"]
        if qid in survey.matrices:
            if qid not in matrices:
                matrices[qid] = {"id": qid, "matrix": True, "text": headings[qid]["text"], "rows": []}
                questions.append(matrices[qid])
            matrices[qid]["rows"].append(dist)
        else:
            questions.append({**dist, "matrix": False})
    return _render(
        "results.html",
        survey=survey,
        title=survey.definition.get("title", survey.id),
        results=results,
        index=results.get("index"),
        counts=results.get("counts", {}),
        questions=questions,
        scope=scope,
        scope_label=_scope_label(scope, geography),
        provinces=geography.provinces,
        include_flagged=include_flagged,
        version_pinned=version_pinned,
    )


def render_reports(reports: list[dict[str, Any]]) -> str:
    """The report sets (each with its files) built by the scheduled jobs."""
    return _render("reports.html", reports=reports)


def render_error(status: int, code: str, message_vi: str, message_en: str) -> str:
    return _render("error.html", status=status, code=code, message_vi=message_vi, message_en=message_en)


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    return [str(value)]


# --- view models -------------------------------------------------------------------------------
TEXT_LIMITS = {"text": 255, "long_text": 2000}


def _form_sections(
    survey: Survey, vals: dict[str, list[str]], errors: dict[str, str], geography: Geography
) -> list[dict[str, Any]]:
    """Each section with its questions as the template needs them: answers given, errors, when to answer."""
    from chalicelib.web.hints import when_to_answer

    sections = survey.definition["sections"]
    labels = _labels(survey)
    choices = _choices_by_id(survey)
    out = []
    for number, section in enumerate(sections, start=1):
        questions = [_question_view(q, vals, errors, geography, labels, choices) for q in section["questions"]]
        out.append(
            {
                "id": section["id"],
                "title": section["title"],
                "intro": section.get("intro"),
                "number": number,
                "total": len(sections),
                "hint": when_to_answer(section.get("relevant"), labels, choices),
                "questions": questions,
            }
        )
    return out


def _question_view(
    q: dict[str, Any],
    vals: dict[str, list[str]],
    errors: dict[str, str],
    geography: Geography,
    labels: dict[str, str],
    choices: dict[str, dict[str, Any]],
) -> dict[str, Any]:
    from chalicelib.web.hints import when_to_answer

    qtype, qid = q["type"], q["id"]
    first = (vals.get(qid) or [""])[0]
    view: dict[str, Any] = {
        "id": qid,
        "type": qtype,
        "text": q["text"],
        "help": q.get("help"),
        "required": bool(q.get("required", False)) and qtype != "note",
        "sometimes": bool(q.get("required_if")) and not q.get("required"),  # required only when a condition holds
        "error": errors.get(qid),
        "hint": when_to_answer(q.get("relevant"), labels, choices),
        "value": first,
    }
    if qtype == "matrix":
        rows = [
            {
                "id": r["id"],
                "text": r["text"],
                "required": bool(r.get("required", view["required"])),
                "value": (vals.get(r["id"]) or [""])[0],
                "error": errors.get(r["id"]),
                "hint": when_to_answer(r.get("relevant"), labels, choices),
            }
            for r in q["rows"]
        ]
        view["rows"] = rows
        view["scale"] = q["scale"]
        view["required"] = any(r["required"] for r in rows)
        view["mixed"] = view["required"] and not all(r["required"] for r in rows)
    elif qtype in ("single_choice", "multi_choice", "yes_no", "rating"):
        view["options"] = list(YES_NO_OPTIONS) if qtype == "yes_no" else q.get("options") or q.get("scale") or []
        view["chosen"] = vals.get(qid, [])
        view["other"] = (vals.get(qid + OTHER_SUFFIX) or [""])[0]
        view["other_error"] = errors.get(qid + OTHER_SUFFIX)
        view["max_choices"] = q.get("max_choices")
        appearance = str(q.get("appearance") or "")
        view["dropdown"] = qtype == "single_choice" and "dropdown" in appearance
        view["horizontal"] = qtype in ("yes_no", "rating") or "horizontal" in appearance
    elif qtype in ("integer", "decimal", "date"):
        view["min"], view["max"] = q.get("min"), q.get("max")
    elif qtype in TEXT_LIMITS:
        view["max_length"] = int(q.get("max_length", TEXT_LIMITS[qtype]))
        view["personal_data"] = bool(q.get("personal_data", False))
    elif qtype == "place":
        view["level"] = q.get("level", "province")
        view["parent"] = q.get("parent") or ""
        if view["level"] == "province":
            view["places"] = geography.provinces
        else:
            province = (vals.get(view["parent"]) or [""])[0]
            view["places"] = geography.communes_of(province) if province else []
    elif qtype == "consent":
        view["checked"] = first in ("true", "1", "on", "yes")
    return view


def _choices_by_id(survey: Survey) -> dict[str, dict[str, Any]]:
    """Answer id -> {option value -> label}: what a condition's value means to a citizen."""
    out: dict[str, dict[str, Any]] = {}
    for section in survey.definition["sections"]:
        for q in section["questions"]:
            options: list[dict[str, Any]] = (
                list(YES_NO_OPTIONS) if q["type"] == "yes_no" else q.get("options") or q.get("scale") or []
            )
            labels = {o["value"]: o["label"] for o in options}
            out[q["id"]] = labels
            for row in q.get("rows", []):
                out[row["id"]] = labels
    return out


def _client_logic(survey: Survey) -> dict[str, Any]:
    """The survey's conditions for form.js: {"sections": {id: {relevant}}, "questions": {id: {relevant,
    required, constraint, message, choices}}}, each condition a JSON Schema fragment over the answers."""
    logic = getattr(survey, "client_logic", None)
    return logic() if callable(logic) else {}


def _labels(survey: Survey) -> dict[str, str]:
    """Field name -> the Vietnamese words a citizen sees next to it (for the error summary)."""
    labels = {"province": "Tỉnh/thành phố", "commune": "Xã/phường/đặc khu"}
    for section in survey.definition["sections"]:
        for q in section["questions"]:
            text = _vi(q["text"])
            labels[q["id"]] = text
            labels[q["id"] + OTHER_SUFFIX] = f"{text} (ghi rõ)"
            for row in q.get("rows", []):
                labels[row["id"]] = f"{text} — {_vi(row['text'])}"
    return labels


def _field_order(survey: Survey) -> list[str]:
    order = ["province", "commune"]
    for section in survey.definition["sections"]:
        for q in section["questions"]:
            order.extend((q["id"], q["id"] + OTHER_SUFFIX))
            order.extend(row["id"] for row in q.get("rows", []))
    return order


def _error_summary(survey: Survey, errors: dict[str, str]) -> list[dict[str, str]]:
    """Errors in form order, each linked to its field; the rows of one matrix with the same message share an entry.

    A 60-row survey sent empty would otherwise list 60 lines before the first question.
    Unknown names (e.g. 'form') are listed first, without a link.
    """
    if not errors:
        return []
    labels = _labels(survey)
    matrix_of = {
        row["id"]: q["id"] for s in survey.definition["sections"] for q in s["questions"] for row in q.get("rows", [])
    }
    rank = {name: i for i, name in enumerate(_field_order(survey))}
    out: list[dict[str, str]] = []
    groups: dict[tuple[str, str], tuple[dict[str, str], list[str]]] = {}
    for name in sorted(errors, key=lambda n: rank.get(n, -1)):
        message, matrix = errors[name], matrix_of.get(name)
        if matrix and (matrix, message) in groups:
            entry, rows = groups[matrix, message]
            rows.append(name)
            entry["label"] = f"{labels[matrix]} ({len(rows)} dòng)"
            continue
        entry = {"href": f"#i-{name}" if name in rank else "", "label": labels.get(name, ""), "message": message}
        if matrix:
            groups[matrix, message] = (entry, [name])
        out.append(entry)
    return out


def _scope_label(scope: str, geography: Geography) -> str:
    if scope.startswith("p"):
        province = geography.province(scope[1:])
        return province.name if province else scope
    if scope.startswith("c"):
        commune = geography.commune(scope[1:])
        if commune:
            province = geography.province(commune.province_code)
            return f"{commune.name}, {province.name}" if province else commune.name
        return scope
    return "Toàn quốc"


def render_admin_dashboard(
    me: dict[str, Any], dashboard: dict[str, Any], audit: list[dict[str, Any]] | None, csrf: str, console: Any = None
) -> str:
    from chalicelib.auth.permissions import ROLES

    labels = {r.id: r.label_vi for r in ROLES}
    return _render(
        "admin_dashboard.html", me=me, dashboard=dashboard, audit=audit, csrf=csrf, role_labels=labels, console=console
    )


def render_admin_audit(entries: list[dict[str, Any]], next_from: int | None, console: Any = None) -> str:
    return _render("admin_audit.html", entries=entries, next_from=next_from, console=console)


def render_my_response(mine: dict[str, Any], notice: str = "") -> str:
    """A citizen's own response, found by receipt code, with the deletion request form."""
    return _render("my_response.html", mine=mine, notice=notice)


# --- console: agencies and accounts ---------------------------------------------------------------
LOCATION_KINDS = {"counter": "Quầy", "office": "Trụ sở", "page": "Trang web"}
AGENCY_KINDS = {"ministry": "Bộ", "ministry_level": "Cơ quan ngang bộ", "province": "Tỉnh, thành phố"}


def render_admin_agencies(agencies: list[dict[str, Any]], ended: list[dict[str, Any]], console: Any) -> str:
    return _render("admin_agencies.html", agencies=agencies, ended=ended, kinds=AGENCY_KINDS, console=console)


def render_admin_agency(
    agency: dict[str, Any],
    current: dict[str, Any],
    snippets: list[dict[str, str]],
    *,
    can_edit: bool,
    can_manage_users: bool,
    csrf: str,
    console: Any,
    error: Any = None,
    draft: str = "",
    draft_locations: str = "",
    notice: str = "",
) -> str:
    return _render(
        "admin_agency.html",
        draft_locations=draft_locations,
        location_kinds=LOCATION_KINDS,
        agency=agency,
        current=current,
        snippets=snippets,
        can_edit=can_edit,
        can_manage_users=can_manage_users,
        csrf=csrf,
        kinds=AGENCY_KINDS,
        console=console,
        error=error,
        draft=draft,
        notice=notice,
    )


def render_admin_users(
    agency_label: str,
    agency: str,
    users: list[dict[str, Any]],
    roles: list[dict[str, str]],
    labels: dict[str, str],
    *,
    csrf: str,
    console: Any,
    me: str,
    error: Any = None,
    draft: dict[str, Any] | None = None,
    notice: str = "",
) -> str:
    return _render(
        "admin_users.html",
        agency_label=agency_label,
        agency=agency,
        users=users,
        roles=roles,
        labels=labels,
        csrf=csrf,
        console=console,
        me=me,
        error=error,
        draft=draft or {},
        notice=notice,
    )


def render_admin_user(
    agency_label: str,
    agency: str,
    user: dict[str, Any],
    roles: list[dict[str, Any]],
    scopes: list[dict[str, str]],
    *,
    csrf: str,
    console: Any,
    is_me: bool,
    error: Any = None,
    notice: str = "",
    temporary_password: str | None = None,
) -> str:
    return _render(
        "admin_user.html",
        agency_label=agency_label,
        agency=agency,
        user=user,
        roles=roles,
        scopes=scopes,
        csrf=csrf,
        console=console,
        is_me=is_me,
        error=error,
        notice=notice,
        temporary_password=temporary_password,
    )


# --- console: share channels ----------------------------------------------------------------------
def render_admin_channels(view: dict[str, Any], console: Any) -> str:
    """An agency's locations, each with its open surveys' link, QR code and printable poster."""
    return _render("admin_channels.html", agency=view["agency"], locations=view["locations"], console=console)
