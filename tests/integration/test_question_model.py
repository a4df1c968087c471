"""Every question type through the live stack: the contract a client reads is the rule the server applies."""

from __future__ import annotations

import json
from typing import Any

import jsonschema

from chalicelib.admin import publish_survey
from tests.integration.helpers import http
from tests.shared.model_survey import model_definition

RESPONSE_ID = iter(f"01KSMHC4S42SNEE2333GAHS3{n:02d}" for n in range(10, 99))


def submission(answers: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": next(RESPONSE_ID),
        "survey_version": 1,
        "channel": "web",
        "province": "01",
        "commune": "00004",
        "answers": answers,
    }


GOOD = {
    "consent": True,
    "used": "yes",
    "via": "3",
    "via__other": "Zalo",
    "age": 40,
    "spent": 12.5,
    "stars": "5",
    "g1": "9",
    "g2": "2",
    "when": "2026-11-01",
    "region": "s",
    "city": "hcm",
    "prov": "01",
    "comm": "00004",
    "name": "AB123",
    "say": "Phục vụ tốt",
}


def test_every_type_is_accepted_stored_counted_and_its_rules_are_in_the_contract(live_stack: Any) -> None:
    definition = model_definition()
    publish_survey(definition)
    status, contract = http("GET", f"{live_stack.api_url}/surveys/model-2026")
    assert status == 200, contract
    schema = contract["submission_schema"]
    validator = jsonschema.Draft7Validator(schema, format_checker=jsonschema.FormatChecker())

    good = submission(GOOD)
    assert validator.is_valid(good)
    status, receipt = http("POST", f"{live_stack.api_url}/surveys/model-2026/responses", json.dumps(good).encode())
    assert status == 201, receipt

    # A client validating against the contract sees each rule the server applies, and the reverse.
    for change, field in (
        ({"used": "no"}, "/answers/via"),
        ({"region": "n"}, "/answers/city"),
        ({"spent": 1000}, "/answers/spent"),
        ({"stars": "2"}, "/answers/g2"),
        ({"prov": "04"}, "/answers/comm"),
    ):
        bad = submission({**GOOD, **change})
        assert not validator.is_valid(bad), change
        status, body = http("POST", f"{live_stack.api_url}/surveys/model-2026/responses", json.dumps(bad).encode())
        assert status == 400, (change, body)
        assert body["error"]["code"] == "invalid_submission"
        assert body["error"]["field"] == field
        assert body["error"]["message"]  # Vietnamese first

    live_stack.drain()
    status, mine = http("GET", f"{live_stack.api_url}/responses/{good['id']}")
    assert status == 200, mine
    status, results = http("GET", f"{live_stack.api_url}/surveys/model-2026/results?include_flagged=1")
    assert status == 200, results
    assert results["n"] == 1
    by_id = {q["id"]: q for q in results["questions"]}
    g1 = {o["value"]: o for o in by_id["g1"]["options"]}
    assert g1["9"]["count"] == 1 and g1["9"].get("not_applicable") is True


def test_a_version_that_opens_later_leaves_the_current_one_serving(live_stack: Any) -> None:
    # GIVEN version 1 open and version 2 published to open next month
    v1 = {**model_definition(), "id": "model-later", "status": "published"}
    v2 = {**v1, "version": 2, "opens_at": "2099-01-01T00:00:00Z"}
    publish_survey(v1)
    publish_survey(v2)
    # THEN the public survey, its form and its list entry are version 1 until version 2 opens
    status, contract = http("GET", f"{live_stack.api_url}/surveys/model-later")
    assert status == 200 and contract["survey"]["version"] == 1 and contract["open"] is True
    status, listed = http("GET", f"{live_stack.api_url}/surveys")
    assert {s["id"]: s["version"] for s in listed["surveys"]}["model-later"] == 1
    # AND version 2 is readable by number, not yet open
    status, later = http("GET", f"{live_stack.api_url}/surveys/model-later?version=2")
    assert status == 200 and later["open"] is False
