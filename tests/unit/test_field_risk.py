"""Enumerator risk: fabricated interviews stand out among honest peers, with reasons a supervisor can read."""

from __future__ import annotations

import dataclasses

import pytest

from chalicelib.domain.field_risk import (
    CLOCK_TAMPER,
    DUPLICATES,
    GPS_CLUSTER,
    ODD_HOURS,
    RECHECK_DISAGREEMENT,
    RECHECK_NOT_HAPPENED,
    SPEEDER,
    InterviewRecord,
    RecheckOutcome,
    RiskConfig,
    at_night,
    clock_tampered,
    haversine_m,
    risk_scores,
)
from chalicelib.domain.responses import Response
from tests.shared.field_interviews import CLOCK, CLUSTER, FAR, NIGHT, SHORT, SIMILAR, Cheat, interviews

MIXES = (
    (Cheat("cheat-a", 0.25, frozenset({SHORT, SIMILAR})), Cheat("cheat-b", 0.25, frozenset({CLUSTER, NIGHT})),
     Cheat("cheat-c", 0.25, frozenset({SIMILAR, NIGHT, CLOCK}))),
)  # fmt: skip


@pytest.fixture(scope="module")
def honest_and_cheats():
    cheats = MIXES[0]
    return cheats, risk_scores(interviews(honest=30, per_enumerator=100, cheats=cheats, seed=7))


def test_every_dishonest_enumerator_is_in_the_top_decile_with_strong_reasons(honest_and_cheats):
    # GIVEN 30 honest enumerators and 3 who fabricate a quarter of their work in different ways
    cheats, risks = honest_and_cheats
    by_name = {r.enumerator: r for r in risks}
    # THEN all three are in the top decile (ceil(33/10) = 4 places), each flagged
    assert sum(r.top_decile for r in risks) == 4
    for cheat in cheats:
        assert by_name[cheat.enumerator].top_decile, by_name[cheat.enumerator]
        assert by_name[cheat.enumerator].flagged
    # AND each one's reasons name what they did
    codes = {name: {r.code for r in by_name[name].reasons if r.strong} for name in by_name}
    assert {SPEEDER, DUPLICATES} <= codes["cheat-a"]
    assert {GPS_CLUSTER, ODD_HOURS} <= codes["cheat-b"]
    assert {DUPLICATES, ODD_HOURS, CLOCK_TAMPER} <= codes["cheat-c"]
    # AND no honest enumerator carries a strong reason
    assert not [r.enumerator for r in risks if r.flagged and not r.enumerator.startswith("cheat")]


def test_scores_are_bounded_ranked_and_explained_with_figures(honest_and_cheats):
    _, risks = honest_and_cheats
    assert [r.rank for r in risks] == list(range(1, len(risks) + 1))
    assert all(0 <= r.score <= 100 for r in risks)
    assert [r.score for r in risks] == sorted((r.score for r in risks), reverse=True)
    short = next(x for x in next(r for r in risks if r.enumerator == "cheat-a").reasons if x.code == SPEEDER)
    assert "phỏng vấn quá ngắn" in short.text_vi and "các điều tra viên khác" in short.text_vi
    assert "very short" in short.text_en
    assert "%" in short.text_vi and "/100" in short.text_vi  # the share and the count behind it
    assert risks[0].to_dict()["reasons"][0]["strong"] is True


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_honest_enumerators_alone_get_no_strong_reason(seed):
    risks = risk_scores(interviews(honest=30, per_enumerator=100, seed=seed))
    assert [(r.enumerator, [x.code for x in r.reasons if x.strong]) for r in risks if r.flagged] == []
    assert max(r.score for r in risks) < 60


def test_one_percent_fabricated_by_three_enumerators_still_puts_them_in_the_top_decile():
    # GIVEN 1% of all interviews fabricated: 11 of 100 for each of 3 enumerators among 33
    cheats = (
        Cheat("cheat-a", 0.11, frozenset({SHORT})),
        Cheat("cheat-b", 0.11, frozenset({CLUSTER, FAR})),
        Cheat("cheat-c", 0.11, frozenset({SIMILAR})),
    )
    risks = risk_scores(interviews(cheats=cheats, seed=11))
    top = {r.enumerator for r in risks if r.top_decile}
    assert {"cheat-a", "cheat-b", "cheat-c"} <= top


def test_a_newcomer_with_three_interviews_is_not_ranked_first_by_noise():
    # GIVEN honest peers and a newcomer whose 3 interviews include 2 short ones
    records = interviews(honest=20, per_enumerator=60, seed=5)
    newcomer = [
        dataclasses.replace(r, enumerator="newcomer", response_id=f"new-{i}", duration_ms=240_000 if i < 2 else None)
        for i, r in enumerate(records[:3])
    ]
    risks = risk_scores(records + newcomer)
    mine = next(r for r in risks if r.enumerator == "newcomer")
    # THEN the newcomer's share is reported as it is, but shrunk towards the peers it is no strong signal
    assert mine.signals[SPEEDER].value == pytest.approx(2 / 3, abs=1e-3)
    assert not mine.flagged
    assert mine.rank > 1


