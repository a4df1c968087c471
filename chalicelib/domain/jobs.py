"""Which survey versions a reporting job works on: the one its event names, else every open or closed survey."""

from __future__ import annotations

from typing import Protocol

from chalicelib.domain.survey import Survey

REPORTED_STATUSES = ("published", "closed")  # a draft has no responses to report on


class SurveyCatalog(Protocol):
    def get(self, survey_id: str, version: int | None = None) -> Survey: ...

    def list_current(self) -> list[Survey]: ...


def surveys_for(catalog: SurveyCatalog, survey_id: str | None = None, version: int | None = None) -> list[Survey]:
    if survey_id:
        return [catalog.get(survey_id, version)]
    return [s for s in catalog.list_current() if s.status in REPORTED_STATUSES]
