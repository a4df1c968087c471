"""Re-check and coding items of the fieldwork table (families `recheck#…` and `coding#…`), append-only.

    recheck#<survey_key>                 form                         the re-check form (RecheckForm.to_dict)
    recheck#<survey_key>                 draw#<response_id>           one drawn interview (who drew it, seed, when)
    recheck#<survey_key>                 result#<response_id>#<at>    one re-check's answers and comparison
    coding#<survey_key>#<question_id>    frame                        the code frame (CodeFrame.to_dict)
    coding#<survey_key>#<question_id>    change#<at>#<response_id>    one coding change (CodingChange.to_dict)

Nothing here is ever updated in place except the form and the frame (an analyst's current definition);
a draw is written only when new (a second draw keeps the first one's households), results and changes
get a key of their own per instant, so a later one never overwrites an earlier one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol


class FieldTable(Protocol):
    """The part of FieldworkRepository (chalicelib/store/fieldwork.py) this store uses."""

    def get(self, pk: str, sk: str = "-", consistent: bool = False) -> dict[str, Any] | None: ...

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]: ...

    def put(self, item: Mapping[str, Any]) -> None: ...

    def put_new(self, item: Mapping[str, Any]) -> bool: ...


def _recheck(survey_key: str) -> str:
    return f"recheck#{survey_key}"


def _coding(survey_key: str, question_id: str) -> str:
    return f"coding#{survey_key}#{question_id}"


class FieldQualityStore:
    def __init__(self, table: FieldTable) -> None:
        self._table = table

    # --- re-check -------------------------------------------------------------------------------
    def put_recheck_form(self, survey_key: str, form: Mapping[str, Any], who: str, at: str) -> None:
        self._table.put({"pk": _recheck(survey_key), "sk": "form", "form": dict(form), "who": who, "at": at})

    def recheck_form(self, survey_key: str) -> dict[str, Any] | None:
        item = self._table.get(_recheck(survey_key), "form")
        return dict(item["form"]) if item else None

    def add_draw(self, survey_key: str, draw: Mapping[str, Any]) -> bool:
        """False when this interview was drawn before (the first draw stands)."""
        return self._table.put_new({"pk": _recheck(survey_key), "sk": f"draw#{draw['response_id']}", **draw})

    def draws(self, survey_key: str) -> list[dict[str, Any]]:
        return self._table.query(_recheck(survey_key), "draw#")

    def add_result(self, survey_key: str, result: Mapping[str, Any]) -> bool:
        sk = f"result#{result['response_id']}#{result['at']}"
        return self._table.put_new({"pk": _recheck(survey_key), "sk": sk, **result})

    def results(self, survey_key: str) -> list[dict[str, Any]]:
        return self._table.query(_recheck(survey_key), "result#")

    # --- coding ---------------------------------------------------------------------------------
    def put_frame(self, survey_key: str, question_id: str, frame: Mapping[str, Any], who: str, at: str) -> None:
        pk = _coding(survey_key, question_id)
        self._table.put({"pk": pk, "sk": "frame", "frame": dict(frame), "who": who, "at": at})

    def frame(self, survey_key: str, question_id: str) -> dict[str, Any] | None:
        item = self._table.get(_coding(survey_key, question_id), "frame")
        return dict(item["frame"]) if item else None

    def add_changes(self, survey_key: str, question_id: str, changes: Iterable[Mapping[str, Any]]) -> int:
        """Each change under its own key (instant + response): written once, never replaced. Returns how many
        were new (a retried request writes nothing twice)."""
        pk = _coding(survey_key, question_id)
        return sum(self._table.put_new({"pk": pk, "sk": f"change#{c['at']}#{c['response_id']}", **c}) for c in changes)

    def changes(self, survey_key: str, question_id: str) -> list[dict[str, Any]]:
        return self._table.query(_coding(survey_key, question_id), "change#")
