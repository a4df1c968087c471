"""One definition, three readings: the published schema, the server's check and the no-JavaScript form agree."""

from __future__ import annotations

import copy
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.contracts import compile_validator
from chalicelib.domain.errors import InvalidDefinition
from chalicelib.domain.logic import holds
from chalicelib.domain.survey import Survey
from tests.shared.model_survey import model_definition

SURVEY = Survey.from_definition(model_definition())
VALIDATOR = compile_validator(SURVEY.submission_schema())  # the published contract, geography clauses included
ENVELOPE = {"id": "01KSMHC4S42SNEE2333GAHS30N", "survey_version": 1, "channel": "web", "province": "01"}


def envelope(answers: dict[str, Any]) -> dict[str, Any]:
    return {**ENVELOPE, "answers": answers}


def schema_ok(answers: dict[str, Any]) -> bool:
    from fastjsonschema import JsonSchemaValueException

    try:
        VALIDATOR(envelope(answers))
    except JsonSchemaValueException:
        return False
    return True


COMPLETE = {"consent": True, "used": "yes", "via": "1", "grid": None, "g1": "2", "stars": "4", "g2": "9"}
COMPLETE.pop("grid")


def test_a_complete_answer_passes_every_reading() -> None:
    assert SURVEY.check(COMPLETE) == []
    assert schema_ok(COMPLETE)
    assert jsonschema.Draft7Validator(SURVEY.submission_schema()).is_valid(envelope(COMPLETE))


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"used": "no"}, "/answers/via", "không áp dụng"),  # via answered though hidden
        ({"used": "no", "via": None, "g1": None, "g2": None, "stars": None}, "/answers/why", "bắt buộc"),
        ({"via": None}, "/answers/via", "bắt buộc"),
        ({"g1": None}, "/answers/g1", "bắt buộc"),
        ({"stars": "2"}, "/answers/g2", "không áp dụng"),  # row g2 only when stars > 3
        ({"age": 30, "spent": 1000}, "/answers/spent", "dưới 1000"),
        ({"age": 16, "spent": 5}, "/answers/spent", "không áp dụng"),
        ({"via__other": "Zalo"}, "/answers/via__other", "Khác"),
        ({"region": "s", "city": "hn"}, "/answers/city", "không phù hợp"),
        ({"city": "hn"}, "/answers/city", "không phù hợp"),
        ({"prov": "04", "comm": "00004"}, "/answers/comm", "không thuộc"),
        ({"prov": "01", "comm": "99999"}, "/answers/comm", "Không có xã"),
        ({"name": "ab123"}, "/answers/name", "chưa đúng"),
        ({"why": ["1"], "used": "yes"}, "/answers/stars", "không áp dụng"),  # section b hidden by selected(why, 1)
    ],
)
def test_each_rule_is_refused_by_both_with_a_located_message(change: dict[str, Any], field: str, words: str) -> None:
    answers = {**COMPLETE, **change}
    answers = {k: v for k, v in answers.items() if v is not None}
    problems = SURVEY.check(answers)
    assert problems and problems[0].field == field, problems
    assert words in problems[0].message_vi
    assert not schema_ok(answers)


def test_the_right_answers_to_the_same_rules_pass() -> None:
    for change in (
        {"used": "no", "via": None, "g1": None, "g2": None, "stars": None, "why": ["2", "4"], "why__other": "x"},
        {"via": "3", "via__other": "Zalo"},
        {"region": "n", "city": "hp", "prov": "01", "comm": "00004", "name": "AB123", "say": "tốt"},
        {"age": 30, "spent": 999.5, "when": "2026-05-01"},
        {"stars": "2", "g2": None},
    ):
        answers = {k: v for k, v in {**COMPLETE, **change}.items() if v is not None}
        assert SURVEY.check(answers) == [], change
        assert schema_ok(answers), change


VALUES: dict[str, Any] = {
    "consent": st.just(True),
    "used": st.sampled_from(["yes", "no"]),
    "via": st.sampled_from(["1", "3"]),
    "via__other": st.just("Zalo"),
    "why": st.lists(st.sampled_from(["1", "2", "4"]), min_size=1, max_size=2, unique=True),
    "why__other": st.just("khác"),
    "age": st.sampled_from([15, 17, 18, 40]),
    "spent": st.sampled_from([0, 5.5, 999, 1000]),
    "stars": st.sampled_from(["1", "4", "9"]),
    "g1": st.sampled_from(["1", "9"]),
    "g2": st.sampled_from(["3"]),
    "when": st.just("2026-01-31"),
    "region": st.sampled_from(["n", "s"]),
    "city": st.sampled_from(["hn", "hcm"]),
    "prov": st.sampled_from(["01", "04"]),
    "comm": st.sampled_from(["00004", "01273"]),
    "name": st.sampled_from(["AB123", "A1"]),
}


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.fixed_dictionaries({}, optional=VALUES))
def test_the_check_and_the_published_schema_never_disagree(answers: dict[str, Any]) -> None:
    assert (SURVEY.check(answers) == []) is schema_ok(answers)


