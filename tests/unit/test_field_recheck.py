"""Re-check (phúc tra): a reproducible draw per enumerator, a checked form, and the comparison of answers."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from chalicelib.domain.errors import InvalidDefinition
from chalicelib.domain.field_recheck import (
    DURATION,
    HAPPENED,
    RecheckForm,
    compare,
    duration_band,
    select_rechecks,
)
from chalicelib.domain.survey import Survey
from tests.shared.fakes import sipas_definition
from tests.shared.field_interviews import interviews


@pytest.fixture(scope="module")
def records():
    return interviews(honest=6, per_enumerator=50, seed=4)


def test_the_draw_takes_the_rate_of_each_enumerators_interviews_reproducibly(records):
    drawn = select_rechecks(records, rate=0.1, seed="2026-phuc-tra")
    # GIVEN 6 enumerators with 50 interviews each, THEN 5 of each are drawn
    assert Counter(s.enumerator for s in drawn) == {f"enum{i:02d}": 5 for i in range(6)}
    # AND the same seed draws the same households, another seed others
    assert drawn == select_rechecks(list(reversed(records)), rate=0.1, seed="2026-phuc-tra")
    assert {s.response_id for s in drawn} != {s.response_id for s in select_rechecks(records, 0.1, seed="other")}
    # AND every drawn interview is one of that enumerator's
    by_id = {r.response_id: r for r in records}
    assert all(by_id[s.response_id].enumerator == s.enumerator for s in drawn)
    assert all(s.household_id == by_id[s.response_id].household_id for s in drawn)


def test_an_interview_drawn_stays_drawn_as_the_work_grows(records):
    first = {s.response_id for s in select_rechecks(records[:25], rate=0.2, seed=1)}
    later = {s.response_id for s in select_rechecks(records[:50], rate=0.2, seed=1)}
    # the order is fixed by the hash, so the earlier draw is mostly kept (only newcomers that hash earlier push out)
    assert len(first & later) >= len(first) - 2


def test_minimum_per_enumerator_and_only_completed_interviews(records):
    few = [r for r in records if r.enumerator == "enum00"][:4]
    few[0] = dataclasses.replace(few[0], outcome="refused")
    drawn = select_rechecks(few, rate=0.01, seed=3, minimum_per_enumerator=2)
    assert len(drawn) == 2 and few[0].response_id not in {s.response_id for s in drawn}
    assert len(select_rechecks(few, rate=0.01, seed=3, minimum_per_enumerator=10)) == 3  # never more than exist
    with pytest.raises(ValueError):
        select_rechecks(few, rate=1.5, seed=3)


def test_the_form_accepts_only_closed_questions_of_the_survey():
    survey = Survey.from_definition(sipas_definition())
    form = RecheckForm.for_survey(survey, ["a_sex", "q8_04", "q2", "q8_04"])
    assert form.questions == ("a_sex", "q8_04", "q2")
    assert form.asked[:2] == (HAPPENED, DURATION)
    assert RecheckForm.from_dict(form.to_dict()) == form
    with pytest.raises(InvalidDefinition) as raised:
        RecheckForm.for_survey(survey, ["nope"])
    assert "nope" in raised.value.message_vi
    with pytest.raises(InvalidDefinition):
        RecheckForm.for_survey(survey, [])


def test_compare_counts_agreement_and_keeps_both_answers():
    original = {"a_sex": "1", "q8_04": "yes", "q2": ["1", "3"], "q9_01": "4"}
    before = dict(original)
    recheck = {HAPPENED: "yes", DURATION: "20_40", "a_sex": "1", "q8_04": "no", "q2": ["3", "1"]}
    result = compare(original, recheck, ["a_sex", "q8_04", "q2", "q9_01"], response_id="r1", duration_ms=25 * 60_000)
    assert result.agreement == {"a_sex": True, "q8_04": False, "q2": True}  # q9_01 not asked again: left out
    assert result.disagreement_rate == pytest.approx(1 / 3, abs=1e-3)
    assert result.differences == {"q8_04": ("yes", "no")}
    assert not result.not_happened and not result.duration_mismatch
    assert original == before  # the interview's answers are never touched
    assert result.outcome().response_id == "r1"


def test_an_interview_that_did_not_happen_is_a_strong_flag():
    result = compare({"a_sex": "1"}, {HAPPENED: "no"}, ["a_sex"], response_id="r2")
    assert result.not_happened and result.disagreement_rate == 1.0
    assert result.outcome().not_happened


def test_a_remembered_length_far_from_the_measured_one_is_a_mismatch():
    assert duration_band(5 * 60_000) == "under_10" and duration_band(45 * 60_000) == "over_40"
    far = compare({}, {HAPPENED: "yes", DURATION: "over_40"}, [], duration_ms=6 * 60_000)
    near = compare({}, {HAPPENED: "yes", DURATION: "10_20"}, [], duration_ms=6 * 60_000)
    assert far.duration_mismatch and not near.duration_mismatch
    assert far.disagreement_rate == 0.0 and far.compared == 0
