"""The edge refuses hostile input with a clear 4xx: deeply nested JSON, and the settings a deployment cannot lack."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from chalice import Response

from chalicelib.api.bodies import json_body
from chalicelib.api.http import json_error, json_response
from chalicelib.domain.errors import DomainError, InvalidJson
from chalicelib.domain.submissions import MAX_JSON_DEPTH, ClientInfo, IdentifierHasher, SubmissionService
from tests.shared.fakes import AllLocations, FakeCatalog, FakeResponseStore, sipas_definition

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.fixture
def service() -> SubmissionService:
    return SubmissionService(
        FakeCatalog(sipas_definition()),
        FakeResponseStore(),
        AllLocations(),
        IdentifierHasher(b"k", "k1"),
        max_body_bytes=65536,
        clock=lambda: NOW,
    )


@pytest.fixture
def submission() -> dict[str, Any]:
    from chalicelib.reference.geography import load_geography
    from infra.local.seed.responses import generate_submissions

    generated = generate_submissions(sipas_definition(), load_geography("vn-2025"), 1, seed=11, now=NOW)
    return copy.deepcopy(generated[0])


def answer(view: Any) -> tuple[int, dict[str, Any]]:
    """What a client gets when `view` runs behind the API's error mapping (operations.api): status and JSON body."""
    try:
        response: Response = view()
    except DomainError as exc:
        response = json_error(exc)
    return response.status_code, json.loads(response.body)


def assert_invalid_json(status: int, body: dict[str, Any]) -> None:
    assert status == 400
    assert body["error"]["code"] == "invalid_json"
    assert "JSON" in body["error"]["message"] and body["error"]["message_en"]


# --- deeply nested JSON --------------------------------------------------------------------------
def test_a_submission_of_60000_open_brackets_is_a_400_not_a_500(service):
    raw = b"[" * 60000

    def submit() -> Response:
        body = service.parse_body(raw, "application/json")
        return json_response(service.submit("sipas-2026", body, ClientInfo()).to_dict())

    assert_invalid_json(*answer(submit))


def test_a_submission_that_parses_but_nests_too_deep_for_the_schema_check_is_a_400(service, submission):
    # q2 is a multiple choice with uniqueItems: fastjsonschema walks each item recursively, so 900 levels
    # (1.8 KB, well within json.loads' limit) used to end in a RecursionError during validation
    submission["answers"]["q2"] = ["__deep__", "1"]
    raw = json.dumps(submission).replace('"__deep__"', nested(900)).encode()

    def submit() -> Response:
        body = service.parse_body(raw, "application/json")
        return json_response(service.submit("sipas-2026", body, ClientInfo()).to_dict())

    status, body = answer(submit)
    assert_invalid_json(status, body)
    assert str(MAX_JSON_DEPTH) in body["error"]["message"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"enabled": ' + b"[" * 16000,  # json.loads itself recurses too far
        json.dumps({"roles": ["__deep__", "analyst"], "agency": "P01"}).replace('"__deep__"', nested(900)).encode(),
    ],
)
def test_officials_json_routes_refuse_deep_nesting_with_a_400(raw):
    status, body = answer(lambda: json_response(json_body(raw, "application/json", "user", "access")))
    assert_invalid_json(status, body)


def test_nesting_up_to_the_limit_is_still_read():
    inner = nested(MAX_JSON_DEPTH - 1)  # inside the top-level object: MAX_JSON_DEPTH levels in all
    from chalicelib.domain.submissions import parse_json_object

    assert parse_json_object(f'{{"a": {inner}}}', "application/json", 65536)["a"] == json.loads(inner)
    with pytest.raises(InvalidJson):
        parse_json_object(f'{{"a": [{inner}]}}', "application/json", 65536)


# --- settings a deployment cannot lack -----------------------------------------------------------
BASE_ENV = {
    "PAR_SURVEYS_TABLE": "t",
    "PAR_RESPONSES_TABLE": "t",
    "PAR_AGGREGATES_TABLE": "t",
    "PAR_AUDIT_TABLE": "t",
    "PAR_AGENCIES_TABLE": "t",
    "PAR_REVOCATIONS_TABLE": "t",
    "PAR_FIELDWORK_TABLE": "t",
    "PAR_REPORTS_BUCKET": "b",
    "PAR_LAKE_BUCKET": "b",
}
AWS_ENV = {**BASE_ENV, "PAR_STAGE": "prod", "PAR_HMAC_SECRET_ID": "arn:secret", "PAR_PUBLIC_URL": "https://par.gov.vn"}


def test_outside_local_stages_the_public_url_is_required_and_must_be_https():
    from chalicelib.settings import Settings, SettingsError

    without = {k: v for k, v in AWS_ENV.items() if k != "PAR_PUBLIC_URL"}
    with pytest.raises(SettingsError, match="PAR_PUBLIC_URL"):
        Settings.from_env(without)
    for bad in ("http://par.gov.vn", "par.gov.vn", "https://par.gov.vn/?next=x", "https://u:p@par.gov.vn"):
        with pytest.raises(SettingsError, match="PAR_PUBLIC_URL"):
            Settings.from_env({**AWS_ENV, "PAR_PUBLIC_URL": bad})
    assert Settings.from_env({**AWS_ENV, "PAR_PUBLIC_URL": "https://par.gov.vn/"}).public_url == "https://par.gov.vn"
    # on this machine the console may still fall back to the request's host
    assert Settings.from_env({**BASE_ENV, "PAR_STAGE": "local"}).public_url is None
    assert Settings.from_env({**BASE_ENV, "PAR_PUBLIC_URL": "http://127.0.0.1:8000"}).public_url