@settings(max_examples=300, deadline=None)
@given(st.fixed_dictionaries({}, optional=VALUES))
def test_reachable_answers_leave_no_hidden_question(answers: dict[str, Any]) -> None:
    kept = SURVEY.reachable(answers)
    for item in SURVEY.items:
        if item.id in kept and item.relevant is not None:
            assert holds(item.relevant, kept)
    assert not any(p.message_vi.startswith("Câu hỏi này không áp dụng") for p in SURVEY.check(kept))


def test_the_browser_gets_only_the_conditions() -> None:
    logic = SURVEY.client_logic()
    assert set(logic["sections"]) == {"b"}
    assert logic["items"]["why"]["q"] == {"required": ["used"], "properties": {"used": {"enum": ["no"]}}}
    assert "f" in logic["items"]["city"] and "m" in logic["items"]["spent"]
    assert "consent" not in logic["items"]


def test_not_applicable_is_valid_but_not_scored() -> None:
    stars = SURVEY.item("stars")
    assert stars is not None and stars.na_options == ("9",) and "9" not in stars.scored_options


@pytest.mark.parametrize(
    ("path", "value", "field"),
    [
        (("sections", 0, "questions", 2, "relevant"), "${used} = ${via}", "/sections/0/questions/2/relevant"),
        (("sections", 1, "relevant"), "${nobody} = '1'", "/sections/1/relevant"),
        (
            ("sections", 1, "questions", 1, "rows", 1, "relevant"),
            "${stars} +",
            "/sections/1/questions/1/rows/1/relevant",
        ),
        (("sections", 0, "questions", 5, "constraint"), "today() > .", "/sections/0/questions/5/constraint"),
        (
            ("sections", 2, "questions", 1, "choice_filter"),
            "district = ${region}",
            "/sections/2/questions/1/choice_filter",
        ),
        (("sections", 2, "questions", 3, "parent"), "region", "/sections/2/questions/3/parent"),
    ],
)
def test_a_bad_rule_is_refused_where_it_is_written(path: tuple[Any, ...], value: str, field: str) -> None:
    definition = copy.deepcopy(model_definition())
    node: Any = definition
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(InvalidDefinition) as caught:
        Survey.from_definition(definition)
    assert caught.value.field == field
    assert caught.value.message_vi


def test_missing_translations_name_every_text() -> None:
    definition = copy.deepcopy(model_definition())
    assert Survey.from_definition(definition).missing_translations() == []
    del definition["sections"][2]["questions"][1]["options"][0]["label"]["en"]
    definition["sections"][0]["title"]["en"] = " "
    assert Survey.from_definition(definition).missing_translations() == [
        "/sections/0/title/en",
        "/sections/2/questions/1/options/0/label/en",
    ]


def test_the_model_survey_is_a_valid_definition() -> None:
    from chalicelib.admin import check_definition

    assert check_definition(model_definition()).key == "model-2026#1"


@pytest.mark.parametrize("reserved", ["channel", "province", "id", "website"])
def test_a_question_id_that_is_a_field_of_the_submission_is_refused(reserved: str) -> None:
    definition = copy.deepcopy(model_definition())
    definition["sections"][0]["questions"][2]["id"] = reserved
    with pytest.raises(InvalidDefinition) as caught:
        Survey.from_definition(definition)
    assert caught.value.field == "/sections/0/questions/2/id"


def test_a_required_text_is_not_answered_by_spaces_and_both_readings_say_so() -> None:
    definition = copy.deepcopy(model_definition())
    definition["sections"][2]["questions"][4]["required"] = True  # "name", the file code
    definition["sections"][2]["questions"][4].pop("constraint")
    survey = Survey.from_definition(definition)
    published = compile_validator(survey.submission_schema())
    from fastjsonschema import JsonSchemaValueException

    for blank in ("", "   "):
        answers = {**COMPLETE, "name": blank}
        assert [p.field for p in survey.check(answers)] == ["/answers/name"]
        with pytest.raises(JsonSchemaValueException):
            published(envelope(answers))
    assert survey.check({**COMPLETE, "name": "HS-01"}) == []
    published(envelope({**COMPLETE, "name": "HS-01"}))


def test_an_empty_cell_of_a_choices_column_reads_as_empty_text() -> None:
    # region=${region} or name='other': 'other' has no region (an empty cell), as ODK reads it
    definition = copy.deepcopy(model_definition())
    city = definition["sections"][2]["questions"][1]
    city["choice_filter"] = "region = ${region} or name = 'khac'"
    city["options"].append({"value": "khac", "label": {"vi": "Khác", "en": "Other"}})
    survey = Survey.from_definition(definition)
    assert survey.check({**COMPLETE, "region": "s", "city": "khac"}) == []
    assert survey.check({**COMPLETE, "region": "s", "city": "hn"})[0].field == "/answers/city"


def test_date_bounds_are_refused_where_they_are_written() -> None:
    definition = copy.deepcopy(model_definition())
    definition["sections"][1]["questions"][2]["max"] = "2026-12-31"
    with pytest.raises(InvalidDefinition) as caught:
        Survey.from_definition(definition)
    assert caught.value.field == "/sections/1/questions/2/max"
