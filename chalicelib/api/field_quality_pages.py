"""The console's quality pages (session cookie): re-check (phúc tra) and risk, and coding of open answers.

`/admin/fieldwork/risk` (`fieldwork.manage`; a province's manager sees their province): the enumerators'
risk with its reasons, the re-check form (national grant), the draw, the drawn households and a re-check
entry form per household, with the comparison once saved. `/admin/coding` (`coding.manage`, national):
an open question's categories, bulk rules with a reason, the answers with their code and history, and a
recode of one answer with a reason. Every form posts to the same page; the desk (domain/field_quality_desk.py)
checks the scope and audits each change, exactly as the JSON API (api/field_quality.py) does.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from chalice import Blueprint

from chalicelib.api import request
from chalicelib.api.guard import form_field
from chalicelib.api.http import redirect
from chalicelib.api.operations import Param, console

if TYPE_CHECKING:
    from chalicelib.auth.principal import Principal

field_quality_pages = Blueprint(__name__)
ANY = ["*/*"]
Form = dict[str, list[str]]
SURVEY_QUERY = Param(
    "survey_id", "query", "Survey id, e.g. sipas-2026", {"type": "string", "pattern": "^[a-z0-9][a-z0-9-]{2,62}$"}
)
VERSION_QUERY = Param(
    "version", "query", "Survey version (1, 2, ...)", {"type": "string", "pattern": "^[1-9][0-9]{0,8}$"}
)
RESPONSE_QUERY = Param(
    "response_id",
    "query",
    "A drawn interview: opens its re-check form",
    {"type": "string", "pattern": "^[0-9A-HJKMNP-TV-Z]{26}$"},
)
QUESTION_QUERY = Param(
    "question", "query", "An open question of the survey", {"type": "string", "pattern": "^[A-Za-z][A-Za-z0-9_]{0,63}$"}
)
RISK_DONE = Param(
    "done", "query", "What was just saved (shows a notice)", {"type": "string", "enum": ["form", "drawn", "recheck"]}
)
CODING_DONE = Param(
    "done", "query", "What was just saved (shows a notice)", {"type": "string", "enum": ["frame", "applied", "recoded"]}
)
RISK_NOTICES = {
    "form": "Đã lưu phiếu phúc tra.",
    "drawn": "Đã chọn mẫu phúc tra.",
    "recheck": "Đã lưu kết quả phúc tra.",
}
CODING_NOTICES = {
    "frame": "Đã lưu khung mã.",
    "applied": "Đã mã hóa hàng loạt.",
    "recoded": "Đã sửa mã của câu trả lời.",
}
REFUSED = (400, 403, 404, 409, 422)


def _version(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and len(text) <= 9 and int(text) > 0 else None


def _checked(part: str, body: dict[str, Any]) -> dict[str, Any]:
    """A console form's body against the same contract as the JSON API's (schemas/field-quality.schema.json)."""
    from fastjsonschema import JsonSchemaValueException

    from chalicelib.api.bodies import InvalidRequest
    from chalicelib.contracts import part_validator

    try:
        part_validator("field-quality", part)(body)
    except JsonSchemaValueException as exc:
        path = "/" + "/".join(str(p) for p in exc.path[1:]) if len(exc.path) > 1 else "/"
        raise InvalidRequest(
            f"Giá trị chưa hợp lệ tại {path}.", f"Invalid value at {path} ({exc.rule}).", field=path
        ) from None
    return body


# --- re-check and risk ----------------------------------------------------------------------------
@field_quality_pages.route("/admin/fieldwork/risk", methods=["GET"])
@console(
    "adminFieldRisk",
    "Re-check and risk: each enumerator's risk with reasons, the re-check draw and the re-check entry forms",
    "fieldwork.manage",
    params=(SURVEY_QUERY, VERSION_QUERY, RESPONSE_QUERY, RISK_DONE),
    own=True,
)
def admin_field_risk(principal: Principal, token: str, _form: Form) -> Any:
    notice = RISK_NOTICES.get(request.query("done") or "", "")
    return _risk_page(
        principal,
        token,
        request.query("survey_id"),
        _version(request.query("version")),
        request.query("response_id"),
        notice=notice,
    )


@field_quality_pages.route("/admin/fieldwork/risk", methods=["POST"], content_types=ANY)
@console(
    "adminFieldRiskChange",
    "Save the re-check form, draw the re-check sample, or record a household's re-check (audited)",
    "fieldwork.manage",
    form=True,
    own=True,
)
def admin_field_risk_change(principal: Principal, token: str, form: Form) -> Any:
    from chalicelib import wiring
    from chalicelib.domain.errors import BadQuery, DomainError

    survey_id, version = form_field(form, "survey_id"), _version(form_field(form, "version"))
    action, response_id = form_field(form, "action"), form_field(form, "response_id") or None
    desk = wiring.field_quality_service()
    try:
        if not survey_id or version is None:
            raise BadQuery("Hãy chọn khảo sát và phiên bản.", "Choose a survey and its version.", field="survey_id")
        if action == "form":
            body = {
                "questions": form.get("question") or [],
                "ask_happened": True,
                "ask_duration": form_field(form, "ask_duration") == "1",
            }
            desk.set_recheck_form(principal, survey_id, version, _checked("recheck_form", body))
            done = "form"
        elif action == "draw":
            try:
                rate = float(form_field(form, "rate_percent").replace(",", ".")) / 100
            except ValueError:
                raise BadQuery(
                    "Tỷ lệ phúc tra là một số phần trăm, vd. 5.", "The rate is a percentage.", field="rate"
                ) from None
            body = {"rate": rate, "seed": form_field(form, "seed").strip()}
            desk.draw(principal, principal.agency, survey_id, version, _checked("draw", body))
            done = "drawn"
        elif action == "recheck":
            answers: dict[str, Any] = {}
            for name, values in form.items():
                if name.startswith("a_") and values:
                    answers[name[2:]] = values if name in _multi_fields(form) else values[0]
            body = _checked("recheck", {"answers": answers})
            if response_id is None:
                raise BadQuery("Thiếu hộ được phúc tra.", "Which household was re-checked?", field="response_id")
            desk.record(principal, principal.agency, survey_id, version, response_id, body)
            done = "recheck"
        else:
            raise BadQuery("Thao tác không hợp lệ.", "Unknown action.", field="action")
    except DomainError as exc:
        if exc.status not in REFUSED:
            raise
        return _risk_page(principal, token, survey_id or None, version, response_id, error=exc), exc.status
    target = f"/admin/fieldwork/risk?survey_id={survey_id}&version={version}&done={done}"
    if done == "recheck" and response_id:
        target += f"&response_id={response_id}#comparison"
    return redirect(target, after_post=True)


def _multi_fields(form: Form) -> set[str]:
    return {f"a_{name}" for name in form.get("multi") or []}


def _risk_page(
    principal: Principal,
    token: str,
    survey_id: str | None,
    version: int | None,
    response_id: str | None,
    **state: Any,
) -> str:
    from chalicelib import wiring
    from chalicelib.api.console import console_csrf, console_nav
    from chalicelib.web.field_quality_admin import render_admin_risk

    view: dict[str, Any] = {"survey_id": survey_id, "version": version, "surveys": _surveys()}
    view["national"] = principal.can("fieldwork.manage", None)
    if survey_id and version:
        desk = wiring.field_quality_service()
        survey = wiring.field_quality_service().survey(survey_id, version)
        view["risk"] = desk.risk(principal, principal.agency, survey_id, version)
        rechecks = desk.rechecks(principal, principal.agency, survey_id, version)
        view["rechecks"] = rechecks
        view["closed"] = _closed(survey)
        if response_id:
            drawn = next((d for d in rechecks["draws"] if d["response_id"] == response_id), None)
            latest = [r for r in rechecks["results"] if r["response_id"] == response_id]
            view["household"] = {"draw": drawn, "result": latest[-1] if latest else None}
            view["response_id"] = response_id
    return render_admin_risk(view, csrf=console_csrf(token), console=console_nav(principal), **state)


def _surveys() -> list[dict[str, Any]]:
    from chalicelib import wiring

    return [{"id": s.id, "version": s.version} for s in wiring.surveys().list_current()]


def _closed(survey: Any) -> list[dict[str, str]]:
    from chalicelib.domain.field_recheck import CLOSED_KINDS
    from chalicelib.domain.results import _texts

    texts = _texts(survey)
    out = []
    for item in survey.items:
        if item.kind in CLOSED_KINDS and not item.personal_data:
            text = texts.get(item.id, {}).get("text")
            label = text.get("vi") if isinstance(text, dict) else str(text or "")
            out.append({"id": item.id, "label": str(label or item.id)})
    return out


# --- coding ---------------------------------------------------------------------------------------
@field_quality_pages.route("/admin/coding", methods=["GET"])
@console(
    "adminCoding",
    "Coding open answers: categories, bulk rules with a reason, the answers with their code and history",
    "coding.manage",
    params=(SURVEY_QUERY, VERSION_QUERY, QUESTION_QUERY, CODING_DONE),
)
def admin_coding(principal: Principal, token: str, _form: Form) -> Any:
    notice = CODING_NOTICES.get(request.query("done") or "", "")
    return _coding_page(
        principal,
        token,
        request.query("survey_id"),
        _version(request.query("version")),
        request.query("question"),
        notice=notice,
    )


@field_quality_pages.route("/admin/coding", methods=["POST"], content_types=ANY)
@console(
    "adminCodingChange",
    "Save a code frame, code answers in bulk, or recode one answer, each with a reason (audited)",
    "coding.manage",
    form=True,
)
def admin_coding_change(principal: Principal, token: str, form: Form) -> Any:
    from chalicelib import wiring
    from chalicelib.domain.errors import BadQuery, DomainError

    survey_id, version = form_field(form, "survey_id"), _version(form_field(form, "version"))
    question, action = form_field(form, "question"), form_field(form, "action")
    desk = wiring.field_quality_service()
    try:
        if not survey_id or version is None or not question:
            raise BadQuery(
                "Hãy chọn khảo sát, phiên bản và câu hỏi mở.",
                "Choose a survey, its version and an open question.",
                field="question",
            )
        if action == "frame":
            body = {"categories": frame_lines(form_field(form, "categories"))}
            desk.save_frame(principal, survey_id, version, question, _checked("code_frame", body))
            done = "frame"
        elif action == "apply":
            rule: dict[str, Any] = {"why": form_field(form, "why").strip()}
            if form_field(form, "auto") == "1":
                rule["auto"] = True
            else:
                rule["code"] = form_field(form, "code") or None
                keywords = [k.strip() for k in form_field(form, "keywords").split(",") if k.strip()]
                if keywords:
                    rule["keywords"] = keywords
                if form_field(form, "pattern").strip():
                    rule["pattern"] = form_field(form, "pattern").strip()
                rule["recode"] = form_field(form, "recode") == "1"
            desk.apply(principal, survey_id, version, question, _checked("coding_rule", rule))
            done = "applied"
        elif action == "recode":
            response_id = form_field(form, "response_id")
            recode: dict[str, Any] = {"code": form_field(form, "code") or None, "why": form_field(form, "why").strip()}
            desk.recode(principal, survey_id, version, question, response_id, _checked("recode", recode))
            done = "recoded"
        else:
            raise BadQuery("Thao tác không hợp lệ.", "Unknown action.", field="action")
    except DomainError as exc:
        if exc.status not in REFUSED:
            raise
        page = _coding_page(principal, token, survey_id or None, version, question or None, error=exc, posted=form)
        return page, exc.status
    return redirect(
        f"/admin/coding?survey_id={survey_id}&version={version}&question={question}&done={done}", after_post=True
    )


def frame_lines(text: str) -> list[dict[str, Any]]:
    """The console's textarea, one category a line: `code | nhãn tiếng Việt | English label | keyword, keyword`."""
    out = []
    for line in text.splitlines():
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        parts += [""] * (4 - len(parts))
        category: dict[str, Any] = {"code": parts[0], "label_vi": parts[1]}
        if parts[2]:
            category["label_en"] = parts[2]
        keywords = [k.strip() for k in "|".join(parts[3:]).split(",") if k.strip()]
        if keywords:
            category["keywords"] = keywords
        out.append(category)
    return out