def test_the_template_feeds_the_public_url_to_the_api_and_registers_its_callback_with_cognito():
    from infra.local.stack import ROOT, load_template

    template = load_template(ROOT / "infra" / "template.yaml")
    assert template["Globals"]["Function"]["Environment"]["Variables"]["PAR_PUBLIC_URL"] == {"Ref": "PublicUrl"}
    client = template["Resources"]["ConsoleClient"]["Properties"]
    assert client["CallbackURLs"] == [{"Fn::Sub": "${PublicUrl}/admin/callback"}]
    # a dev or prod stack cannot be deployed without it (the API would refuse to start)
    (rule,) = template["Rules"].values()
    assert rule["RuleCondition"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "Stage"}, "local"]}]}
    assert rule["Assertions"][0]["Assert"] == {"Fn::Not": [{"Fn::Equals": [{"Ref": "PublicUrl"}, ""]}]}


# --- the console's keys come from the managed secret ---------------------------------------------
@pytest.fixture
def managed_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """Settings as on AWS (only PAR_HMAC_SECRET_ID names the keys), with the secret's value in a dict."""
    from chalicelib.settings import reset_settings
    from chalicelib.store import secrets

    secret = {"current": "k1", "k1": "first-key-" + "x" * 54}
    for name in ("PAR_HMAC_KEY", "PAR_HMAC_KEY_ID"):
        monkeypatch.delenv(name, raising=False)
    for name, value in AWS_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(secrets, "_read_secret", lambda secret_id: json.dumps(secret))
    reset_settings()
    secrets.forget()
    yield secret
    reset_settings()
    secrets.forget()


def rotate(secret: dict[str, str], **changes: str) -> None:
    from chalicelib.store import secrets

    secret.update(changes)
    secrets.forget()  # what the five-minute cache does on its own


def test_on_aws_the_csrf_key_is_derived_from_the_managed_secret_not_the_empty_setting(managed_secret):
    from chalicelib.api.session import csrf_ok, csrf_token
    from chalicelib.settings import settings
    from chalicelib.store.secrets import console_key, derive_key

    assert settings().hmac_key == b""  # what the console used to sign with on AWS
    assert console_key("csrf") == derive_key(managed_secret["k1"].encode(), "csrf")
    assert console_key("csrf") not in (managed_secret["k1"].encode(), console_key("another purpose"))
    forged = hmac.new(b"", b"csrf:" + hashlib.sha256(b"session").digest(), hashlib.sha256).hexdigest()[:40]
    assert not csrf_ok("session", forged)
    assert csrf_ok("session", csrf_token("session"))
    assert not csrf_ok("session", csrf_token("another session"))
    assert not csrf_ok("session", "")


def test_a_form_loaded_before_a_key_rotation_can_still_be_sent_until_the_old_key_is_removed(managed_secret):
    from chalicelib.api.session import csrf_ok, csrf_token

    before = csrf_token("session")
    rotate(managed_secret, current="k2", k2="second-key-" + "y" * 53)
    assert csrf_token("session") != before  # new forms carry a token under the new key
    assert csrf_ok("session", before)
    assert csrf_ok("session", csrf_token("session"))
    del managed_secret["k1"]
    rotate(managed_secret)
    assert not csrf_ok("session", before)


def test_outside_local_stages_there_is_no_default_key():
    from chalicelib.settings import Settings, SettingsError
    from chalicelib.store.secrets import KeyringError, derive_key, parse_keyring

    keyless = {k: v for k, v in AWS_ENV.items() if k != "PAR_HMAC_SECRET_ID"}
    with pytest.raises(SettingsError, match="PAR_HMAC_SECRET_ID"):
        Settings.from_env(keyless)
    with pytest.raises(KeyringError):
        parse_keyring('{"current": "k1", "k1": ""}')
    with pytest.raises(KeyringError):
        derive_key(b"", "csrf")


# --- the sign-in callback ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("code", "state", "cookie"),
    [
        ("c", "state-2", "state-1.verifier"),  # another browser's sign-in (login CSRF)
        ("c", "state-1", None),  # no state cookie: not started here, or expired
        ("c", "state-1", "state-1"),  # a cookie without its verifier
        ("c", "", ".verifier"),
        ("c", "Đ", "state-1.verifier"),  # not ASCII: refused, not a TypeError
        (None, "state-1", "state-1.verifier"),  # the provider answered ?error=... instead of a code
    ],
)
def test_a_callback_that_is_not_this_browsers_sign_in_is_refused_before_the_provider_is_called(code, state, cookie):
    from chalicelib.api.session import finish_sign_in
    from chalicelib.auth.tokens import TokenConfig, Unauthenticated

    config = TokenConfig("https://idp.invalid", "console", "https://idp.invalid/jwks")
    # sockets are off here: reaching the provider would fail with another error
    with pytest.raises(Unauthenticated) as caught:
        finish_sign_in(config, code, state, cookie, "https://par.gov.vn/admin/callback")
    assert caught.value.status == 401 and "đăng nhập lại" in caught.value.message_vi
