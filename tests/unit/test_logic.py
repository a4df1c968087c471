"""Expressions -> conditions: the translation, its refusals, and the evaluator against jsonschema itself."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.domain.logic import ExpressionError, Target, compile_condition, holds, parse, references

TARGETS = {
    "s": Target("single", ("1", "2", "3", "4", "5")),
    "m": Target("multi", ("a", "b", "c")),
    "n": Target("integer"),
    "x": Target("decimal"),
    "t": Target("text"),
    "d": Target("date"),
    "y": Target("single", ("yes", "no")),
}


def cond(text: str, **kw: Any) -> dict[str, Any]:
    return compile_condition(text, TARGETS.get, **kw)


CASES: list[tuple[str, dict[str, Any], bool]] = [
    ("${s} = '4'", {"s": "4"}, True),
    ("${s} = '4'", {}, False),
    ("${s} != '4'", {}, True),
    ("${s} != '4'", {"s": "4"}, False),
    ("${s} >= 4", {"s": "5"}, True),
    ("${s} >= 4", {"s": "3"}, False),
    ("${s} >= 4", {}, False),
    ("${s} = ''", {}, True),
    ("${s} != ''", {"s": "1"}, True),
    ("${s} != ''", {}, False),
    ("4 <= ${s}", {"s": "4"}, True),
    ("selected(${m}, 'b')", {"m": ["a", "b"]}, True),
    ("selected(${m}, 'b')", {"m": ["a"]}, False),
    ("selected(${m}, 'b')", {}, False),
    ("not(selected(${m}, 'b'))", {}, True),
    ("count-selected(${m}) >= 2", {"m": ["a", "c"]}, True),
    ("count-selected(${m}) >= 2", {"m": ["a"]}, False),
    ("count-selected(${m}) < 2", {}, True),
    ("count-selected(${m}) = 0", {}, True),
    ("count-selected(${m}) = 0", {"m": ["a"]}, False),
    ("${n} > 17", {"n": 18}, True),
    ("${n} > 17", {"n": 17}, False),
    ("${n} > 17", {}, False),
    ("${n} = 3", {"n": 3}, True),
    ("${n} != 3", {}, True),
    ("${x} < 2.5", {"x": 2.4}, True),
    ("${t} = 'abc'", {"t": "abc"}, True),
    ("${t} != ''", {"t": "abc"}, True),
    ("${y} = 'yes' and (${s} = '1' or ${s} = '2')", {"y": "yes", "s": "2"}, True),
    ("${y} = 'yes' and (${s} = '1' or ${s} = '2')", {"y": "yes", "s": "3"}, False),
    ("${y} = 'yes' or ${n} > 5", {"n": 6}, True),
    ("true()", {}, True),
    ("false()", {}, False),
    ("${s}", {"s": "1"}, True),
    ("${s}", {}, False),
]


@pytest.mark.parametrize(("text", "answers", "expected"), CASES)
def test_a_condition_says_what_odk_says(text: str, answers: dict[str, Any], expected: bool) -> None:
    condition = cond(text)
    assert holds(condition, answers) is expected
    assert jsonschema.Draft7Validator(condition).is_valid(answers) is expected


@pytest.mark.parametrize(
    ("text", "value", "expected"),
    [
        (". >= 0 and . < 1000", 999.5, True),
        (". >= 0 and . < 1000", 1000, False),
        (". >= 0 and . < 1000", -1, False),
        ("regex(., '^[A-Z]{2}[0-9]{3}$')", "AB123", True),
        ("regex(., '^[A-Z]{2}[0-9]{3}$')", "ab123", False),
        ("string-length(.) <= 3", "abcd", False),
        ("string-length(.) <= 3", "abc", True),
        ("string-length(.) > 1", "a", False),
    ],
)
def test_a_constraint_reads_the_own_answer(text: str, value: Any, expected: bool) -> None:
    own = "x" if isinstance(value, int | float) else "t"
    condition = cond(text, self_id=own)
    assert holds(condition, {own: value}) is expected
    assert jsonschema.Draft7Validator(condition).is_valid({own: value}) is expected


def test_a_choice_filter_reads_the_option_attributes() -> None:
    north = cond("region = ${s}", attrs={"region": "1", "name": "hn"})
    assert holds(north, {"s": "1"}) and not holds(north, {"s": "2"}) and not holds(north, {})
    by_name = cond("name != 'hn'", attrs={"name": "hn"})
    assert not holds(by_name, {})


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("${s} = ${n}", "hai câu trả lời"),
        ("${n} + 1 > 3", "phép tính"),
        ("${d} < '2026-01-01'", "thứ tự"),
        ("${m} = 'a'", "selected()"),
        ("today() > 3", "today()"),
        ("${nope} = '1'", "${nope}"),
        ("${s} = '1' and", "thiếu"),
        ("${s} = '1' )", "Phần thừa"),
        (". > 3", "ràng buộc"),
        ("regex(${t}, '[')", "chính quy"),
        ("${s} # 2", "ký tự"),
    ],
)
def test_what_the_contract_cannot_express_is_refused_with_a_reason(text: str, where: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        cond(text)
    assert where in caught.value.message_vi
    assert caught.value.message_en


def test_references_and_parse() -> None:
    assert references("${a} = '1' or selected(${b}, 'x') and ${a} != ''") == ["a", "b"]
    assert parse("not(${a} = 1)")[0] == "call"


SCHEMAS = st.recursive(
    st.sampled_from(
        [
            {"required": ["a"]},
            {"properties": {"a": {"enum": ["1", "2"]}}},
            {"properties": {"a": {"const": "1"}}},
            {"properties": {"b": {"minimum": 2}}},
            {"properties": {"b": {"exclusiveMaximum": 5}}},
            {"properties": {"c": {"contains": {"const": "x"}}}},
            {"properties": {"c": {"minItems": 2}}},
            {"properties": {"c": {"maxItems": 1}}},
            {"properties": {"a": {"pattern": "^1"}}},
            {"properties": {"a": {"maxLength": 1}}},
            {},
            {"not": {}},
        ]
    ),
    lambda inner: st.one_of(
        st.builds(lambda xs: {"allOf": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"anyOf": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, inner),
        st.builds(lambda i, th: {"if": i, "then": th}, inner, inner),
        st.builds(lambda i, el: {"if": i, "else": el}, inner, inner),
    ),
    max_leaves=8,
)
ANSWERS = st.fixed_dictionaries(
    {},
    optional={
        "a": st.sampled_from(["1", "2", "12", ""]),
        "b": st.sampled_from([1, 2, 4.5, 5, 7]),
        "c": st.lists(st.sampled_from(["x", "y"]), unique=True),
    },
)


@settings(max_examples=400, deadline=None)
@given(SCHEMAS, ANSWERS)
def test_the_evaluator_agrees_with_jsonschema(schema: dict[str, Any], answers: dict[str, Any]) -> None:
    assert holds(schema, answers) is jsonschema.Draft7Validator(schema).is_valid(answers)


def test_not_applicable_is_never_more_or_less_than_a_point() -> None:
    rated = Target("single", ("1", "2", "3", "4", "5", "9"), not_applicable=("9",))
    above = compile_condition("${r} > 3", {"r": rated}.get)
    assert holds(above, {"r": "4"}) and not holds(above, {"r": "9"})
    assert holds(compile_condition("${r} = '9'", {"r": rated}.get), {"r": "9"})
    assert holds(compile_condition("${r} != '4'", {"r": rated}.get), {"r": "9"})


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("regex(${n}, '^[0-9]{4}$')", "không phải văn bản"),  # a number is not text: every answer would fail
        ("regex(${t}, '^(a+)+$')", "treo"),  # catastrophic backtracking on every anonymous submission
        ("regex(${t}, '^(a|aa)*$')", "treo"),
        ("regex(${t}, '(?i)^[a-z]+$')", "trình duyệt"),  # Python-only syntax: the browser would throw
        ("regex(${t}, '(x)-\\1')", "trình duyệt"),
    ],
)
def test_a_pattern_must_run_alike_in_every_engine_and_never_hang(text: str, words: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        cond(text)
    assert words in caught.value.message_vi


def test_ordinary_patterns_are_kept() -> None:
    for pattern in ("^0[0-9]{9}$", "^[^@]+@[^@]+$", "^([0-9]{2}\\.)?[0-9]+$", "^(ab)+$"):
        assert cond(f"regex(${{t}}, '{pattern}')")["properties"]["t"]["pattern"] == pattern