def frame_text(frame: dict[str, Any] | None) -> str:
    """The saved frame back as the textarea's lines (frame_lines reads them)."""
    if not frame:
        return ""
    return "\n".join(
        " | ".join([c["code"], c["label_vi"], c.get("label_en") or "", ", ".join(c.get("keywords") or [])])
        for c in frame["categories"]
    )


def _coding_page(
    principal: Principal,
    token: str,
    survey_id: str | None,
    version: int | None,
    question: str | None,
    **state: Any,
) -> str:
    from chalicelib import wiring
    from chalicelib.api.console import console_csrf, console_nav
    from chalicelib.domain.field_quality_desk import OPEN_KINDS
    from chalicelib.web.field_quality_admin import render_admin_coding

    view: dict[str, Any] = {"survey_id": survey_id, "version": version, "question": question, "surveys": _surveys()}
    if survey_id and version:
        survey = wiring.field_quality_service().survey(survey_id, version)
        view["questions"] = [i.id for i in survey.items if i.kind in OPEN_KINDS]
        question = question or (view["questions"][0] if view["questions"] else None)
        view["question"] = question
        if question:
            coding = wiring.field_quality_service().coding(survey_id, version, question)
            view["coding"] = coding
            view["frame_text"] = frame_text(coding["frame"])
    return render_admin_coding(view, csrf=console_csrf(token), console=console_nav(principal), **state)
