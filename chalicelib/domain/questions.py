"""The parts of a survey definition: an answerable item, a problem with an answer, the question types."""

from __future__ import annotations

from dataclasses import dataclass

from chalicelib.domain.logic import Condition

OTHER_SUFFIX = "__other"  # answers[<question>__other] holds the free text of an option with other_text

QUESTION_KINDS = {
    "single_choice": "single",
    "rating": "single",
    "yes_no": "single",
    "multi_choice": "multi",
    "text": "text",
    "long_text": "text",
    "integer": "integer",
    "decimal": "decimal",
    "date": "date",
    "place": "place",
    "consent": "consent",
}
YES_NO_OPTIONS = (
    {"value": "yes", "label": {"vi": "Có", "en": "Yes"}},
    {"value": "no", "label": {"vi": "Không", "en": "No"}},
)
DEFAULT_MAX_LENGTH = {"text": 255, "long_text": 2000}
REQUIRED_VI, REQUIRED_EN = "Vui lòng trả lời câu hỏi bắt buộc này.", "Please answer this required question."


@dataclass(frozen=True)
class Item:
    """One answerable unit: a question, or one row of a matrix."""

    id: str
    kind: str  # single | multi | text | integer | decimal | date | place | consent
    required: bool
    options: tuple[str, ...] = ()
    question_id: str = ""
    section_id: str = ""
    max_choices: int | None = None
    max_length: int = 2000
    other_options: tuple[str, ...] = ()
    personal_data: bool = False
    na_options: tuple[str, ...] = ()  # "not applicable": valid answers the indices skip
    question_type: str = ""
    minimum: float | None = None
    maximum: float | None = None
    level: str = ""  # place: province | commune
    parent: str = ""  # place (commune): the province question
    relevant: Condition | None = None  # section, question and row conditions together
    required_if: Condition | None = None
    constraint: Condition | None = None
    constraint_message: dict[str, str] | None = None
    filters: tuple[tuple[Condition, tuple[str, ...]], ...] = ()  # choice_filter: (condition, option values)

    @property
    def counted(self) -> bool:
        """Personal data is never aggregated (Decree 13/2023: not needed for scoring)."""
        return not self.personal_data

    @property
    def scored_options(self) -> tuple[str, ...]:
        """The options an index counts in its denominator: every option but "not applicable"."""
        return tuple(v for v in self.options if v not in self.na_options)


@dataclass(frozen=True)
class Problem:
    """What is wrong with one answer, for a person: the field, in Vietnamese and English."""

    field: str
    message_vi: str
    message_en: str
