"""The fieldwork quality service: re-check draws and results, enumerator risk, and open-answer coding.

Plain Python over two ports (the responses table's reads, the fieldwork table's quality items), so the
routes the lead wires stay ten lines: parse, authorise, one call here, shape the answer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from chalicelib.domain.coding import (
    CodeFrame,
    CodingChange,
    CodingLog,
    CodingRule,
    InvalidCoding,
    apply_in_bulk,
    auto_code,
    open_answers,
    recode,
)
from chalicelib.domain.errors import DomainError
from chalicelib.domain.field_recheck import RecheckForm, RecheckResult, compare, select_rechecks
from chalicelib.domain.field_risk import EnumeratorRisk, InterviewRecord, RecheckOutcome, RiskConfig, risk_scores
from chalicelib.domain.responses import WITHDRAWN, MalformedResponse, Response


class RecheckNotDrawn(DomainError):
    code = "recheck_not_drawn"
    status = 404
    message_vi = "Phỏng vấn này không nằm trong mẫu phúc tra của phiếu."
    message_en = "This interview is not in the survey's re-check sample."


class RecheckFormMissing(DomainError):
    code = "recheck_form_missing"
    status = 409
    message_vi = "Chưa có phiếu phúc tra cho khảo sát này: hãy chọn các câu hỏi sẽ hỏi lại trước."
    message_en = "This survey has no re-check form yet: choose the questions to ask again first."


class CodeFrameMissing(DomainError):
    code = "code_frame_missing"
    status = 404
    message_vi = "Câu hỏi này chưa có khung mã: hãy định nghĩa các nhóm mã trước."
    message_en = "This question has no code frame yet: define its categories first."


class ResponseReader(Protocol):
    def iter_survey(self, survey_key: str) -> Iterable[dict[str, Any]]: ...

    def iter_field(self, survey_key: str) -> Iterable[dict[str, Any]]:
        """The survey version's field interviews only (a sparse index: not its web responses)."""

    def get(self, response_id: str) -> Response | None: ...


class QualityStore(Protocol):
    def put_recheck_form(self, survey_key: str, form: Mapping[str, Any], who: str, at: str) -> None: ...
    def recheck_form(self, survey_key: str) -> dict[str, Any] | None: ...
    def add_draw(self, survey_key: str, draw: Mapping[str, Any]) -> bool: ...
    def draws(self, survey_key: str) -> list[dict[str, Any]]: ...
    def add_result(self, survey_key: str, result: Mapping[str, Any]) -> bool: ...
    def results(self, survey_key: str) -> list[dict[str, Any]]: ...
    def put_frame(self, survey_key: str, question_id: str, frame: Mapping[str, Any], who: str, at: str) -> None: ...
    def frame(self, survey_key: str, question_id: str) -> dict[str, Any] | None: ...
    def add_changes(self, survey_key: str, question_id: str, changes: Iterable[Mapping[str, Any]]) -> int: ...
    def changes(self, survey_key: str, question_id: str) -> list[dict[str, Any]]: ...


