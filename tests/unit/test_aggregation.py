"""Aggregation deltas: every kind of change is contribution(new) − contribution(old), and sums are exact."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from chalicelib.domain.aggregation import contribution, delta, merge
from chalicelib.domain.responses import Response
from chalicelib.domain.survey import PAGE_CELLS, Survey
from chalicelib.store.aggregates import AggregateRepository
from tests.shared.fakes import sipas_definition


@pytest.fixture(scope="module")
def survey() -> Survey:
    return Survey.from_definition(sipas_definition())


def response(
    survey: Survey, status: str = "received", q9: str = "4", province: str = "01", commune: str | None = "00004"
) -> Response:
    answers: dict[str, Any] = {i.id: i.options[0] for i in survey.items if i.kind == "single"}
    for row in survey.matrices["q9_policy"]:
        answers[row] = q9
    answers["q2"] = ["1", "3"]
    return Response(
        "01JAAAAAAAAAAAAAAAAAAAAAAA",
        survey.id,
        1,
        status,
        answers,
        "web",
        province,
        commune,
        paradata={"started_at": "2026-06-01T08:00:00Z", "submitted_at": "2026-06-01T08:10:00Z"},
        attributed=True,
    )


def total(*deltas: dict) -> dict:
    return merge(deltas)


def test_insert_then_screening_nets_to_the_accepted_contribution(survey):
    received, accepted = response(survey), response(survey, "accepted")
    inserted = delta(contribution(received, survey), {})
    screened = delta(contribution(accepted, survey), contribution(received, survey))
    assert total(inserted, screened) == contribution(accepted, survey)


def test_a_correction_moves_counts_between_options(survey):
    before, after = response(survey, "accepted", q9="4"), response(survey, "accepted", q9="2")
    change = delta(contribution(after, survey), contribution(before, survey))
    national = next(cells for (pk, _), cells in change.items() if pk.endswith("#all") and "q9_01=4" in cells)
    assert national["q9_01=4"] == -1 and national["q9_01=2"] == 1
    assert "n" not in national  # still one response


def test_a_purge_removes_everything_it_added(survey):
    accepted = response(survey, "accepted")
    assert total(contribution(accepted, survey), delta({}, contribution(accepted, survey))) == {}


def test_counts_are_kept_per_scope_and_status(survey):
    flagged = contribution(response(survey, "flagged"), survey)
    pks = {pk for pk, _ in flagged}
    assert pks == {"sipas-2026#1#all", "sipas-2026#1#p01", "sipas-2026#1#c00004", "sipas-2026#1#attr"}
    assert all(sk.startswith("flagged#") for _, sk in flagged)


def test_a_commune_keeps_only_the_scored_items(survey):
    # GIVEN an accepted response WHEN counted THEN its commune item holds n and the scored items' answers only
    counted = contribution(response(survey, "accepted"), survey)
    commune = {c for (pk, _), cells in counted.items() if pk.endswith("#c00004") for c in cells}
    scored = set(survey.scored_items())
    assert "n" in commune
    assert {c.split("=")[0] for c in commune} - {"n"} <= scored
    assert "q9_01=4" in commune
    assert not any(c.startswith(("a_", "q2")) for c in commune)


def test_unscreened_responses_only_count_as_pending_nationally_and_by_province(survey):
    pending = contribution(response(survey), survey)
    assert pending == {
        ("sipas-2026#1#all", "received#00"): {"n": 1},
        ("sipas-2026#1#p01", "received#00"): {"n": 1},
        ("sipas-2026#1#attr", "received#all"): {"n": 1, "ch:web": 1, "ag:-": 1},  # where it came from
    }


def test_every_page_fits_one_update_expression(survey):
    # GIVEN a page touched in every cell WHEN it becomes an UpdateExpression THEN it is under DynamoDB's 4 KB
    pages: dict[tuple[bool, int], list[str]] = {}
    for unit in (False, True):
        for cell, page in survey.page_of(unit).items():
            pages.setdefault((unit, page), []).append(cell)
    assert max(len(c) for c in pages.values()) <= PAGE_CELLS
    repo = AggregateRepository.__new__(AggregateRepository)
    repo._table = "t"
    for cells in pages.values():
        update = repo._update("pk", "sk", dict.fromkeys(cells, 1))["Update"]
        assert len(update["UpdateExpression"]) < 4096


def test_merge_is_order_free_and_drops_zeros(survey):
    a, b = (
        contribution(response(survey, "accepted"), survey),
        contribution(response(survey, "accepted", q9="1"), survey),
    )
    assert merge([a, b]) == merge([b, a])
    assert merge([a, delta({}, copy.deepcopy(a))]) == {}
