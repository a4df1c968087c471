"""The pre token generation trigger (V2_0): custom:agency reaches the access token, and sign-in never breaks."""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from chalicelib.auth import tokens
from chalicelib.auth.permissions import Grant
from chalicelib.auth.tokens import Principal, TokenConfig, Unauthenticated, principal_from_claims, verify_token
from functions.pretoken import handler as pretoken
from tests.shared.fakes import LambdaContext

ROOT = Path(__file__).resolve().parents[2]
POOL_ID = "ap-southeast-1_Ab12Cd34E"
ISSUER = f"https://cognito-idp.ap-southeast-1.amazonaws.com/{POOL_ID}"
CLIENT_ID = "4k1example2client3id4abcdef"
SUB = "c9b5c2d0-5a1e-4c43-9a7e-0f5d3a1b2c3d"
SCOPES_BY_SOURCE = {
    # the managed login (hosted UI) issues the OAuth scopes of the app client
    "TokenGeneration_HostedAuth": ["openid", "email", "profile"],
    # InitiateAuth / RespondToAuthChallenge (SRP) and REFRESH_TOKEN_AUTH: the user-pools API scope
    "TokenGeneration_Authentication": ["aws.cognito.signin.user.admin"],
    "TokenGeneration_RefreshTokens": ["aws.cognito.signin.user.admin"],
}


def v2_event(source: str = "TokenGeneration_Authentication", agency: str | None = "P01") -> dict[str, Any]:
    """A V2_0 event as Cognito sends it: every user attribute as a string, the groups, no response yet."""
    user_attributes = {
        "sub": SUB,
        "cognito:user_status": "CONFIRMED",
        "email_verified": "true",
        "email": "nguyen.van.a@hanoi.gov.vn",
        "name": "Nguyễn Văn A",
        "custom:agency": agency,
    }
    return {
        "version": "2",
        "triggerSource": source,
        "region": "ap-southeast-1",
        "userPoolId": POOL_ID,
        "userName": "nguyenvana",
        "callerContext": {"awsSdkVersion": "aws-sdk-unknown-unknown", "clientId": CLIENT_ID},
        "request": {
            "userAttributes": {k: v for k, v in user_attributes.items() if v is not None},
            "groupConfiguration": {
                "groupsToOverride": ["agency_admin", "analyst"],
                "iamRolesToOverride": [],
                "preferredRole": None,
            },
            "scopes": SCOPES_BY_SOURCE[source],
        },
        "response": {"claimsAndScopeOverrideDetails": None},
    }


def run(event: dict[str, Any]) -> dict[str, Any]:
    return pretoken.handler(event, LambdaContext(function_name="par-dev-PreTokenFunction-Ab12"))


def access_claims_added(result: dict[str, Any]) -> dict[str, Any]:
    details = result["response"]["claimsAndScopeOverrideDetails"] or {}
    return dict((details.get("accessTokenGeneration") or {}).get("claimsToAddOrOverride") or {})


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    seen: list[str] = []
    monkeypatch.setattr(pretoken.logger, "warning", lambda msg, *a, **kw: seen.append(str(msg)))
    return seen


@pytest.mark.parametrize("source", sorted(SCOPES_BY_SOURCE))
def test_the_agency_goes_into_the_access_token_and_the_id_token_is_left_alone(source: str) -> None:
    event = v2_event(source)
    result = run(copy.deepcopy(event))
    details = result["response"]["claimsAndScopeOverrideDetails"]
    assert details["accessTokenGeneration"] == {"claimsToAddOrOverride": {"custom:agency": "P01"}}
    assert "idTokenGeneration" not in details
    # the groups (the roles) are passed back as Cognito sent them, so neither token loses cognito:groups
    assert details["groupOverrideDetails"] == event["request"]["groupConfiguration"]
    assert {k: v for k, v in result.items() if k != "response"} == {k: v for k, v in event.items() if k != "response"}


@pytest.mark.parametrize("value", ["national", "P01", "B-NOIVU", "AB", "P" + "0" * 15, " P79 "])
def test_national_and_agency_codes_are_scopes(value: str) -> None:
    assert access_claims_added(run(v2_event(agency=value))) == {"custom:agency": value.strip()}


@pytest.mark.parametrize("agency", [None, ""])
def test_a_user_without_an_agency_signs_in_with_nothing_added(agency: str | None, warnings: list[str]) -> None:
    event = v2_event(agency=agency)
    assert run(copy.deepcopy(event)) == event
    assert warnings == []


@pytest.mark.parametrize(
    "value", ["p01", "National", "P", "P" + "0" * 16, "P01,P02", "P01 P02", "*", "Hà Nội", "P01\x00"]
)
def test_a_value_that_is_not_a_scope_is_refused_and_logged(value: str, warnings: list[str]) -> None:
    event = v2_event(agency=value)
    assert run(copy.deepcopy(event)) == event
    assert len(warnings) == 1 and "not a scope" in warnings[0]


