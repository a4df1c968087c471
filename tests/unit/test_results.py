"""Live results: item, element and part indices from counters, checked against a hand count."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.domain.aggregation import contribution, merge
from chalicelib.domain.errors import InvalidScope
from chalicelib.domain.responses import Response
from chalicelib.domain.results import compute_results, parse_scope
from chalicelib.domain.survey import Survey
from tests.shared.fakes import sipas_definition


@pytest.fixture(scope="module")
def survey() -> Survey:
    return Survey.from_definition(sipas_definition())


def stored(survey: Survey, rid: str, status: str, q9_value: str) -> Response:
    answers: dict[str, Any] = {i.id: i.options[0] for i in survey.items if i.kind == "single"}
    for row in survey.scored_items():
        answers[row] = q9_value
    answers["q9_01"] = "5"
    return Response(rid, survey.id, 1, status, answers, "web", "01", "00004")


def as_items(delta: dict) -> list[dict[str, Any]]:
    return [{"pk": pk, "sk": sk, **cells} for (pk, sk), cells in delta.items()]


def test_indices_match_a_hand_count(survey):
    # GIVEN three accepted responses: every scored item 4, 2 and 3 except q9_01 = 5 everywhere, and one flagged "5"
    counts = merge(
        contribution(r, survey)
        for r in [
            stored(survey, "A", "accepted", "4"),
            stored(survey, "B", "accepted", "2"),
            stored(survey, "C", "accepted", "3"),
            stored(survey, "D", "flagged", "5"),
        ]
    )
    items = [i for i in as_items(counts) if i["pk"].endswith("#all")]
    result = compute_results(survey, items, "all", include_flagged=False)
    # THEN q9_01 is 100, every other item 1/3 satisfied
    flat = {it["id"]: it["value"] for p in result["index"]["parts"] for e in p["elements"] for it in e["items"]}
    assert flat["q9_01"] == 100.0
    assert flat["q9_02"] == pytest.approx(33.33, abs=0.01)
    element_a = result["index"]["parts"][0]["elements"][0]
    assert element_a["value"] == pytest.approx((100 + 100 / 3) / 2, abs=0.01)
    parts = [p["value"] for p in result["index"]["parts"]]
    assert result["index"]["value"] == pytest.approx(sum(parts) / 2, abs=0.01)
    assert result["n"] == 3 and result["counts"]["flagged"] == 1
    # AND with flagged responses the n and the index move
    with_flagged = compute_results(survey, items, "all", include_flagged=True)
    assert with_flagged["n"] == 4 and with_flagged["index"]["value"] > result["index"]["value"]


def test_empty_scope_has_no_index_values(survey):
    result = compute_results(survey, [], "p01", include_flagged=False)
    assert result["n"] == 0 and result["index"]["value"] is None


@pytest.mark.parametrize("scope", ["all", "p01", "c00004"])
def test_valid_scopes(scope):
    assert parse_scope(scope) == scope


@pytest.mark.parametrize("scope", ["p1", "x01", "c123", "p01; drop", ""])
def test_invalid_scopes(scope):
    if scope == "":
        assert parse_scope(scope) == "all"
    else:
        with pytest.raises(InvalidScope):
            parse_scope(scope)


def test_not_applicable_answers_leave_the_index_and_stay_in_the_distribution():
    # GIVEN the SIPAS Q9 scale with its "not applicable" point 9
    definition = sipas_definition()
    for section in definition["sections"]:
        for q in section["questions"]:
            if q["id"] in ("q9_policy", "q9_service"):
                assert [o["value"] for o in q["scale"] if o.get("not_applicable")] == ["9"]
    survey = Survey.from_definition(definition)
    # WHEN one respondent rates q9_02 "4", one "2" and two answer "not applicable"; all four q9_03 N/A
    responses = []
    for rid, value in (("A", "4"), ("B", "2"), ("C", "9"), ("D", "9")):
        response = stored(survey, rid, "accepted", value)
        response.answers["q9_02"] = value
        response.answers["q9_03"] = "9"
        responses.append(response)
    items = [i for i in as_items(merge(contribution(r, survey) for r in responses)) if i["pk"].endswith("#all")]
    result = compute_results(survey, items, "all", include_flagged=False)
    flat = {it["id"]: it for p in result["index"]["parts"] for e in p["elements"] for it in e["items"]}
    # THEN q9_02's index is over the two valid answers (50), not four (25)
    assert flat["q9_02"]["value"] == 50.0 and flat["q9_02"]["n"] == 2
    # AND an item everyone found "not applicable" has no value rather than 0, and its element the other item's
    assert flat["q9_03"]["value"] is None and flat["q9_03"]["n"] == 0
    element_b = result["index"]["parts"][0]["elements"][1]
    assert element_b["value"] == flat["q9_04"]["value"]
    q9_02 = next(q for q in result["questions"] if q["id"] == "q9_02")
    shares = {o["value"]: o for o in q9_02["options"]}
    assert q9_02["n"] == 4 and shares["9"]["share"] == 50.0 and shares["9"]["not_applicable"] is True
