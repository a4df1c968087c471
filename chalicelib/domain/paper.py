"""Paper forms (phiếu giấy): clerks key them twice, blind; a third clerk resolves mismatches; CSV/XLSX import.

A clerk opens a **batch** (lô phiếu: a bundle of paper forms of one survey version and one province) and keys
each form by its printed number. The first entry is kept; a second clerk, another person, keys the same
number without seeing the first. Two equal entries create the response (channel `paper`) in the same
transaction as the second entry; two different ones put the form in the resolve queue, where a third clerk
(neither of the two) sees both side by side and enters the final values. A file import counts as a first
entry for each row (as a second when another clerk imported or keyed the first): the same rules apply.

Storage (the fieldwork table, chalicelib/store/paper.py; families also in docs/FIELDWORK.md):

    paper#<agency>              batch#<batch>                  the batch: survey version, province, opened by/at
    paper#<agency>#<batch>      form#<n>#entry#1 | #entry#2    an entry: answers, clerk, when, keyed or imported
    paper#<agency>#<batch>      form#<n>#resolved              the third clerk's final answers

A response's id is derived from (survey, version, agency, batch, form number): the batch's opening time
(48 bits) and 80 bits of a SHA-256 of the key, as a ULID. Keying or importing a form again cannot create a
second response; the response is written with a condition that it does not exist yet.
"""

from __future__ import annotations

import csv
import hashlib
import io
import math
import re
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from chalicelib.domain.audit import Actor
from chalicelib.domain.clock import stamp, utcnow
from chalicelib.domain.errors import (
    BadQuery,
    BodyTooLarge,
    DomainError,
    EditConflict,
    InvalidSubmission,
    NotFound,
)
from chalicelib.domain.responses import RECEIVED, Response
from chalicelib.domain.survey import OTHER_SUFFIX, Survey

ENTER = "response.enter"
REVIEW = "paper.review"
CHANNEL = "paper"
BATCH_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,31}$")
FORM_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,23}$")
IMPORT_MAX_BYTES = 4 * 1024 * 1024
IMPORT_MAX_ROWS = 1000  # each form is a write and an audit entry: a file must fit API Gateway's 29 s
FORM_COLUMN = "form_number"
IGNORED_COLUMNS = frozenset({"note", "ghi_chu"})  # free columns a clerk may keep in the file; never stored
MULTI_SEPARATORS = re.compile(r"[;,\s]+")
# Printed yes/no boxes are numbered 1 Có, 2 Không; the stored values are the survey's own (yes, no)
YES_NO_CODES = {"1": "yes", "2": "no", "có": "yes", "co": "yes", "không": "no", "khong": "no"}
B32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


# --- errors ---------------------------------------------------------------------------------------
class SameClerk(DomainError):
    code = "paper_same_clerk"
    status = 409
    message_vi = "Ông/Bà đã nhập phiếu này lần 1; lần nhập thứ hai phải do một cán bộ khác thực hiện."
    message_en = "You keyed this form's first entry; the second entry must be keyed by another clerk."


class FormComplete(DomainError):
    code = "paper_form_complete"
    status = 409
    message_vi = "Phiếu này đã được nhập đủ hai lần."
    message_en = "This form has already been keyed twice."


class NothingToResolve(DomainError):
    code = "paper_nothing_to_resolve"
    status = 409
    message_vi = "Phiếu này không nằm trong danh sách chờ đối chiếu."
    message_en = "This form is not waiting for a resolution."


class ResolverIsClerk(DomainError):
    code = "paper_resolver_is_clerk"
    status = 403
    message_vi = "Người đối chiếu phải là cán bộ thứ ba, không phải một trong hai người đã nhập phiếu."
    message_en = "The resolver must be a third clerk, not one of the two who keyed the form."


class BatchExists(DomainError):
    code = "paper_batch_exists"
    status = 409
    message_vi = "Đã có lô phiếu mang số này."
    message_en = "A batch with this number already exists."


