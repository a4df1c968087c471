"""The browser and the server read a condition the same way: static/form.js's evaluator against logic.holds."""

from __future__ import annotations

import random
from typing import Any

from chalicelib.domain.logic import holds
from chalicelib.domain.survey import Survey
from tests.e2e.conftest import open_page
from tests.shared.model_survey import model_definition

LEAVES: list[dict[str, Any]] = [
    {"required": ["a"]},
    {"properties": {"a": {"enum": ["1", "2"]}}},
    {"properties": {"a": {"const": "1"}}},
    {"properties": {"b": {"minimum": 2}}},
    {"properties": {"b": {"exclusiveMaximum": 5}}},
    {"properties": {"b": {"const": 2}}},
    {"properties": {"c": {"contains": {"const": "x"}}}},
    {"properties": {"c": {"minItems": 2}}},
    {"properties": {"c": {"maxItems": 1}}},
    {"properties": {"a": {"pattern": "^1"}}},
    {"properties": {"a": {"maxLength": 1}}},
    {"properties": {"d": {"const": True}}},
    {},
    {"not": {}},
]


def schema(rng: random.Random, depth: int = 0) -> dict[str, Any]:
    if depth > 2 or rng.random() < 0.4:
        return rng.choice(LEAVES)
    kind = rng.choice(["allOf", "anyOf", "not", "if"])
    if kind == "not":
        return {"not": schema(rng, depth + 1)}
    if kind == "if":
        out = {"if": schema(rng, depth + 1), "then": schema(rng, depth + 1)}
        if rng.random() < 0.5:
            out["else"] = schema(rng, depth + 1)
        return out
    return {kind: [schema(rng, depth + 1) for _ in range(rng.randint(1, 3))]}


def answers(rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rng.random() < 0.7:
        out["a"] = rng.choice(["1", "2", "12", ""])
    if rng.random() < 0.7:
        out["b"] = rng.choice([1, 2, 4.5, 5, 7])
    if rng.random() < 0.7:
        out["c"] = rng.sample(["x", "y"], rng.randint(0, 2))
    if rng.random() < 0.3:
        out["d"] = rng.choice([True, False])
    return out


def test_form_js_and_the_server_agree_on_every_condition(browser: Any, live_stack: Any, page_errors: list[str]) -> None:
    rng = random.Random(2026)
    cases = [(schema(rng), answers(rng)) for _ in range(1500)]
    # and every condition the model survey compiles, on answers drawn from its own options
    survey = Survey.from_definition(model_definition())
    conditions = [i.relevant for i in survey.items if i.relevant] + [i.constraint for i in survey.items if i.constraint]
    conditions += [c for i in survey.items for c, _ in i.filters]
    for _ in range(500):
        drawn = {
            i.id: (rng.choice(i.options) if i.kind == "single" else rng.sample(i.options, 1))
            for i in survey.items
            if i.options and rng.random() < 0.6
        }
        drawn.update({"age": rng.choice([15, 18, 40]), "spent": rng.choice([0, 999.5, 1000])})
        cases.append((rng.choice(conditions), drawn))

    page = open_page(browser, f"{live_stack.api_url}/s/sipas-2026", page_errors)
    in_browser = page.evaluate("cases => cases.map(([s, v]) => document.getElementById('survey').holds(s, v))", cases)
    on_server = [holds(s, v) for s, v in cases]
    disagreements = [case for case, b, p in zip(cases, in_browser, on_server, strict=True) if b != p]
    assert not disagreements, disagreements[:3]
    assert 0.2 < sum(on_server) / len(on_server) < 0.8  # the cases are not all trivially true or false
    assert not page_errors
