"""Re-check (phúc tra): a reproducible random subsample of each enumerator's interviews, re-contacted with a
short form, and the comparison of what the household says now with what the interview recorded.

The draw orders each enumerator's completed interviews by a keyed hash of (seed, response id) and takes
the first ceil(rate × n): the same seed gives the same households on any machine, and as more interviews
arrive an interview already drawn stays drawn unless a newcomer hashes before it (the drawn set grows
with the work instead of being redrawn). The seed is the analyst's, recorded with the draw.
"""

from __future__ import annotations

import hashlib
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.errors import InvalidDefinition
from chalicelib.domain.field_risk import InterviewRecord, RecheckOutcome
from chalicelib.domain.survey import Survey

HAPPENED = "interview_happened"  # yes | no: "was your household interviewed about public services?"
DURATION = "interview_duration"  # a band of minutes, as the household remembers it
DURATION_BANDS = ("under_10", "10_20", "20_40", "over_40")
CLOSED_KINDS = frozenset({"single", "multi", "consent"})


@dataclass(frozen=True)
class RecheckSelection:
    response_id: str
    enumerator: str
    household_id: str
    survey_key: str


def select_rechecks(
    records: Iterable[InterviewRecord], rate: float, seed: str | int, minimum_per_enumerator: int = 1
) -> list[RecheckSelection]:
    """ceil(rate × n) of each enumerator's completed interviews (at least the minimum, at most all)."""
    if not 0 <= rate <= 1:
        raise ValueError("rate must be between 0 and 1")
    per_enumerator: dict[tuple[str, str], list[InterviewRecord]] = defaultdict(list)
    for record in records:
        if record.outcome == "completed" and record.enumerator:
            per_enumerator[(record.survey_key, record.enumerator)].append(record)
    chosen: list[RecheckSelection] = []
    for (survey_key, enumerator), mine in sorted(per_enumerator.items()):
        wanted = min(len(mine), max(minimum_per_enumerator, math.ceil(rate * len(mine))))
        ordered = sorted(mine, key=lambda r: _draw_key(seed, r.response_id))
        chosen.extend(RecheckSelection(r.response_id, enumerator, r.household_id, survey_key) for r in ordered[:wanted])
    return chosen


def _draw_key(seed: str | int, response_id: str) -> bytes:
    return hashlib.sha256(f"{seed}\x1f{response_id}".encode()).digest()


@dataclass(frozen=True)
class RecheckForm:
    """What the re-check asks: whether the interview happened, roughly how long it took, and a few closed
    questions of the survey the analyst chose (facts that do not change in a week: household size,
    procedures done, a satisfaction item or two)."""

    survey_key: str
    questions: tuple[str, ...]
    ask_happened: bool = True
    ask_duration: bool = True

    @classmethod
    def for_survey(cls, survey: Survey, questions: Sequence[str]) -> RecheckForm:
        """The analyst's choice, checked: each question must be a closed item of the survey version."""
        if not questions:
            raise InvalidDefinition(
                "Hãy chọn ít nhất một câu hỏi đóng để hỏi lại khi phúc tra.",
                "choose at least one closed question to ask again in the re-check",
                field="questions",
            )
        for question in questions:
            item = survey.item(question)
            if item is None or item.kind not in CLOSED_KINDS:
                raise InvalidDefinition(
                    f"Câu {question} không phải câu hỏi đóng (lựa chọn, có/không) của phiếu {survey.key}.",
                    f"{question} is not a closed question (choice, yes/no) of survey {survey.key}",
                    field="questions",
                )
        return cls(survey.key, tuple(dict.fromkeys(questions)))

    @property
    def asked(self) -> tuple[str, ...]:
        return (HAPPENED,) * self.ask_happened + (DURATION,) * self.ask_duration + self.questions

    def to_dict(self) -> dict[str, Any]:
        return {
            "survey_key": self.survey_key,
            "questions": list(self.questions),
            "ask_happened": self.ask_happened,
            "ask_duration": self.ask_duration,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RecheckForm:
        return cls(
            str(data["survey_key"]),
            tuple(str(q) for q in data.get("questions") or ()),
            bool(data.get("ask_happened", True)),
            bool(data.get("ask_duration", True)),
        )


@dataclass(frozen=True)
class RecheckResult:
    response_id: str
    agreement: dict[str, bool]  # question -> same answer; questions unanswered on either side are left out
    disagreement_rate: float  # disagreements / questions compared (1.0 when the interview did not happen)
    not_happened: bool  # the household says nobody interviewed it: a strong flag on its own
    duration_mismatch: bool = False  # the remembered length is two bands or more from the measured one
    compared: int = 0
    differences: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # question -> (original, re-check)

    def outcome(self) -> RecheckOutcome:
        return RecheckOutcome(self.response_id, self.disagreement_rate, self.not_happened)


def duration_band(duration_ms: int) -> str:
    minutes = duration_ms / 60_000
    if minutes < 10:
        return DURATION_BANDS[0]
    if minutes < 20:
        return DURATION_BANDS[1]
    return DURATION_BANDS[2] if minutes < 40 else DURATION_BANDS[3]


def compare(
    original_answers: Mapping[str, Any],
    recheck_answers: Mapping[str, Any],
    questions: Sequence[str],
    *,
    response_id: str = "",
    duration_ms: int | None = None,
) -> RecheckResult:
    """Agreement question by question (a multiple choice compares as a set), never touching either side."""
    if recheck_answers.get(HAPPENED) == "no":
        return RecheckResult(response_id, {}, 1.0, True)
    agreement: dict[str, bool] = {}
    differences: dict[str, tuple[Any, Any]] = {}
    for question in questions:
        if question not in original_answers or question not in recheck_answers:
            continue
        before, after = original_answers[question], recheck_answers[question]
        same = _normal(before) == _normal(after)
        agreement[question] = same
        if not same:
            differences[question] = (before, after)
    mismatch = False
    remembered = recheck_answers.get(DURATION)
    if duration_ms is not None and remembered in DURATION_BANDS:
        measured = DURATION_BANDS.index(duration_band(duration_ms))
        mismatch = abs(DURATION_BANDS.index(str(remembered)) - measured) >= 2
    compared = len(agreement)
    disagreements = sum(not same for same in agreement.values())
    rate = disagreements / compared if compared else 0.0
    return RecheckResult(response_id, agreement, round(rate, 4), False, mismatch, compared, differences)


def _normal(value: Any) -> Any:
    if isinstance(value, list | tuple | set):
        return frozenset(str(v) for v in value)
    if isinstance(value, str):
        return value.strip()
    return str(value)