class ImportRefused(DomainError):
    code = "paper_import_refused"
    status = 422
    message_vi = "Tệp có dòng lỗi nên chưa nhập dòng nào; sửa các lỗi bên dưới rồi nhập lại (hoặc chọn nhập một phần)."
    message_en = "The file has rows with errors, so nothing was imported; fix them and import again (or ask partial)."


# --- ports ----------------------------------------------------------------------------------------
class PaperStore(Protocol):
    def get(self, pk: str, sk: str) -> dict[str, Any] | None: ...

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]: ...

    def put_new(self, item: dict[str, Any]) -> bool:
        """Write only when no item has this key; False when one has."""

    def put_with_response(self, item: dict[str, Any], response: Response) -> bool:
        """The item and the response in one transaction, each only if new; False (nothing written) if not."""


class SurveyCatalog(Protocol):
    def get(self, survey_id: str, version: int | None = None) -> Survey: ...


class Recorder(Protocol):
    def record(self, actor: Actor, action: str, target_type: str, target_id: str, before: Any, after: Any) -> Any: ...


class Caller(Protocol):
    @property
    def sub(self) -> str: ...

    @property
    def name(self) -> str: ...

    def actor(self, permission: str) -> Actor: ...


# --- ids ------------------------------------------------------------------------------------------
def paper_response_id(opened_ms: int, survey_id: str, version: int, agency: str, batch: str, form: str) -> str:
    """A ULID from the batch's opening time and a hash of the form's key: the same form, the same id."""
    digest = hashlib.sha256(f"paper|{survey_id}|{version}|{agency}|{batch}|{form}".encode()).digest()
    value = ((opened_ms & (2**48 - 1)) << 80) | int.from_bytes(digest[:10], "big")
    return "".join(B32[(value >> (5 * i)) & 31] for i in reversed(range(26)))


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