def test_a_v1_event_is_not_given_a_v2_response(warnings: list[str]) -> None:
    event = {**v2_event(), "version": "1", "response": {"claimsOverrideDetails": None}}
    assert run(copy.deepcopy(event)) == event
    assert warnings and "V2_0" in warnings[0]


@pytest.mark.parametrize(
    ("event", "added"),
    [
        ({"version": "2", "triggerSource": "TokenGeneration_Authentication"}, None),
        ({"version": "2", "request": None, "response": None}, None),
        ({"version": "2", "request": {"userAttributes": None}}, None),
        ({"version": "2", "request": {"userAttributes": {"custom:agency": 7}}}, None),
        ({"version": "2", "request": {"userAttributes": {"custom:agency": "P01"}}}, {"custom:agency": "P01"}),
    ],
)
def test_odd_events_never_raise(event: dict[str, Any], added: dict[str, Any] | None) -> None:
    result = run(copy.deepcopy(event))
    if added is None:
        assert result == event
    else:
        assert result["response"] == {
            "claimsAndScopeOverrideDetails": {"accessTokenGeneration": {"claimsToAddOrOverride": added}}
        }


def test_an_unexpected_error_still_lets_the_official_sign_in(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(event: dict[str, Any]) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(pretoken, "add_scope_to_access_token", broken)
    event = v2_event()
    assert run(copy.deepcopy(event)) == event


# ------------------------------------------------------------------ what the API makes of the tokens


def id_token_claims() -> dict[str, Any]:
    """A Cognito ID token's claims: the user's attributes, custom:agency among them."""
    now = int(time.time())
    return {
        "sub": SUB,
        "cognito:groups": ["agency_admin", "analyst"],
        "email_verified": True,
        "iss": ISSUER,
        "cognito:username": "nguyenvana",
        "origin_jti": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        "aud": CLIENT_ID,
        "event_id": "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
        "token_use": "id",
        "auth_time": now,
        "name": "Nguyễn Văn A",
        "exp": now + 3600,
        "iat": now,
        "jti": "2b3c4d5e-6f7a-8b9c-0d1e-2f3a4b5c6d7e",
        "email": "nguyen.van.a@hanoi.gov.vn",
        "custom:agency": "P01",
    }


def access_token_claims(added: dict[str, Any]) -> dict[str, Any]:
    """A Cognito access token's claims: no attributes, "username" and "client_id"; plus what the trigger added."""
    now = int(time.time())
    return {
        "sub": SUB,
        "cognito:groups": ["agency_admin", "analyst"],
        "iss": ISSUER,
        "client_id": CLIENT_ID,
        "origin_jti": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
        "event_id": "1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d",
        "token_use": "access",
        "scope": "aws.cognito.signin.user.admin",
        "auth_time": now,
        "exp": now + 3600,
        "iat": now,
        "jti": "3c4d5e6f-7a8b-9c0d-1e2f-3a4b5c6d7e8f",
        "username": "nguyenvana",
        **added,
    }


@pytest.mark.parametrize("source", sorted(SCOPES_BY_SOURCE))
def test_the_access_token_grants_what_the_id_token_grants(source: str) -> None:
    added = access_claims_added(run(v2_event(source)))
    from_id = principal_from_claims(id_token_claims())
    from_access = principal_from_claims(access_token_claims(added))
    assert from_access.grants == from_id.grants == (Grant("agency_admin", "P01"), Grant("analyst", "P01"))
    assert from_access.sub == from_id.sub
    assert from_access.name == "nguyenvana"  # access tokens carry no name or e-mail: the username, not the sub
    assert principal_from_claims(access_token_claims({})).grants == ()  # what the trigger fixes


class _Keys:
    def __init__(self, public_key: Any) -> None:
        self.key = public_key

    def get_signing_key_from_jwt(self, token: str) -> _Keys:
        return self


@pytest.fixture
def signer(monkeypatch: pytest.MonkeyPatch) -> Any:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    monkeypatch.setattr(tokens, "_jwks_client", lambda url: _Keys(private.public_key()))
    return lambda claims: jwt.encode(claims, private, algorithm="RS256", headers={"kid": "k1"})


def test_verify_token_accepts_the_access_token_by_its_client_id(signer: Any) -> None:
    config = TokenConfig(issuer=ISSUER, audience=CLIENT_ID, jwks_url=f"{ISSUER}/.well-known/jwks.json")
    added = access_claims_added(run(v2_event()))
    principal = verify_token(signer(access_token_claims(added)), config)
    assert isinstance(principal, Principal)
    assert principal.grants == verify_token(signer(id_token_claims()), config).grants
    assert principal.agency == "P01"
    other_client = access_token_claims({**added, "client_id": "another-client"})
    with pytest.raises(Unauthenticated):
        verify_token(signer(other_client), config)


def test_the_trigger_imports_neither_pandas_nor_boto3() -> None:
    code = (
        "import sys, functions.pretoken.handler; "
        "print(sorted(m for m in ('pandas', 'numpy', 'boto3', 'jwt', 'pynamodb') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
