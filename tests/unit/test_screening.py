"""Screening: each signal is a reason code; one signal flags, two exclude, nothing is deleted."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from chalicelib.domain.responses import ACCEPTED, FLAGGED, REJECTED, Response, duration_bucket
from chalicelib.domain.screening import DurationStats, ScreeningService, screen_response
from chalicelib.domain.survey import Survey
from tests.shared.fakes import FakeCatalog, FakeResponseStore, sipas_definition

T0 = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture(scope="module")
def survey() -> Survey:
    return Survey.from_definition(sipas_definition())


def make_response(survey: Survey, seconds: float = 600, q9: list[str] | None = None, honeypot: str = "") -> Response:
    answers: dict[str, Any] = {}
    for i, item in enumerate(survey.items):
        if item.kind == "single":
            answers[item.id] = item.options[i % len(item.options)]
    rows = survey.matrices["q9_policy"] + survey.matrices["q9_service"]
    for row, value in zip(rows, q9 or ["4", "5", "3"] * 11, strict=False):
        answers[row] = value
    return Response(
        response_id="01JAAAAAAAAAAAAAAAAAAAAAAA",
        survey_id=survey.id,
        survey_version=survey.version,
        status="received",
        answers=answers,
        channel="web",
        province="01",
        paradata={"started_at": _iso(T0), "submitted_at": _iso(T0 + timedelta(seconds=seconds))},
        honeypot=honeypot,
    )


NO_HISTORY = DurationStats({})


def test_an_ordinary_response_is_accepted(survey):
    assert screen_response(make_response(survey), survey, NO_HISTORY).status == ACCEPTED


def test_one_signal_flags_with_its_reason(survey):
    verdict = screen_response(make_response(survey, q9=["5"] * 33), survey, NO_HISTORY)
    assert verdict.status == FLAGGED
    assert verdict.reasons == ("straightline:q9_policy",)


def test_two_signals_reject_and_keep_both_reasons(survey):
    verdict = screen_response(make_response(survey, seconds=8, honeypot="http://spam"), survey, NO_HISTORY)
    assert verdict.status == REJECTED
    assert set(verdict.reasons) == {"honeypot", "speeder"}


def test_speeder_is_judged_against_the_survey_median_once_there_is_history(survey):
    # GIVEN 100 earlier responses that took about 20 minutes
    history = DurationStats({duration_bucket(1200): 100})
    # WHEN one takes 5 minutes (over the 1 s/item floor, under half the median)
    verdict = screen_response(make_response(survey, seconds=300), survey, history)
    assert verdict.reasons == ("speeder",)
    # AND with too little history only the per-item floor applies
    assert (
        screen_response(make_response(survey, seconds=300), survey, DurationStats({duration_bucket(1200): 5})).status
        == ACCEPTED
    )


def test_online_response_without_timing_is_flagged(survey):
    response = make_response(survey)
    response.paradata = {}
    assert screen_response(response, survey, NO_HISTORY).reasons == ("no_timing",)
    response.channel = "paper"
    assert screen_response(response, survey, NO_HISTORY).status == ACCEPTED


def test_median_of_a_histogram():
    stats = DurationStats({duration_bucket(60): 1, duration_bucket(600): 2, duration_bucket(6000): 1})
    assert 500 < stats.median() < 720


def test_screening_happens_once_even_if_the_record_is_redelivered(survey):
    store = FakeResponseStore()
    response = make_response(survey, q9=["5"] * 33)
    store.items[response.response_id] = copy.deepcopy(response.to_item())
    service = ScreeningService(
        FakeCatalog(sipas_definition()), type("D", (), {"durations": lambda self, k: NO_HISTORY})(), store
    )
    assert service.screen(response, "2026-06-01T08:11:00Z").status == FLAGGED
    assert service.screen(response, "2026-06-01T08:12:00Z") is None
    assert store.items[response.response_id]["screened_at"] == "2026-06-01T08:11:00Z"


def test_not_applicable_on_every_row_is_not_straight_lining():
    # GIVEN Q9 with a "not applicable" point, WHEN a citizen answers it on every row
    definition = sipas_definition()
    for section in definition["sections"]:
        for q in section["questions"]:
            if q["id"] in ("q9_policy", "q9_service"):
                q["scale"].append({"value": "9", "label": {"vi": "Không áp dụng"}, "not_applicable": True})
    survey = Survey.from_definition(definition)
    # THEN nothing is flagged; the same answer on every row that is a rating still is
    assert screen_response(make_response(survey, q9=["9"] * 33), survey, NO_HISTORY).status == ACCEPTED
    mixed = ["4"] * 10 + ["9"] * 23  # ten ratings of "4" in Part I, the rest not applicable
    assert screen_response(make_response(survey, q9=mixed), survey, NO_HISTORY).reasons == ("straightline:q9_policy",)
