"""Coding of open answers (mã hóa câu trả lời mở): an analyst's categories, applied in bulk, every change kept.

The original answer is never modified. Codes and cleaned texts are a separate layer: a log of changes, each
with who, why and when, and the answer's current code is the last change's. Matching is accent- and
case-insensitive (Vietnamese typed without diacritics, "thu tuc" finds "thủ tục"), on whole words.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.errors import DomainError
from chalicelib.domain.logic import ExpressionError, _check_pattern

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,39}$")
MAX_MATCHED = 2000  # characters of an answer the matchers read (a long_text's default maximum)
UNCODED = "uncoded"
AMBIGUOUS = "ambiguous"


class InvalidCoding(DomainError):
    code = "invalid_coding"
    status = 400
    message_vi = "Thao tác mã hóa không hợp lệ."
    message_en = "The coding request is not valid."


class CodingConflict(DomainError):
    code = "coding_conflict"
    status = 409
    message_vi = "Câu trả lời đã được người khác mã hóa lại trong lúc bạn làm; hãy tải lại và thử lại."
    message_en = "The answer was recoded by someone else meanwhile; reload and try again."


def fold(text: str) -> str:
    """Lower case, no diacritics (đ → d), single spaces: the form both the answer and a keyword are matched in."""
    decomposed = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def clean_text(text: str) -> str:
    """The cleaning every answer may get: NFC, no control characters, single spaces, trimmed."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in text)
    return " ".join(text.split())


