"""The pre token generation handler on a recorded Cognito V2_0 event (the rule's own cases: tests/unit/test_pretoken.py)."""

from __future__ import annotations

import copy

from functions.pretoken.handler import handler
from tests.events import load_event


def test_the_agency_is_added_to_the_access_token_and_the_rest_is_cognito_s(context):
    event = load_event("cognito_pre_token_generation_v2")
    result = handler(copy.deepcopy(event), context)
    details = result["response"]["claimsAndScopeOverrideDetails"]
    assert details["accessTokenGeneration"] == {"claimsToAddOrOverride": {"custom:agency": "P01"}}
    assert details["groupOverrideDetails"] == event["request"]["groupConfiguration"]
    assert {k: v for k, v in result.items() if k != "response"} == {k: v for k, v in event.items() if k != "response"}


def test_an_event_it_cannot_read_signs_in_unchanged(context):
    event = load_event("cognito_pre_token_generation_v2")
    event["request"] = ["not", "a", "map"]
    assert handler(copy.deepcopy(event), context) == event