# --- answers as keyed -----------------------------------------------------------------------------
def coerce_answers(survey: Survey, raw: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Typed answers from what a clerk keyed or a file held (text), and the problems of values that are not
    of their question's type. Empty values are unanswered; JSON values of the right type pass as they are."""
    answers: dict[str, Any] = {}
    problems: list[dict[str, str]] = []
    for key, value in raw.items():
        item = survey.item(key)
        kind = item.kind if item is not None else "text"
        if value is None or (isinstance(value, str) and not value.strip()) or value == []:
            continue
        if not isinstance(value, str):
            answers[key] = value
            continue
        text = unicodedata.normalize("NFC", value).strip()
        if kind == "integer":
            if re.fullmatch(r"[+-]?[0-9]{1,15}", text):
                answers[key] = int(text)
            else:
                problems.append(_problem(key, "Cần nhập một số nguyên.", "A whole number is needed."))
        elif kind == "decimal":
            try:
                number = float(text.replace(",", "."))
                if not math.isfinite(number):
                    raise ValueError(text)
                answers[key] = number
            except ValueError:
                problems.append(_problem(key, "Cần nhập một số.", "A number is needed."))
        elif kind == "multi":
            answers[key] = list(dict.fromkeys(v for v in MULTI_SEPARATORS.split(text) if v))
        elif kind == "consent":
            if text.lower() in ("1", "x", "true", "yes", "có", "co"):
                answers[key] = True
            else:
                problems.append(_problem(key, "Đồng ý: nhập 1 (hoặc x).", "Consent: key 1 (or x)."))
        elif item is not None and item.question_type == "yes_no":
            answers[key] = YES_NO_CODES.get(text.lower(), text)
        else:
            answers[key] = text
        if key in answers and item is not None:
            problems.extend(_range_problems(key, item, answers[key]))
    return answers, problems


def _range_problems(key: str, item: Any, value: Any) -> list[dict[str, str]]:
    """What the compiled contract refuses without saying which question: a code not printed, a number out of range."""
    if item.options:
        chosen = value if isinstance(value, list) else [value]
        wrong = [str(v) for v in chosen if v not in item.options]
        if wrong:
            codes = ", ".join(item.options)
            return [
                _problem(
                    key,
                    f"Mã {wrong[0]} không có trong phiếu (các mã: {codes}).",
                    f"Code {wrong[0]} is not on the form ({codes}).",
                )
            ]
    if isinstance(value, int | float) and not isinstance(value, bool):
        if item.minimum is not None and value < item.minimum:
            return [
                _problem(
                    key, f"Giá trị phải từ {item.minimum:g} trở lên.", f"The value must be at least {item.minimum:g}."
                )
            ]
        if item.maximum is not None and value > item.maximum:
            return [
                _problem(
                    key, f"Giá trị phải từ {item.maximum:g} trở xuống.", f"The value must be at most {item.maximum:g}."
                )
            ]
    return []


def _problem(field: str, vi: str, en: str) -> dict[str, str]:
    return {"field": f"/answers/{field}", "message": vi, "message_en": en}


def differences(first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """The answer keys whose values the two entries do not share (absent on one side included)."""
    return sorted(k for k in set(first) | set(second) if first.get(k) != second.get(k))


# --- the service ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Batch:
    agency: str
    code: str
    survey_id: str
    survey_version: int
    province: str
    label: str
    opened_at: str
    opened_ms: int
    opened_by: str

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Batch:
        return cls(
            agency=str(item["agency"]),
            code=str(item["batch"]),
            survey_id=str(item["survey_id"]),
            survey_version=int(item["survey_version"]),
            province=str(item["province"]),
            label=str(item.get("label", "")),
            opened_at=str(item["opened_at"]),
            opened_ms=int(item["opened_ms"]),
            opened_by=str(item.get("opened_by", "")),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "agency": self.agency,
            "batch": self.code,
            "survey_id": self.survey_id,
            "survey_version": self.survey_version,
            "province": self.province,
            "label": self.label,
            "opened_at": self.opened_at,
            "opened_by": self.opened_by,
        }

    @property
    def forms_pk(self) -> str:
        return f"paper#{self.agency}#{self.code}"

    def response_id(self, form: str) -> str:
        return paper_response_id(self.opened_ms, self.survey_id, self.survey_version, self.agency, self.code, form)


@dataclass
class _Form:
    """What is stored of one form: its entries and resolution."""

    number: str
    first: dict[str, Any] | None = None
    second: dict[str, Any] | None = None
    resolved: dict[str, Any] | None = None

    @property
    def state(self) -> str:
        if self.resolved is not None:
            return "resolved"
        if self.second is not None:
            return "agreed" if self.second.get("agreed") else "mismatch"
        return "awaiting_second" if self.first is not None else "new"

    @property
    def clerks(self) -> list[str]:
        return [e["clerk"] for e in (self.first, self.second) if e is not None]

    @property
    def response_id(self) -> str | None:
        done = self.resolved or (self.second if self.second and self.second.get("agreed") else None)
        return str(done["response_id"]) if done else None

    def summary(self) -> dict[str, Any]:
        """For anyone of the batch: no answers (the second clerk keys blind)."""
        out: dict[str, Any] = {"form_number": self.number, "state": self.state, "clerks": self.clerks}
        if self.response_id:
            out["response_id"] = self.response_id
        if self.state in ("mismatch", "resolved") and self.first and self.second:
            out["differences"] = differences(self.first["answers"], self.second["answers"])
        if self.resolved:
            out["resolved_by"] = self.resolved["resolved_by"]
        return out


@dataclass(frozen=True)
class Planned:
    """What keying a form will do: write entry 1, write entry 2 (and the response when they agree), nothing."""

    form: _Form
    entry: int  # 1 or 2; 0 = unchanged (the same clerk sent the same answers again)
    answers: dict[str, Any]
    agreed: bool = False


class PaperEntryService:
    def __init__(
        self,
        catalog: SurveyCatalog,
        store: PaperStore,
        audit: Recorder,
        hasher: Callable[[str, str], str] | None = None,
        hmac_key_id: Callable[[], str] = lambda: "",
        provinces: Callable[[str], Iterable[str]] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._catalog, self._store, self._audit = catalog, store, audit
        self._hasher, self._key_id = hasher, hmac_key_id
        self._provinces = provinces
        self._clock = clock

    # --- batches --------------------------------------------------------------------------------
    def batches(self, agency: str) -> list[dict[str, Any]]:
        items = self._store.query(f"paper#{agency}", "batch#")
        return [Batch.from_item(i).to_dict() for i in sorted(items, key=lambda i: str(i["opened_at"]), reverse=True)]

    def open_batch(self, principal: Caller, agency: str, body: dict[str, Any]) -> dict[str, Any]:
        code = str(body.get("batch") or "").strip()
        if not BATCH_PATTERN.match(code):
            raise BadQuery(
                "Số lô gồm chữ, số và dấu gạch ngang (tối đa 32 ký tự).",
                "A batch number is letters, digits and hyphens (at most 32).",
                field="batch",
            )
        version = body.get("survey_version")
        if not isinstance(version, int) or isinstance(version, bool) or not 0 < version < 10**9:
            raise BadQuery("Hãy chọn phiên bản phiếu.", "Choose the survey version.", field="survey_version")
        survey = self._catalog.get(str(body.get("survey_id") or ""), version)
        if survey.status not in ("published", "closed"):
            raise BadQuery(
                "Chỉ nhập phiếu giấy cho phiên bản đã phát hành.",
                "Paper forms are keyed for a published version only.",
                field="survey_version",
            )
        province = self._province(agency, str(body.get("province") or ""), survey)
        now = self._clock()
        label = unicodedata.normalize("NFC", str(body.get("label") or "")).strip()[:120]
        batch = Batch(agency, code, survey.id, survey.version, province, label, stamp(now), _ms(now), principal.sub)
        item = {"pk": f"paper#{agency}", "sk": f"batch#{code}", **batch.to_dict(), "opened_ms": batch.opened_ms}
        if not self._store.put_new(item):
            raise BatchExists(field="batch")
        self._audit.record(
            principal.actor(ENTER), "paper.batch_open", "paper_batch", f"{agency}/{code}", None, batch.to_dict()
        )
        return batch.to_dict()

    def _province(self, agency: str, asked: str, survey: Survey) -> str:
        """A province agency's batches are of its own province; another agency names one of the geography."""
        if agency.startswith("P"):
            if asked and asked != agency[1:]:
                raise BadQuery(
                    f"Phiếu giấy của {agency} thuộc tỉnh {agency[1:]}.",
                    f"Paper forms of {agency} belong to province {agency[1:]}.",
                    field="province",
                )
            return agency[1:]
        known = set(self._provinces(survey.geography)) if self._provinces else None
        if not re.fullmatch(r"[0-9]{2}", asked) or (known is not None and asked not in known):
            raise BadQuery("Hãy chọn tỉnh của lô phiếu.", "Choose the batch's province.", field="province")
        return asked

    def batch(self, agency: str, code: str) -> Batch:
        item = self._store.get(f"paper#{agency}", f"batch#{code}") if BATCH_PATTERN.match(code) else None
        if item is None:
            raise NotFound("Không tìm thấy lô phiếu này.", "No such batch.", field="batch")
        return Batch.from_item(item)

    def batch_view(self, agency: str, code: str) -> dict[str, Any]:
        """The batch and its forms' states (no answers); the resolve queue is the forms in `mismatch`."""
        batch = self.batch(agency, code)
        forms = [f.summary() for f in self._forms(batch).values()]
        forms.sort(key=lambda f: _number_order(f["form_number"]))
        counts: dict[str, int] = {}
        for f in forms:
            counts[f["state"]] = counts.get(f["state"], 0) + 1
        return {**batch.to_dict(), "forms": forms, "counts": counts}

    def survey_of(self, batch: Batch) -> Survey:
        return self._catalog.get(batch.survey_id, batch.survey_version)

    # --- keying -----------------------------------------------------------------------------------
    def enter(self, principal: Caller, agency: str, code: str, body: dict[str, Any]) -> dict[str, Any]:
        """Key one form: its first entry, or its second (blind), which creates the response when both agree."""
        batch = self.batch(agency, code)
        survey = self.survey_of(batch)
        number = _form_number(body.get("form_number"))
        raw = body.get("answers")
        if not isinstance(raw, dict):
            raise BadQuery("Thiếu câu trả lời.", "The answers are missing.", field="/answers")
        answers = self._checked(survey, batch, number, raw)
        plan = self._plan(principal, answers, self._form(batch, number))
        return self._apply(principal, batch, survey, plan, source="keyed")

    def _checked(self, survey: Survey, batch: Batch, number: str, raw: dict[str, Any]) -> dict[str, Any]:
        answers, problems = coerce_answers(survey, raw)
        problems = _merged(problems, self._problems(survey, batch, number, answers))
        if problems:
            first = problems[0]
            raise InvalidSubmission(first["message"], first["message_en"], field=first["field"], details=problems)
        return answers

    def _problems(self, survey: Survey, batch: Batch, number: str, answers: dict[str, Any]) -> list[dict[str, str]]:
        """The survey's own rules, as for any response: the compiled contract, then its check in words."""
        from fastjsonschema import JsonSchemaValueException

        from chalicelib.domain.submissions import _explain

        envelope = {
            "id": batch.response_id(number),
            "survey_version": survey.version,
            "channel": CHANNEL,
            "province": batch.province,
            "answers": answers,
        }
        try:
            survey.validator()(envelope)
        except JsonSchemaValueException as exc:
            found = [
                {"field": p.field, "message": p.message_vi, "message_en": p.message_en} for p in survey.check(answers)
            ]
            if found:
                return found[:100]
            error = _explain(exc)
            return [{"field": error.field or "/answers", "message": error.message_vi, "message_en": error.message_en}]
        if survey.has_commune_pickers:
            return [
                {"field": p.field, "message": p.message_vi, "message_en": p.message_en} for p in survey.check(answers)
            ]
        return []

    @staticmethod
    def _plan(principal: Caller, answers: dict[str, Any], form: _Form) -> Planned:
        me = principal.sub
        if form.second is not None or form.resolved is not None:
            mine = next((e for e in (form.first, form.second) if e and e["clerk"] == me), None)
            if mine is not None and mine["answers"] == answers:
                return Planned(form, 0, answers)
            raise FormComplete(field="form_number")
        if form.first is not None:
            if form.first["clerk"] == me:
                if form.first["answers"] == answers:
                    return Planned(form, 0, answers)
                raise SameClerk(field="form_number")
            return Planned(form, 2, answers, agreed=not differences(form.first["answers"], answers))
        return Planned(form, 1, answers)

    def _apply(
        self, principal: Caller, batch: Batch, survey: Survey, plan: Planned, source: str, retry: bool = True
    ) -> dict[str, Any]:
        form, number = plan.form, plan.form.number
        if plan.entry == 0:
            return {**form.summary(), "entry": 0, "created": False}
        now = self._clock()
        item = {
            "pk": batch.forms_pk,
            "sk": f"form#{number}#entry#{plan.entry}",
            "form_number": number,
            "entry": plan.entry,
            "answers": plan.answers,
            "clerk": principal.sub,
            "clerk_name": principal.name,
            "entered_at": stamp(now),
            "source": source,
        }
        if plan.entry == 2:
            item["agreed"] = plan.agreed
        if plan.agreed:
            response_id = batch.response_id(number)
            item["response_id"] = response_id
            clerks = [*form.clerks, principal.sub]
            written = self._store.put_with_response(
                item, self._response(survey, batch, number, plan.answers, clerks, None, now)
            )
        else:
            written = self._store.put_new(item)
        if not written:  # another clerk keyed it meanwhile: decide again, once, from what is stored now
            if not retry:
                raise EditConflict(field="form_number")
            again = self._plan(principal, plan.answers, self._form(batch, number))
            return self._apply(principal, batch, survey, again, source, retry=False)
        if plan.entry == 1:
            form.first = item
        else:
            form.second = item
        outcome = {**form.summary(), "entry": plan.entry, "created": True}
        after = {k: v for k, v in outcome.items() if k != "clerks"} | {"source": source}
        self._audit.record(principal.actor(ENTER), "paper.enter", "paper_form", _target(batch, number), None, after)
        return outcome

    # --- the resolve queue ------------------------------------------------------------------------
    def form_view(self, principal: Caller, agency: str, code: str, number: str) -> dict[str, Any]:
        """A form's state; both entries side by side only once both exist (the second clerk keys blind)."""
        batch = self.batch(agency, code)
        form = self._form(batch, _form_number(number))
        if form.first is None:
            raise NotFound(
                "Chưa có phiếu số này trong lô.", "No form with this number in the batch.", field="form_number"
            )
        out = {**form.summary(), "batch": batch.to_dict()}
        if form.second is not None:
            out["entries"] = [
                {
                    "entry": e["entry"],
                    "clerk": e["clerk"],
                    "clerk_name": e.get("clerk_name", ""),
                    "answers": e["answers"],
                }
                for e in (form.first, form.second)
            ]
            out["may_resolve"] = form.state == "mismatch" and principal.sub not in form.clerks
        if form.resolved is not None:
            out["final"] = form.resolved["answers"]
        return out

    def resolve(self, principal: Caller, agency: str, code: str, number: str, body: dict[str, Any]) -> dict[str, Any]:
        """A third clerk's final values for a mismatched form: the response, marked with who resolved it."""
        batch = self.batch(agency, code)
        survey = self.survey_of(batch)
        number = _form_number(number)
        form = self._form(batch, number)
        if form.state != "mismatch" or form.first is None or form.second is None:
            raise NothingToResolve(field="form_number")
        if principal.sub in form.clerks:
            raise ResolverIsClerk()
        raw = body.get("answers")
        if not isinstance(raw, dict):
            raise BadQuery("Thiếu câu trả lời.", "The answers are missing.", field="/answers")
        answers = self._checked(survey, batch, number, raw)
        now = self._clock()
        response_id = batch.response_id(number)
        item = {
            "pk": batch.forms_pk,
            "sk": f"form#{number}#resolved",
            "form_number": number,
            "answers": answers,
            "resolved_by": principal.sub,
            "resolved_at": stamp(now),
            "response_id": response_id,
            "differences": differences(form.first["answers"], form.second["answers"]),
        }
        response = self._response(survey, batch, number, answers, form.clerks, principal.sub, now)
        if not self._store.put_with_response(item, response):
            raise NothingToResolve("Phiếu này vừa được người khác đối chiếu.", "Someone resolved this form just now.")
        form.resolved = item
        outcome = form.summary()
        self._audit.record(
            principal.actor(REVIEW),
            "paper.resolve",
            "paper_form",
            _target(batch, number),
            {"differences": item["differences"]},
            {"response_id": response_id, "resolved_by": principal.sub},
        )
        return outcome

    # --- import -----------------------------------------------------------------------------------
    def import_file(
        self, principal: Caller, agency: str, code: str, data: bytes, filename: str, partial: bool = False
    ) -> dict[str, Any]:
        """Each row a form, keyed as by the clerk who imports. Every problem is reported by row, column and
        reason; nothing is written when any row fails, unless `partial` (then the good rows are)."""
        batch = self.batch(agency, code)
        survey = self.survey_of(batch)
        if len(data) > IMPORT_MAX_BYTES:
            raise BodyTooLarge(
                f"Tệp quá lớn (tối đa {IMPORT_MAX_BYTES // 1024 // 1024} MB).",
                f"The file is larger than {IMPORT_MAX_BYTES // 1024 // 1024} MB.",
            )
        header, rows = read_table(data, filename)
        errors = _header_problems(survey, header)
        if errors:
            raise ImportRefused(details=errors)
        forms = {f.number: f for f in self._forms(batch).values()}
        plans: list[tuple[int, Planned]] = []
        seen: dict[str, int] = {}
        for row_number, row in rows:
            cells = dict(zip(header, row, strict=False))
            problems: list[dict[str, Any]] = []
            try:
                number = _form_number(cells.get(FORM_COLUMN))
            except BadQuery as exc:
                errors.append(_row_problem(row_number, FORM_COLUMN, exc.message_vi, exc.message_en))
                continue
            if number in seen:
                errors.append(
                    _row_problem(
                        row_number,
                        FORM_COLUMN,
                        f"Số phiếu {number} trùng với dòng {seen[number]}.",
                        f"Form number {number} repeats row {seen[number]}.",
                    )
                )
                continue
            seen[number] = row_number
            raw = {k: v for k, v in cells.items() if k != FORM_COLUMN and k not in IGNORED_COLUMNS}
            answers, problems = coerce_answers(survey, raw)
            problems = _merged(problems, self._problems(survey, batch, number, answers))
            if problems:
                errors.extend(
                    _row_problem(row_number, _column(p["field"]), p["message"], p["message_en"]) for p in problems
                )
                continue
            try:
                plans.append((row_number, self._plan(principal, answers, forms.get(number) or _Form(number))))
            except DomainError as exc:
                errors.append(_row_problem(row_number, FORM_COLUMN, exc.message_vi, exc.message_en))
        if errors and not partial:
            raise ImportRefused(details=errors[:500])
        results = []
        for row_number, plan in plans:
            outcome = self._apply(principal, batch, survey, plan, source="import")
            results.append({"row": row_number, **{k: v for k, v in outcome.items() if k != "clerks"}})
        imported = sum(1 for r in results if r["created"])
        return {
            "batch": batch.code,
            "filename": filename[:200],
            "rows": len(rows),
            "imported": imported,
            "unchanged": len(results) - imported,
            "failed": len({e["row"] for e in errors}),
            "errors": errors[:500],
            "forms": results,
        }

    # --- reading stored forms ---------------------------------------------------------------------
    def _forms(self, batch: Batch) -> dict[str, _Form]:
        forms: dict[str, _Form] = {}
        for item in self._store.query(batch.forms_pk, "form#"):
            number = str(item["form_number"])
            form = forms.setdefault(number, _Form(number))
            _place(form, item)
        return forms

    def _form(self, batch: Batch, number: str) -> _Form:
        form = _Form(number)
        for item in self._store.query(batch.forms_pk, f"form#{number}#"):
            _place(form, item)
        return form

    def _response(
        self,
        survey: Survey,
        batch: Batch,
        number: str,
        answers: dict[str, Any],
        clerks: list[str],
        resolved_by: str | None,
        now: datetime,
    ) -> Response:
        from chalicelib.domain.submissions import content_hash

        kept: dict[str, Any] = {}
        identifiers: dict[str, str] = {}
        for key, value in answers.items():
            item = survey.item(key)
            if item is not None and item.personal_data:
                if self._hasher is not None and isinstance(value, str):
                    identifiers[key] = self._hasher(key, value)
                continue
            kept[key] = value
        collection: dict[str, Any] = {"kind": CHANNEL, "form_number": number, "batch": batch.code, "clerks": clerks}
        if resolved_by:
            collection["resolved_by"] = resolved_by
        response_id = batch.response_id(number)
        return Response(
            response_id=response_id,
            survey_id=survey.id,
            survey_version=survey.version,
            status=RECEIVED,
            answers=kept,
            channel=CHANNEL,
            province=batch.province,
            agency=batch.agency,
            attributed=True,
            paradata={"entered_at": stamp(now)},
            received_at=stamp(now),
            content_hash=content_hash({"id": response_id, "answers": answers, "collection": collection}),
            identifiers=identifiers,
            hmac_key_id=self._key_id() if identifiers else "",
            collection=collection,
        )


def _merged(typed: list[dict[str, str]], rules: list[dict[str, str]]) -> list[dict[str, str]]:
    """Type and range problems first, then the survey's rules on the other questions (one problem per question)."""
    fields = {p["field"] for p in typed}
    return typed + [p for p in rules if p["field"] not in fields]


def _place(form: _Form, item: dict[str, Any]) -> None:
    sk = str(item["sk"])
    if sk.endswith("#entry#1"):
        form.first = item
    elif sk.endswith("#entry#2"):
        form.second = item
    elif sk.endswith("#resolved"):
        form.resolved = item


def _target(batch: Batch, number: str) -> str:
    return f"{batch.agency}/{batch.code}/{number}"


def _form_number(value: Any) -> str:
    text = str(value if value is not None else "").strip()
    if not FORM_PATTERN.match(text):
        raise BadQuery(
            "Số phiếu gồm chữ, số và dấu gạch ngang (tối đa 24 ký tự), như in trên phiếu.",
            "A form number is letters, digits and hyphens (at most 24), as printed on the form.",
            field="form_number",
        )
    return text


def _number_order(number: str) -> tuple[int, str]:
    return (int(number), "") if number.isdigit() else (10**24, number)


# --- files ----------------------------------------------------------------------------------------
def read_table(data: bytes, filename: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """The header (lower-cased, trimmed) and the non-empty rows with their row numbers (the header is row 1).
    Every cell is text: a number cell of a workbook reads as its digits, a formula is never evaluated."""
    if filename.lower().endswith(".xlsx"):
        table = _xlsx_rows(data)
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise BadQuery("Tệp CSV phải được lưu với mã UTF-8.", "Save the CSV file as UTF-8.", field="file") from None
        table = (list(row) for row in csv.reader(io.StringIO(text)))
    rows: list[tuple[int, list[str]]] = []
    header: list[str] | None = None
    for index, row in enumerate(table, start=1):
        if header is None:
            header = [unicodedata.normalize("NFC", c).strip().lower() for c in row]
            while header and not header[-1]:
                header.pop()
            continue
        if not any(c.strip() for c in row):
            continue
        if len(rows) >= IMPORT_MAX_ROWS:
            raise BodyTooLarge(
                f"Tệp có quá nhiều dòng (tối đa {IMPORT_MAX_ROWS} phiếu mỗi lần nhập).",
                f"Too many rows (at most {IMPORT_MAX_ROWS} forms per import).",
            )
        rows.append((index, [c.strip() for c in row]))
    if not header:
        raise BadQuery("Tệp trống: cần một dòng tiêu đề.", "The file is empty: a header row is needed.", field="file")
    return header, rows


def _xlsx_rows(data: bytes) -> Iterable[list[str]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise BadQuery("Không đọc được tệp XLSX.", "The XLSX file cannot be read.", field="file") from None
    sheet = book.worksheets[0]
    for row in sheet.iter_rows(values_only=True):
        yield [_cell_text(v) for v in row]


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat()
    return str(value)


def _header_problems(survey: Survey, header: list[str]) -> list[dict[str, Any]]:
    problems = []
    if FORM_COLUMN not in header:
        problems.append(
            _row_problem(1, FORM_COLUMN, "Thiếu cột form_number (số phiếu).", "The form_number column is missing.")
        )
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(_row_problem(1, name, "Cột bị lặp.", "The column repeats."))
        seen.add(name)
        if name in (FORM_COLUMN, *IGNORED_COLUMNS):
            continue
        base = name.removesuffix(OTHER_SUFFIX)
        if survey.item(name) is None and survey.item(base) is None:
            problems.append(
                _row_problem(
                    1,
                    name or "(trống)",
                    "Phiếu không có câu hỏi mang mã này.",
                    "The survey has no question with this id.",
                )
            )
    return problems


def _row_problem(row: int, column: str, vi: str, en: str) -> dict[str, Any]:
    return {"row": row, "column": column, "message": vi, "message_en": en}


def _column(field: str) -> str:
    return field.removeprefix("/answers/").split("/")[0] or FORM_COLUMN