def _strip_accents(pattern: str) -> str:
    decomposed = unicodedata.normalize("NFD", pattern.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class Matcher:
    """Keywords (any one, as whole words) or a regular expression, both read without accents or case."""

    keywords: tuple[str, ...] = ()
    pattern: str | None = None

    def __post_init__(self) -> None:
        if self.pattern:
            try:
                _check_pattern(self.pattern, None)  # the survey's rules for regex(): no (?…), no (a+)+, ≤ 200
            except ExpressionError as exc:
                raise InvalidCoding(exc.message_vi, exc.message_en, field="pattern") from None
        for keyword in self.keywords:
            if not fold(keyword):
                raise InvalidCoding("Từ khóa không được để trống.", "a keyword must not be empty", field="keywords")

    @property
    def empty(self) -> bool:
        return not self.keywords and not self.pattern

    def compiled(self) -> list[re.Pattern[str]]:
        cached = self.__dict__.get("_compiled")
        if cached is None:
            cached = [re.compile(rf"(?<!\w){re.escape(fold(k))}(?!\w)") for k in self.keywords]
            if self.pattern:
                cached.append(re.compile(_strip_accents(self.pattern), re.IGNORECASE))
            object.__setattr__(self, "_compiled", cached)
        return list(cached)

    def matches(self, text: str) -> bool:
        folded = fold(text[:MAX_MATCHED])
        return any(p.search(folded) for p in self.compiled())


@dataclass(frozen=True)
class Category:
    code: str
    label_vi: str
    label_en: str
    matcher: Matcher = field(default_factory=Matcher)


@dataclass(frozen=True)
class CodeFrame:
    """The categories an analyst defines for one open question (in order: the first listed is shown first)."""

    survey_key: str
    question_id: str
    categories: tuple[Category, ...]

    def __post_init__(self) -> None:
        seen: set[str] = set()
        for category in self.categories:
            if not CODE.match(category.code) or category.code in (UNCODED, AMBIGUOUS):
                raise InvalidCoding(
                    f"Mã '{category.code}' không hợp lệ: dùng chữ thường không dấu, số, '-' hoặc '_' (tối đa 40 ký tự).",
                    f"code '{category.code}' is invalid: use lower-case letters, digits, '-' or '_' (at most 40)",
                    field="categories",
                )
            if category.code in seen:
                raise InvalidCoding(
                    f"Mã '{category.code}' bị lặp.", f"code '{category.code}' is repeated", field="categories"
                )
            if not category.label_vi.strip():
                raise InvalidCoding(
                    f"Mã '{category.code}' cần nhãn tiếng Việt.",
                    f"code '{category.code}' needs a Vietnamese label",
                    field="categories",
                )
            seen.add(category.code)

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)

    def matching(self, text: str) -> list[str]:
        """The codes whose own matcher finds the text (several: the answer is ambiguous for automatic coding)."""
        return [c.code for c in self.categories if not c.matcher.empty and c.matcher.matches(text)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "survey_key": self.survey_key,
            "question_id": self.question_id,
            "categories": [
                {
                    "code": c.code,
                    "label_vi": c.label_vi,
                    "label_en": c.label_en,
                    "keywords": list(c.matcher.keywords),
                    **({"pattern": c.matcher.pattern} if c.matcher.pattern else {}),
                }
                for c in self.categories
            ],
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CodeFrame:
        try:
            categories = tuple(
                Category(
                    str(c["code"]),
                    str(c.get("label_vi") or ""),
                    str(c.get("label_en") or c.get("label_vi") or ""),
                    Matcher(tuple(str(k) for k in c.get("keywords") or ()), c.get("pattern") or None),
                )
                for c in data["categories"]
            )
            return cls(str(data["survey_key"]), str(data["question_id"]), categories)
        except (KeyError, TypeError) as exc:
            raise InvalidCoding(
                f"Khung mã thiếu trường {exc}.", f"the code frame lacks {exc}", field="categories"
            ) from None


@dataclass(frozen=True)
class CodingChange:
    """One change of an answer's code or cleaned text. `before` is the code it replaced (None: uncoded)."""

    response_id: str
    question_id: str
    before: str | None
    after: str | None  # None: the code was removed
    cleaned_text: str | None
    who: str
    why: str
    at: str  # stored instant (clock.stamp): changes of one answer sort by it

    def to_dict(self) -> dict[str, Any]:
        return {
            "response_id": self.response_id,
            "question_id": self.question_id,
            "before": self.before,
            "after": self.after,
            "cleaned_text": self.cleaned_text,
            "who": self.who,
            "why": self.why,
            "at": self.at,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> CodingChange:
        return cls(
            str(data["response_id"]),
            str(data["question_id"]),
            data.get("before"),
            data.get("after"),
            data.get("cleaned_text"),
            str(data["who"]),
            str(data["why"]),
            str(data["at"]),
        )


@dataclass(frozen=True)
class CodingState:
    """An answer's coding now: the last change's code, the last cleaned text given, who and when."""

    code: str | None
    cleaned_text: str | None
    who: str
    at: str


class CodingLog:
    """The changes of one question's answers, in order. Append-only: nothing is ever edited or removed."""

    def __init__(self, changes: Iterable[CodingChange] = ()) -> None:
        self._history: dict[tuple[str, str], list[CodingChange]] = defaultdict(list)
        for change in sorted(changes, key=lambda c: c.at):
            self._history[(change.response_id, change.question_id)].append(change)

    def history(self, response_id: str, question_id: str) -> list[CodingChange]:
        return list(self._history.get((response_id, question_id), []))

    def current(self, response_id: str, question_id: str) -> CodingState | None:
        changes = self._history.get((response_id, question_id))
        if not changes:
            return None
        cleaned = next((c.cleaned_text for c in reversed(changes) if c.cleaned_text is not None), None)
        last = changes[-1]
        return CodingState(last.after, cleaned, last.who, last.at)

    def code(self, response_id: str, question_id: str) -> str | None:
        state = self.current(response_id, question_id)
        return state.code if state else None

    def append(self, changes: Iterable[CodingChange]) -> None:
        """Add changes made against this log; one whose `before` is no longer current is a conflict."""
        for change in changes:
            if change.before != self.code(change.response_id, change.question_id):
                raise CodingConflict()
            self._history[(change.response_id, change.question_id)].append(change)

    def counts(self, question_id: str, response_ids: Iterable[str]) -> dict[str, int]:
        out: dict[str, int] = defaultdict(int)
        for response_id in response_ids:
            out[self.code(response_id, question_id) or UNCODED] += 1
        return dict(out)


@dataclass(frozen=True)
class CodingRule:
    """What a bulk action does: give `code` to the answers it selects.

    Selection: the rule's own matcher, else the listed response ids, else the category's own matcher.
    `recode`: also change answers that already have another code (default: only uncoded ones).
    `clean`: record the cleaned text (clean_text) where it differs from the answer."""

    code: str | None  # None: remove the code (the answers go back to uncoded)
    matcher: Matcher = field(default_factory=Matcher)
    response_ids: frozenset[str] | None = None
    recode: bool = False
    clean: bool = False


def _require(who: str, why: str) -> None:
    if not who.strip():
        raise InvalidCoding("Thiếu người thực hiện.", "who made the change is required", field="who")
    if not why.strip():
        raise InvalidCoding(
            "Hãy ghi lý do của thay đổi (vd. 'mã hóa theo từ khóa thủ tục').",
            "give the reason for the change (e.g. 'coded by the keyword procedure')",
            field="why",
        )


def apply_in_bulk(
    frame: CodeFrame,
    answers_by_response: Mapping[str, str],
    rule: CodingRule,
    *,
    who: str,
    why: str,
    at: str,
    log: CodingLog | None = None,
) -> list[CodingChange]:
    """The changes the rule makes (the caller stores them and appends them to the log); no-ops are left out."""
    _require(who, why)
    if rule.code is not None and frame.category(rule.code) is None:
        raise InvalidCoding(
            f"Mã '{rule.code}' không có trong khung mã của câu {frame.question_id}.",
            f"code '{rule.code}' is not in the code frame of {frame.question_id}",
            field="code",
        )
    log = log or CodingLog()
    if not rule.matcher.empty:
        selects = rule.matcher.matches
    elif rule.response_ids is not None:
        wanted = rule.response_ids
        selects = None
    else:
        category = frame.category(rule.code) if rule.code else None
        if category is None or category.matcher.empty:
            raise InvalidCoding(
                "Hãy cho từ khóa, biểu thức hoặc danh sách phiếu để chọn câu trả lời.",
                "give keywords, a pattern or response ids to select the answers",
                field="rule",
            )
        selects = category.matcher.matches
    changes: list[CodingChange] = []
    for response_id in sorted(answers_by_response):
        text = answers_by_response[response_id]
        if not isinstance(text, str) or not text.strip():
            continue
        chosen = selects(text) if selects is not None else response_id in wanted
        if not chosen:
            continue
        state = log.current(response_id, frame.question_id)
        before = state.code if state else None
        if before is not None and before != rule.code and not rule.recode:
            continue
        cleaned = clean_text(text) if rule.clean else None
        if cleaned is not None and (cleaned == text or (state and state.cleaned_text == cleaned)):
            cleaned = None
        if before == rule.code and cleaned is None:
            continue
        changes.append(CodingChange(response_id, frame.question_id, before, rule.code, cleaned, who, why, at))
    return changes


def auto_code(
    frame: CodeFrame,
    answers_by_response: Mapping[str, str],
    *,
    who: str,
    why: str,
    at: str,
    log: CodingLog | None = None,
) -> tuple[list[CodingChange], dict[str, list[str]]]:
    """Every category's own matcher over the uncoded answers: an answer one category finds gets its code;
    those several find are left for a person (returned under AMBIGUOUS), those none finds under UNCODED."""
    _require(who, why)
    log = log or CodingLog()
    changes: list[CodingChange] = []
    left: dict[str, list[str]] = {AMBIGUOUS: [], UNCODED: []}
    for response_id in sorted(answers_by_response):
        text = answers_by_response[response_id]
        if not isinstance(text, str) or not text.strip() or log.code(response_id, frame.question_id) is not None:
            continue
        found = frame.matching(text)
        if len(found) == 1:
            changes.append(CodingChange(response_id, frame.question_id, None, found[0], None, who, why, at))
        else:
            left[AMBIGUOUS if found else UNCODED].append(response_id)
    return changes, left


def recode(
    frame: CodeFrame,
    response_id: str,
    code: str | None,
    *,
    who: str,
    why: str,
    at: str,
    cleaned_text: str | None = None,
    log: CodingLog | None = None,
) -> CodingChange:
    """One answer coded (or its cleaned text corrected) by hand."""
    _require(who, why)
    if code is not None and frame.category(code) is None:
        raise InvalidCoding(
            f"Mã '{code}' không có trong khung mã của câu {frame.question_id}.",
            f"code '{code}' is not in the code frame of {frame.question_id}",
            field="code",
        )
    before = (log or CodingLog()).code(response_id, frame.question_id)
    cleaned = clean_text(cleaned_text) if cleaned_text is not None else None
    return CodingChange(response_id, frame.question_id, before, code, cleaned, who, why, at)


def open_answers(responses: Sequence[tuple[str, Mapping[str, Any]]], question_id: str) -> dict[str, str]:
    """response id -> the text answered to one open question (or an option's `__other` text)."""
    return {rid: str(answers[question_id]) for rid, answers in responses if isinstance(answers.get(question_id), str)}