def test_a_recheck_that_found_no_interview_is_a_strong_reason_and_disagreement_counts():
    records = interviews(honest=15, per_enumerator=40, seed=9)
    by_enum: dict[str, list[InterviewRecord]] = {}
    for r in records:
        by_enum.setdefault(r.enumerator, []).append(r)
    checks = [RecheckOutcome(rs[0].response_id, 0.0) for rs in by_enum.values()]
    checks += [RecheckOutcome(rs[1].response_id, 0.1) for rs in by_enum.values()]
    suspect = by_enum["enum03"]
    checks = [c for c in checks if not c.response_id.startswith("enum03")]
    checks += [RecheckOutcome(suspect[0].response_id, 1.0, not_happened=True)]
    checks += [RecheckOutcome(suspect[1].response_id, 0.8), RecheckOutcome(suspect[2].response_id, 0.7)]
    risks = risk_scores(records, checks)
    assert risks[0].enumerator == "enum03"
    codes = [x.code for x in risks[0].reasons]
    assert codes[0] == RECHECK_NOT_HAPPENED and RECHECK_DISAGREEMENT in codes
    assert "không có cuộc phỏng vấn" in risks[0].reasons[0].text_vi


def test_peers_are_the_province_when_it_has_enough_enumerators():
    records = interviews(honest=12, per_enumerator=20, seed=2)
    other = [dataclasses.replace(r, province="79", enumerator="s-" + r.enumerator) for r in records[:60]]
    risks = risk_scores(records + other)
    groups = {r.peer_group for r in risks}
    assert groups == {"sipas-2026#1@01", "sipas-2026#1"}  # province 79 has 3 enumerators: the whole survey


def test_interview_record_from_a_field_response():
    response = Response(
        response_id="01J0000000000000000000000A",
        survey_id="sipas-2026",
        survey_version=1,
        status="accepted",
        answers={"q1": "2"},
        channel="field",
        province="01",
        paradata={
            "started_at": "2026-11-30T08:01:02.000Z",
            "ended_at": "2026-11-30T08:30:02.000Z",
            "duration_ms": 1_500_000,
            "question_ms": {"q1": 5300},
            "gps_consent": True,
            "gps": {"lat": 21.03, "lon": 105.85, "accuracy_m": 12},
        },
        received_at="2026-11-30T10:00:00.000000Z",
        collection={"kind": "field", "enumerator": "u-1", "household_id": "00004-V1-17", "commune_code": "00004",
                    "village_code": "V1"},
    )  # fmt: skip
    record = InterviewRecord.from_response(response)
    assert (record.enumerator, record.survey_key, record.household_id) == ("u-1", "sipas-2026#1", "00004-V1-17")
    assert record.gps == (21.03, 105.85, 12.0) and record.duration_ms == 1_500_000
    assert record.question_ms == {"q1": 5300} and record.village_code == "V1"
    refused = dataclasses.replace(response, paradata={**response.paradata, "gps_consent": False})
    assert InterviewRecord.from_response(refused).gps is None


def test_night_is_vietnam_local_time():
    config = RiskConfig()
    assert at_night("2026-11-30T14:30:00Z", config) is True  # 21:30 in Hà Nội
    assert at_night("2026-11-30T23:00:00Z", config) is True  # 06:00
    assert at_night("2026-11-30T23:45:00Z", config) is False  # 06:45
    assert at_night("2026-11-30T01:00:00Z", config) is False  # 08:00
    assert at_night("", config) is None


def test_a_wall_clock_shorter_than_the_monotonic_time_is_tampering():
    base = InterviewRecord("r", "e", "s#1", {}, duration_ms=1_200_000, started_at="2026-11-30T01:00:00Z")
    config = RiskConfig()
    # 20 minutes active, 40 on the wall clock (a pause): fine
    assert clock_tampered(dataclasses.replace(base, ended_at="2026-11-30T01:40:00Z"), config) is False
    # 20 minutes active but 5 on the wall clock: the clock was moved
    assert clock_tampered(dataclasses.replace(base, ended_at="2026-11-30T01:05:00Z"), config) is True
    # started an hour after the server received it
    late = dataclasses.replace(base, ended_at="2026-11-30T01:30:00Z", received_at="2026-11-30T00:00:00Z")
    assert clock_tampered(late, config) is True


def test_haversine_metres():
    assert haversine_m((21.0, 105.8), (21.0, 105.8)) == 0
    assert 1105 < haversine_m((21.0, 105.8), (21.01, 105.8)) < 1115


def test_closed_questions_of_a_survey_are_its_choices():
    from chalicelib.domain.field_risk import closed_questions
    from chalicelib.domain.survey import Survey
    from tests.shared.fakes import sipas_definition

    questions = closed_questions(Survey.from_definition(sipas_definition()))
    assert {"a_sex", "q2", "q9_01"} <= set(questions)
    assert not [q for q in questions if q.endswith("_other")]


def test_the_banded_search_finds_every_near_duplicate_pair_a_full_comparison_finds():
    import itertools
    import random

    from chalicelib.domain.field_risk import _candidate_pairs

    rng = random.Random(3)
    base = [tuple(rng.choice("12345") for _ in range(40)) for _ in range(5)]
    vectors = []
    for _ in range(120):  # copies of 5 templates with 0..6 answers changed: many pairs near 0.9
        v = list(rng.choice(base))
        for k in rng.sample(range(40), rng.randint(0, 6)):
            v[k] = rng.choice("12345")
        vectors.append(tuple(v))
    usable = list(range(len(vectors)))
    full = {(i, j) for i, j in itertools.combinations(usable, 2) if sum(map(str.__eq__, vectors[i], vectors[j])) >= 36}
    assert full and full <= set(_candidate_pairs(vectors, usable, 0.9))
