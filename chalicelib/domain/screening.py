"""Response control (kiểm soát phiếu): quality and fraud signals, each kept as a reason code.

Flag, never delete: one signal flags a response; two or more signals exclude it (rejected), and
the response stays stored with its reasons so a reviewer can see why (METHODOLOGY §4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from chalicelib.domain.responses import ACCEPTED, FLAGGED, RECEIVED, REJECTED, Response, bucket_seconds
from chalicelib.domain.survey import Survey

HONEYPOT = "honeypot"
SPEEDER = "speeder"
NO_TIMING = "no_timing"
STRAIGHTLINE = "straightline"


@dataclass(frozen=True)
class DurationStats:
    """Completion times seen so far for a survey version, as the log-bucket histogram of the aggregates."""

    histogram: dict[int, int]

    @property
    def count(self) -> int:
        return sum(self.histogram.values())

    def median(self) -> float | None:
        total = self.count
        if not total:
            return None
        running = 0
        for bucket in sorted(self.histogram):
            running += self.histogram[bucket]
            if running * 2 >= total:
                return bucket_seconds(bucket)
        return None


@dataclass(frozen=True)
class Verdict:
    status: str
    reasons: tuple[str, ...]


def screen_response(response: Response, survey: Survey, durations: DurationStats) -> Verdict:
    rules = survey.screening
    reasons: list[str] = []
    if response.honeypot:
        reasons.append(HONEYPOT)

    seconds = response.duration_seconds()
    if seconds is None:
        if response.channel in ("web", "widget", "qr", "link"):  # browser forms always send timing
            reasons.append(NO_TIMING)
    else:
        answered = sum(1 for item in survey.items if item.id in response.answers)
        threshold = float(rules["speeder_seconds_per_item"]) * answered
        median = durations.median()
        if median is not None and durations.count >= int(rules["speeder_min_history"]):
            threshold = max(threshold, float(rules["speeder_median_ratio"]) * median)
        if seconds < threshold:
            reasons.append(SPEEDER)

    min_rows = int(rules["straightline_min_items"])
    for question_id, rows in survey.matrices.items():
        # "Not applicable" on every row is what a citizen with no such experience answers: not a pattern.
        na = set(survey.item(rows[0]).na_options) if rows and survey.item(rows[0]) else set()  # type: ignore[union-attr]
        values = [response.answers[r] for r in rows if r in response.answers and response.answers[r] not in na]
        if len(values) >= min_rows and len(set(values)) == 1:
            reasons.append(f"{STRAIGHTLINE}:{question_id}")
            break

    if not reasons:
        return Verdict(ACCEPTED, ())
    return Verdict(FLAGGED if len(reasons) == 1 else REJECTED, tuple(reasons))


class ScreeningStore(Protocol):
    def set_verdict(self, response_id: str, status: str, reasons: list[str], screened_at: str) -> bool: ...


class DurationSource(Protocol):
    def durations(self, survey_key: str) -> DurationStats: ...


class SurveyLookup(Protocol):
    def get(self, survey_id: str, version: int | None = None) -> Survey: ...


class ScreeningService:
    """Screens a newly received response once; a redelivered record finds it screened and changes nothing."""

    def __init__(self, catalog: SurveyLookup, durations: DurationSource, store: ScreeningStore) -> None:
        self._catalog, self._durations, self._store = catalog, durations, store

    def screen(self, response: Response, now: str) -> Verdict | None:
        if response.status != RECEIVED:
            return None
        survey = self._catalog.get(response.survey_id, response.survey_version)
        verdict = screen_response(response, survey, self._durations.durations(response.survey_key))
        if self._store.set_verdict(response.response_id, verdict.status, list(verdict.reasons), now):
            return verdict
        return None