class FieldQualityService:
    def __init__(self, responses: ResponseReader, store: QualityStore) -> None:
        self._responses, self._store = responses, store

    def _interviews(self, survey_key: str) -> list[Response]:
        out = []
        for item in self._responses.iter_field(survey_key):
            try:
                response = Response.from_item(item)
            except MalformedResponse:
                continue  # reconcile reports those; a risk score skips them
            if response.channel == "field" and response.status != WITHDRAWN:
                out.append(response)
        return out

    # --- re-check -------------------------------------------------------------------------------
    def set_recheck_form(self, form: RecheckForm, who: str, at: str) -> None:
        self._store.put_recheck_form(form.survey_key, form.to_dict(), who, at)

    def draw_rechecks(
        self,
        survey_key: str,
        rate: float,
        seed: str,
        who: str,
        at: str,
        minimum_per_enumerator: int = 1,
        province: str | None = None,
        before_write: Callable[[list[dict[str, Any]]], None] | None = None,
    ) -> list[dict[str, Any]]:
        """Draw (or extend) the re-check sample; interviews drawn before stay drawn. Returns the whole sample
        (of the province, when one is given: a province's draw is the national draw restricted to it, since
        the households are drawn per enumerator by the seed). `before_write` sees the new draws first."""
        records = [InterviewRecord.from_response(r) for r in self._interviews(survey_key)]
        if province is not None:
            records = [r for r in records if r.province == province]
        known = {d["response_id"] for d in self._store.draws(survey_key)}
        new = [
            {
                "response_id": chosen.response_id,
                "enumerator": chosen.enumerator,
                "household_id": chosen.household_id,
                "province": next(r.province for r in records if r.response_id == chosen.response_id),
                "rate": str(rate),
                "seed": seed,
                "who": who,
                "at": at,
            }
            for chosen in select_rechecks(records, rate, seed, minimum_per_enumerator)
            if chosen.response_id not in known
        ]
        if before_write is not None:
            before_write(new)
        for draw in new:
            self._store.add_draw(survey_key, draw)
        return self.draws(survey_key, province)

    def draws(self, survey_key: str, province: str | None = None) -> list[dict[str, Any]]:
        """The drawn interviews (of one province when given), in response id order."""
        drawn = self._store.draws(survey_key)
        if province is not None:
            drawn = [d for d in drawn if self._province_of(d) == province]
        return sorted(drawn, key=lambda d: str(d["response_id"]))

    def _province_of(self, draw: Mapping[str, Any]) -> str:
        if draw.get("province"):
            return str(draw["province"])
        original = self._responses.get(str(draw["response_id"]))  # a draw kept before provinces were stored
        return original.province if original else ""

    def recheck_form(self, survey_key: str) -> RecheckForm | None:
        stored = self._store.recheck_form(survey_key)
        return RecheckForm.from_dict(stored) if stored else None

    def recheck_results(self, survey_key: str, province: str | None = None) -> list[dict[str, Any]]:
        """Every re-check recorded (of the province's drawn interviews when given), oldest first."""
        results = sorted(self._store.results(survey_key), key=lambda i: str(i["at"]))
        if province is not None:
            mine = {d["response_id"] for d in self.draws(survey_key, province)}
            results = [r for r in results if r["response_id"] in mine]
        return results

    def record_recheck(
        self,
        survey_key: str,
        response_id: str,
        answers: Mapping[str, Any],
        who: str,
        at: str,
        before_write: Callable[[dict[str, Any]], None] | None = None,
    ) -> RecheckResult:
        """A supervisor's re-check of a drawn interview, compared with the interview (which stays as it was).
        `before_write` sees the item to be stored first (the audit, and the caller's scope check)."""
        if not any(d["response_id"] == response_id for d in self._store.draws(survey_key)):
            raise RecheckNotDrawn()
        stored_form = self._store.recheck_form(survey_key)
        if stored_form is None:
            raise RecheckFormMissing()
        form = RecheckForm.from_dict(stored_form)
        original = self._responses.get(response_id)
        if original is None or original.survey_key != survey_key:
            raise RecheckNotDrawn()
        unknown = sorted(set(answers) - set(form.asked))
        if unknown:
            raise InvalidCoding(
                f"Phiếu phúc tra không hỏi: {', '.join(unknown)}.",
                f"the re-check form does not ask: {', '.join(unknown)}",
                field="answers",
            )
        duration = original.paradata.get("duration_ms")
        result = compare(
            original.answers,
            answers,
            form.questions,
            response_id=response_id,
            duration_ms=int(duration) if isinstance(duration, int | float) else None,
        )
        item = {
            "response_id": response_id,
            "enumerator": str(original.collection.get("enumerator") or ""),
            "province": original.province,
            "answers": dict(answers),
            "agreement": result.agreement,
            "disagreement_rate": str(result.disagreement_rate),
            "not_happened": result.not_happened,
            "duration_mismatch": result.duration_mismatch,
            "who": who,
            "at": at,
        }
        if before_write is not None:
            before_write(item)
        self._store.add_result(survey_key, item)
        return result

    def risk(
        self,
        survey_key: str,
        config: RiskConfig | None = None,
        province: str | None = None,
        closed: Sequence[str] | None = None,
    ) -> list[EnumeratorRisk]:
        """Every enumerator's risk, highest first; a re-checked interview counts by its latest re-check.

        province: only the enumerators who interviewed there, scored as nationally (peers and ranks are the
        survey's, so a province's manager and the Ministry read the same score). closed: the survey's closed
        questions (field_risk.closed_questions), else inferred from the answers."""
        records = [InterviewRecord.from_response(r) for r in self._interviews(survey_key)]
        latest: dict[str, dict[str, Any]] = {}
        for item in sorted(self._store.results(survey_key), key=lambda i: str(i["at"])):
            latest[str(item["response_id"])] = item
        outcomes = [
            RecheckOutcome(rid, float(i["disagreement_rate"]), bool(i.get("not_happened"))) for rid, i in latest.items()
        ]
        scored = risk_scores(records, outcomes, config, {survey_key: closed} if closed is not None else None)
        if province is None:
            return scored
        there = {r.enumerator for r in records if r.province == province}
        return [r for r in scored if r.enumerator in there]

    # --- coding ---------------------------------------------------------------------------------
    def save_code_frame(self, frame: CodeFrame, who: str, at: str) -> None:
        self._store.put_frame(frame.survey_key, frame.question_id, frame.to_dict(), who, at)

    def saved_frame(self, survey_key: str, question_id: str) -> CodeFrame | None:
        stored = self._store.frame(survey_key, question_id)
        return CodeFrame.from_dict(stored) if stored is not None else None

    def code_frame(self, survey_key: str, question_id: str) -> CodeFrame:
        stored = self._store.frame(survey_key, question_id)
        if stored is None:
            raise CodeFrameMissing()
        return CodeFrame.from_dict(stored)

    def _log(self, survey_key: str, question_id: str) -> CodingLog:
        return CodingLog(CodingChange.from_dict(c) for c in self._store.changes(survey_key, question_id))

    def _texts(self, survey_key: str, question_id: str) -> dict[str, str]:
        return open_answers([(r.response_id, r.answers) for r in self._interviews_and_web(survey_key)], question_id)

    def _interviews_and_web(self, survey_key: str) -> Sequence[Response]:
        # Coding is for every channel's open answers, not only field interviews.
        out = []
        for item in self._responses.iter_survey(survey_key):
            try:
                response = Response.from_item(item)
            except MalformedResponse:
                continue
            if response.status != WITHDRAWN:
                out.append(response)
        return out

    def apply_coding(
        self,
        survey_key: str,
        question_id: str,
        rule: CodingRule | None,
        who: str,
        why: str,
        at: str,
        before_write: Callable[[list[CodingChange]], None] | None = None,
    ) -> list[CodingChange]:
        """A bulk rule, or (rule None) every category's own matcher over the uncoded answers."""
        frame = self.code_frame(survey_key, question_id)
        log = self._log(survey_key, question_id)
        texts = self._texts(survey_key, question_id)
        if rule is None:
            changes, _ = auto_code(frame, texts, who=who, why=why, at=at, log=log)
        else:
            changes = apply_in_bulk(frame, texts, rule, who=who, why=why, at=at, log=log)
        log.append(changes)
        if before_write is not None:
            before_write(changes)
        self._store.add_changes(survey_key, question_id, [c.to_dict() for c in changes])
        return changes

    def recode_one(
        self,
        survey_key: str,
        question_id: str,
        response_id: str,
        code: str | None,
        who: str,
        why: str,
        at: str,
        cleaned_text: str | None = None,
        before_write: Callable[[list[CodingChange]], None] | None = None,
    ) -> CodingChange:
        frame = self.code_frame(survey_key, question_id)
        log = self._log(survey_key, question_id)
        if response_id not in self._texts(survey_key, question_id):
            raise InvalidCoding(
                f"Phiếu {response_id} không có câu trả lời cho câu {question_id}.",
                f"response {response_id} has no answer to {question_id}",
                field="response_id",
            )
        change = recode(frame, response_id, code, who=who, why=why, at=at, cleaned_text=cleaned_text, log=log)
        log.append([change])
        if before_write is not None:
            before_write([change])
        self._store.add_changes(survey_key, question_id, [change.to_dict()])
        return change

    def coding(self, survey_key: str, question_id: str) -> list[dict[str, Any]]:
        """Each answer with its original text (as answered), its current code and cleaned text, and history."""
        log = self._log(survey_key, question_id)
        out = []
        for response_id, text in sorted(self._texts(survey_key, question_id).items()):
            state = log.current(response_id, question_id)
            out.append(
                {
                    "response_id": response_id,
                    "text": text,
                    "code": state.code if state else None,
                    "cleaned_text": state.cleaned_text if state else None,
                    "changes": [c.to_dict() for c in log.history(response_id, question_id)],
                }
            )
        return out
