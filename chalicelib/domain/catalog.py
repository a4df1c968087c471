"""What anyone may read about surveys and places: the survey list, a survey's contract, provinces and communes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from chalicelib.domain.errors import BadQuery, NotFound
from chalicelib.domain.survey import Survey


class SurveyCatalog(Protocol):
    def list_current(self) -> list[Survey]: ...

    def get(self, survey_id: str, version: int | None = None) -> Survey: ...


def version_of(value: str | None) -> int | None:
    """A survey version from a query string (its schema allows 1-9 digits)."""
    if value is None:
        return None
    if not value.isdigit() or len(value) > 9:
        raise BadQuery(field="version")
    return int(value)


def read_version(surveys: SurveyCatalog, survey_id: str, version: str | None) -> Survey:
    """A survey version someone asked to read: one that does not exist is not found (404), as any resource.

    (A submission naming an unknown version is different: valid JSON of wrong meaning, 422.)
    """
    from chalicelib.domain.errors import SurveyVersionMismatch

    try:
        return surveys.get(survey_id, version_of(version))
    except SurveyVersionMismatch as exc:
        raise NotFound(exc.message_vi, exc.message_en, field="version") from None


class CatalogService:
    def __init__(self, surveys: SurveyCatalog, geography: Callable[[str], Any]) -> None:
        self._surveys, self._geography = surveys, geography

    def survey_list(self) -> dict[str, Any]:
        return {
            "surveys": [
                {
                    "id": s.id,
                    "version": s.version,
                    "title": s.definition["title"],
                    "status": s.status,
                    "open": s.is_open(),
                }
                for s in self._surveys.list_current()
            ]
        }

    def contract(self, survey_id: str, version: str | None) -> dict[str, Any]:
        survey = read_version(self._surveys, survey_id, version)
        return {"survey": survey.definition, "submission_schema": survey.submission_schema(), "open": survey.is_open()}

    def provinces(self, geography: str | None) -> dict[str, Any]:
        geo = self._places(geography)
        return {"geography": geo.name, "provinces": [{"code": p.code, "name": p.name} for p in geo.provinces]}

    def communes(self, code: str, geography: str | None) -> dict[str, Any]:
        geo = self._places(geography)
        if geo.province(code) is None:
            raise NotFound("Không có tỉnh/thành phố với mã này.", "No province with that code.", field="code")
        return {"province": code, "communes": [{"code": c.code, "name": c.name} for c in geo.communes_of(code)]}

    def _places(self, name: str | None) -> Any:
        from chalicelib.reference.geography import UnknownGeography

        try:
            return self._geography(name or "vn-2025")
        except UnknownGeography:
            raise BadQuery("Bộ danh mục địa giới không tồn tại.", "Unknown geography.", field="geography") from None
