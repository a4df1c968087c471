"""Who may see and change the fieldwork quality items, and the audit of every change (docs/FIELDWORK.md).

The routes call this desk; it reads the caller's scope, checks the request against the survey version,
writes the audit entry before the change is stored, and calls FieldQualityService (field_quality.py).

Scope (`fieldwork.manage`): a national grant sees every province; an agency grant of a province (P01) sees
the interviews of that province only (Response.province): its drawn households, its re-checks, and the
enumerators who interviewed there (scored with the survey's peers, so the figures are the Ministry's).
The re-check form is one per survey version, so only a national grant sets it. A province's manager may
draw: with the same seed their draw is the national draw restricted to the province (households are
drawn per enumerator). Coding (`coding.manage`) is national only: a code frame covers every province.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.clock import stamp, utcnow
from chalicelib.domain.coding import CodeFrame, CodingChange, CodingRule, Matcher
from chalicelib.domain.errors import DomainError
from chalicelib.domain.field_quality import FieldQualityService
from chalicelib.domain.field_recheck import RecheckForm
from chalicelib.domain.field_risk import closed_questions
from chalicelib.domain.fieldwork import Caller
from chalicelib.domain.survey import Survey

MANAGE = "fieldwork.manage"
CODING = "coding.manage"
OPEN_KINDS = frozenset({"text", "long_text"})
AUDIT_IDS = 200  # response ids listed in one audit entry of a bulk change (the count is always there)


class QuestionNotFound(DomainError):
    code = "question_not_found"
    status = 404
    message_vi = "Phiếu khảo sát không có câu hỏi này."
    message_en = "The survey has no such question."


class Catalog(Protocol):
    def get(self, survey_id: str, version: int | None = None) -> Survey: ...


class Recorder(Protocol):
    def record(
        self,
        actor: Any,
        action: str,
        target_type: str,
        target_id: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
        reason: str | None = None,
    ) -> Any: ...


def _forbidden(field: str | None = None) -> DomainError:
    from chalicelib.auth.principal import Forbidden

    return Forbidden(field=field) if field else Forbidden()


def province_scope(principal: Caller, agency: str | None) -> str | None:
    """None: the caller sees every province (a national grant); else the one province code it may see."""
    if principal.can(MANAGE, None):
        return None
    if agency and agency.startswith("P") and principal.can(MANAGE, agency):
        return agency[1:]
    raise _forbidden()


class FieldQualityDesk:
    def __init__(
        self,
        service: FieldQualityService,
        catalog: Catalog,
        recorder: Recorder,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._service, self._catalog, self._recorder, self._clock = service, catalog, recorder, clock

    def survey(self, survey_id: str, version: int) -> Survey:
        from chalicelib.domain.errors import SurveyNotFound, SurveyVersionMismatch

        try:
            return self._catalog.get(survey_id, version)
        except SurveyVersionMismatch:  # a version named in the path that does not exist is not found
            raise SurveyNotFound(
                f"Khảo sát {survey_id} không có phiên bản {version}.",
                f"Survey {survey_id} has no version {version}.",
                field="version",
            ) from None

    # --- re-check -------------------------------------------------------------------------------
    def rechecks(self, principal: Caller, agency: str | None, survey_id: str, version: int) -> dict[str, Any]:
        """The form, the drawn households and the re-checks recorded, as far as the caller's scope reaches."""
        survey = self.survey(survey_id, version)
        province = province_scope(principal, agency)
        form = self._service.recheck_form(survey.key)
        results = self._service.recheck_results(survey.key, province)
        latest = {str(r["response_id"]): r for r in results}
        return {
            "survey_key": survey.key,
            "province": province,
            "form": form.to_dict() if form else None,
            "questions": recheck_questions(survey, form) if form else [],
            "draws": [
                {**_public_draw(d), "rechecked": str(d["response_id"]) in latest}
                for d in self._service.draws(survey.key, province)
            ],
            "results": [_public_result(r) for r in results],
        }

    def set_recheck_form(
        self, principal: Caller, survey_id: str, version: int, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        survey = self.survey(survey_id, version)
        if not principal.can(MANAGE, None):
            raise _forbidden()  # one form per survey version, for every province
        form = RecheckForm.for_survey(survey, [str(q) for q in body.get("questions") or []])
        form = replace(
            form, ask_happened=bool(body.get("ask_happened", True)), ask_duration=bool(body.get("ask_duration", True))
        )
        before = self._service.recheck_form(survey.key)
        self._recorder.record(
            principal.actor(MANAGE),
            "recheck.form",
            "recheck_form",
            survey.key,
            before.to_dict() if before else None,
            form.to_dict(),
        )
        self._service.set_recheck_form(form, principal.login, stamp(self._clock()))
        return form.to_dict()

    def draw(
        self, principal: Caller, agency: str | None, survey_id: str, version: int, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        survey = self.survey(survey_id, version)
        province = province_scope(principal, agency)
        rate, seed = float(body["rate"]), str(body["seed"])
        minimum = int(body.get("minimum_per_enumerator", 1))

        def audit(new: list[dict[str, Any]]) -> None:
            self._recorder.record(
                principal.actor(MANAGE),
                "recheck.draw",
                "recheck_draw",
                survey.key if province is None else f"{survey.key}@{province}",
                None,
                {
                    "rate": rate,
                    "seed": seed,
                    "minimum_per_enumerator": minimum,
                    "province": province,
                    "drawn": len(new),
                    "response_ids": [d["response_id"] for d in new[:AUDIT_IDS]],
                },
            )

        drawn = self._service.draw_rechecks(
            survey.key, rate, seed, principal.login, stamp(self._clock()), minimum, province, before_write=audit
        )
        return {"survey_key": survey.key, "province": province, "draws": [_public_draw(d) for d in drawn]}

    def record(
        self,
        principal: Caller,
        agency: str | None,
        survey_id: str,
        version: int,
        response_id: str,
        body: Mapping[str, Any],
    ) -> dict[str, Any]:
        survey = self.survey(survey_id, version)
        province_scope(principal, agency)  # a grant that reaches some province; the interview's is checked below

        def audit(item: dict[str, Any]) -> None:
            if not principal.can(MANAGE, f"P{item['province']}"):
                raise _forbidden("response_id")
            self._recorder.record(
                principal.actor(MANAGE),
                "recheck.record",
                "recheck",
                f"{survey.key}/{response_id}",
                None,
                {k: item[k] for k in ("enumerator", "province", "answers", "not_happened", "disagreement_rate")},
            )

        result = self._service.record_recheck(
            survey.key, response_id, dict(body["answers"]), principal.login, stamp(self._clock()), before_write=audit
        )
        return {
            "response_id": response_id,
            "agreement": result.agreement,
            "compared": result.compared,
            "disagreement_rate": result.disagreement_rate,
            "not_happened": result.not_happened,
            "duration_mismatch": result.duration_mismatch,
            "differences": {q: {"original": a, "recheck": b} for q, (a, b) in result.differences.items()},
        }

    def risk(
        self, principal: Caller, agency: str | None, survey_id: str, version: int, province: str | None = None
    ) -> dict[str, Any]:
        """Every enumerator's risk; `province` narrows a national view to one province (a province's manager
        sees theirs whatever it names, and another is refused)."""
        survey = self.survey(survey_id, version)
        scope = province_scope(principal, agency)
        if province is not None and scope not in (None, province):
            raise _forbidden()
        province = province if province is not None else scope
        scored = self._service.risk(survey.key, province=province, closed=closed_questions(survey))
        return {"survey_key": survey.key, "province": province, "enumerators": [r.to_dict() for r in scored]}

    # --- coding (the guard checked coding.manage, national) ---------------------------------------
    def _open_question(self, survey_id: str, version: int, question_id: str) -> Survey:
        survey = self.survey(survey_id, version)
        item = survey.item(question_id)
        if item is None or item.kind not in OPEN_KINDS:
            raise QuestionNotFound(
                f"Phiếu {survey.key} không có câu hỏi mở {question_id}.",
                f"survey {survey.key} has no open question {question_id}",
                field="question_id",
            )
        return survey

    def coding(self, survey_id: str, version: int, question_id: str) -> dict[str, Any]:
        survey = self._open_question(survey_id, version, question_id)
        frame = self._service.saved_frame(survey.key, question_id)
        answers = self._service.coding(survey.key, question_id)
        counts: dict[str, int] = {}
        for row in answers:
            counts[row["code"] or "uncoded"] = counts.get(row["code"] or "uncoded", 0) + 1
        return {
            "survey_key": survey.key,
            "question_id": question_id,
            "frame": frame.to_dict() if frame else None,
            "counts": counts,
            "answers": answers,
        }

    def save_frame(
        self, principal: Caller, survey_id: str, version: int, question_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        survey = self._open_question(survey_id, version, question_id)
        frame = CodeFrame.from_dict({"survey_key": survey.key, "question_id": question_id, **body})
        before = self._service.saved_frame(survey.key, question_id)
        self._recorder.record(
            principal.actor(CODING),
            "coding.frame",
            "code_frame",
            f"{survey.key}/{question_id}",
            before.to_dict() if before else None,
            frame.to_dict(),
        )
        self._service.save_code_frame(frame, principal.login, stamp(self._clock()))
        return frame.to_dict()

    def apply(
        self, principal: Caller, survey_id: str, version: int, question_id: str, body: Mapping[str, Any]
    ) -> dict[str, Any]:
        survey = self._open_question(survey_id, version, question_id)
        rule = coding_rule(body)
        why = str(body.get("why") or "")

        def audit(changes: list[CodingChange]) -> None:
            self._recorder.record(
                principal.actor(CODING),
                "coding.apply",
                "coding",
                f"{survey.key}/{question_id}",
                None,
                {
                    "rule": _rule_summary(body),
                    "changed": len(changes),
                    "response_ids": [c.response_id for c in changes[:AUDIT_IDS]],
                },
                reason=why,
            )

        changes = self._service.apply_coding(
            survey.key, question_id, rule, principal.login, why, stamp(self._clock()), before_write=audit
        )
        return {"survey_key": survey.key, "question_id": question_id, "changes": [c.to_dict() for c in changes]}

    def recode(
        self,
        principal: Caller,
        survey_id: str,
        version: int,
        question_id: str,
        response_id: str,
        body: Mapping[str, Any],
    ) -> dict[str, Any]:
        survey = self._open_question(survey_id, version, question_id)
        why = str(body.get("why") or "")

        def audit(changes: list[CodingChange]) -> None:
            change = changes[0]
            self._recorder.record(
                principal.actor(CODING),
                "coding.recode",
                "coding_answer",
                f"{survey.key}/{question_id}/{response_id}",
                {"code": change.before},
                {"code": change.after, "cleaned_text": change.cleaned_text},
                reason=why,
            )

        change = self._service.recode_one(
            survey.key,
            question_id,
            response_id,
            body.get("code"),
            principal.login,
            why,
            stamp(self._clock()),
            cleaned_text=body.get("cleaned_text"),
            before_write=audit,
        )
        return change.to_dict()


def coding_rule(body: Mapping[str, Any]) -> CodingRule | None:
    """A bulk request's rule: none when it names no code (`auto`: every category's own keywords)."""
    if body.get("auto"):
        return None
    ids = body.get("response_ids")
    return CodingRule(
        code=body.get("code"),
        matcher=Matcher(tuple(str(k) for k in body.get("keywords") or ()), body.get("pattern") or None),
        response_ids=frozenset(str(i) for i in ids) if ids else None,
        recode=bool(body.get("recode", False)),
        clean=bool(body.get("clean", False)),
    )


def _rule_summary(body: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("auto", "code", "keywords", "pattern", "recode", "clean")
    out = {k: body[k] for k in keys if k in body}
    if body.get("response_ids"):
        out["response_ids"] = len(body["response_ids"])
    return out


def recheck_questions(survey: Survey, form: RecheckForm) -> list[dict[str, Any]]:
    """The re-check form as the console renders it: each question with its options (value, Vietnamese label)."""
    from chalicelib.domain.field_recheck import DURATION, DURATION_BANDS, HAPPENED

    out: list[dict[str, Any]] = []
    if form.ask_happened:
        out.append(
            {
                "id": HAPPENED,
                "label": "Hộ có được phỏng vấn về dịch vụ công không?",
                "options": [{"value": "yes", "label": "Có"}, {"value": "no", "label": "Không"}],
            }
        )
    if form.ask_duration:
        labels = ("Dưới 10 phút", "10–20 phút", "20–40 phút", "Trên 40 phút")
        out.append(
            {
                "id": DURATION,
                "label": "Cuộc phỏng vấn kéo dài khoảng bao lâu?",
                "options": [{"value": v, "label": label} for v, label in zip(DURATION_BANDS, labels, strict=True)],
            }
        )
    from chalicelib.domain.results import _texts

    texts = _texts(survey)
    for question in form.questions:
        item = survey.item(question)
        if item is None:
            continue
        text = texts.get(question, {})
        labels = text.get("labels", {})
        out.append(
            {
                "id": question,
                "label": _vi(text.get("text")) or question,
                "multi": item.kind == "multi",
                "options": [{"value": v, "label": _vi(labels.get(v)) or v} for v in item.options],
            }
        )
    return out


def _vi(value: Any) -> str:
    if isinstance(value, Mapping):
        return str(value.get("vi") or next(iter(value.values()), ""))
    return str(value or "")


def _public_draw(draw: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("response_id", "enumerator", "household_id", "province", "rate", "seed", "who", "at")
    return {k: draw.get(k) for k in keys}


def _public_result(result: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("response_id", "enumerator", "province", "answers", "agreement", "not_happened", "duration_mismatch")
    out = {k: result.get(k) for k in keys}
    out.update(
        disagreement_rate=float(result.get("disagreement_rate") or 0), who=result.get("who"), at=result.get("at")
    )
    return out
