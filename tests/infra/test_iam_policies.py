"""IAM policies checked offline with parliament (Duo Labs' IAM linter, with its bundled database of
AWS actions, resources and condition keys): unknown actions, resource types that an action does not
take, malformed statements. moto does not enforce IAM, so this is the local check we can run; the
EnclosingOperation and Secrets Manager conditions are still to be tried on the first AWS deploy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _findings(document: dict[str, Any]) -> list[tuple[str, Any]]:
    from parliament import analyze_policy_string

    policy = analyze_policy_string(json.dumps(document))
    return [(f.issue, f.detail) for f in policy.findings]


@pytest.mark.parametrize("stage", ["local", "dev", "prod"])
def test_the_api_policy_of_each_stage_is_clean(stage: str) -> None:
    document = json.loads((ROOT / ".chalice" / f"policy-{stage}.json").read_text(encoding="utf-8"))
    assert _findings(document) == []


def test_the_linter_catches_a_misnamed_action() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "cognito-idp:AdminDisableUsers", "Resource": "*"}],
    }
    assert any(issue == "UNKNOWN_ACTION" for issue, _ in _findings(document))
