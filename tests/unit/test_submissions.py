"""Submission service: one stored response per ULID, clear errors, personal data hashed."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timezone
from typing import Any

import pytest

from chalicelib.domain import errors
from chalicelib.domain.submissions import ClientInfo, IdentifierHasher, SubmissionService
from infra.local.seed.responses import generate_submissions
from tests.shared.fakes import AllLocations, FakeCatalog, FakeResponseStore, sipas_definition

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def definition() -> dict[str, Any]:
    return sipas_definition()


@pytest.fixture
def store() -> FakeResponseStore:
    return FakeResponseStore()


@pytest.fixture
def service(definition: dict[str, Any], store: FakeResponseStore) -> SubmissionService:
    return SubmissionService(
        FakeCatalog(definition),
        store,
        AllLocations(),
        IdentifierHasher(b"k", "k1"),
        max_body_bytes=65536,
        clock=lambda: NOW,
    )


@pytest.fixture
def body(definition: dict[str, Any]) -> dict[str, Any]:
    from chalicelib.reference.geography import load_geography

    generated = generate_submissions(definition, load_geography("vn-2025"), 5, seed=11, now=NOW)
    return copy.deepcopy(generated[0])


def submit(service: SubmissionService, body: dict[str, Any]) -> Any:
    return service.submit(
        "sipas-2026", service.parse_body(json.dumps(body).encode(), "application/json"), ClientInfo("203.0.113.9", "UA")
    )


def test_valid_submission_is_stored_once_and_a_retry_returns_the_same_receipt(service, store, body):
    # GIVEN a valid submission WHEN it is sent twice
    first = submit(service, body)
    second = submit(service, body)
    # THEN one response is stored and both answers carry the same receipt
    assert first.created and not second.created
    assert first.to_dict() == second.to_dict()
    assert store.writes == 1 and list(store.items) == [body["id"]]


def test_same_id_with_other_content_is_a_conflict_and_keeps_the_first(service, store, body):
    submit(service, body)
    stored = copy.deepcopy(store.items)
    other = copy.deepcopy(body)
    other["answers"]["q9_01"] = "1" if body["answers"]["q9_01"] != "1" else "2"
    with pytest.raises(errors.ResponseIdConflict) as caught:
        submit(service, other)
    assert caught.value.status == 409 and caught.value.field == "/id"
    assert store.items == stored


@pytest.mark.parametrize(
    ("mutate", "error", "field"),
    [
        (lambda b: b["answers"].__setitem__("q9_01", "7"), errors.InvalidSubmission, "/answers/q9_01"),
        (lambda b: b["answers"].pop("q9_02"), errors.InvalidSubmission, "/answers/q9_02"),
        (lambda b: b["answers"].__setitem__("nope", "1"), errors.InvalidSubmission, "/answers/nope"),
        (lambda b: b.__setitem__("id", "not-a-ulid"), errors.InvalidSubmission, "/id"),
        (lambda b: b.__setitem__("province", "99"), errors.InvalidLocation, "/province"),
        (
            lambda b: b.__setitem__("commune", "00004") if b["province"] != "01" else b.__setitem__("commune", "31117"),
            errors.InvalidLocation,
            "/commune",
        ),
        (lambda b: b.__setitem__("survey_version", 7), errors.SurveyVersionMismatch, "/survey_version"),
    ],
)
def test_bad_input_gets_its_error_and_stores_nothing(service, store, body, mutate, error, field):
    mutate(body)
    with pytest.raises(error) as caught:
        submit(service, body)
    assert caught.value.field == field
    assert caught.value.to_dict()["error"]["message"]  # a Vietnamese sentence
    assert store.items == {}


@pytest.mark.parametrize(
    ("raw", "content_type", "error"),
    [
        (b"{", "application/json", errors.InvalidJson),
        (b"[1, 2]", "application/json", errors.InvalidJson),
        (b"<a/>", "application/xml", errors.UnsupportedMediaType),
        (b"{" + b" " * 70000 + b"}", "application/json", errors.BodyTooLarge),
    ],
)
def test_unreadable_bodies(service, raw, content_type, error):
    with pytest.raises(error):
        service.parse_body(raw, content_type)


def test_closed_or_unknown_survey(definition, store, body):
    closed = {**definition, "status": "closed"}
    service = SubmissionService(
        FakeCatalog(closed), store, AllLocations(), IdentifierHasher(b"k", "k1"), clock=lambda: NOW
    )
    with pytest.raises(errors.SurveyClosed):
        service.submit("sipas-2026", body, ClientInfo())
    with pytest.raises(errors.SurveyNotFound):
        service.submit("nope-2026", body, ClientInfo())
    assert store.items == {}


def test_personal_identifiers_are_stored_only_as_keyed_hashes(service, store, body):
    body["contact"] = {"phone": "0912 345 678", "device_id": "device-abcdefgh"}
    submit(service, body)
    stored = json.dumps(store.items[body["id"]], ensure_ascii=False)
    assert (
        "0912" not in stored
        and "345 678" not in stored
        and "device-abcdefgh" not in stored
        and "203.0.113.9" not in stored
    )
    hashes = store.items[body["id"]]["identifiers"]
    assert set(hashes) == {"phone", "device_id", "ip"}
    # the same phone written differently links to the same hash; another key gives another hash
    assert IdentifierHasher(b"k", "k1")("phone", "+84912345678") == hashes["phone"]
    assert IdentifierHasher(b"other", "k2")("phone", "0912345678") != hashes["phone"]


def test_other_text_needs_the_other_option(service, store, body, definition):
    q2 = next(q for s in definition["sections"] for q in s["questions"] if q["id"] == "q2")
    plain_option = next(o["value"] for o in q2["options"] if not o.get("other_text"))
    body["answers"]["q2"] = [plain_option]
    body["answers"]["q2__other"] = "Zalo"
    with pytest.raises(errors.InvalidSubmission) as caught:
        submit(service, body)
    assert caught.value.field == "/answers/q2__other"
    assert store.items == {}


def test_free_text_is_normalised_to_nfc(service, store, body):
    body["answers"]["q10_other"] = "Cải cách thủ tục"  # decomposed diacritics (NFD)
    submit(service, body)
    assert store.items[body["id"]]["answers"]["q10_other"] == "Cải cách thủ tục"


def test_a_keyring_without_its_current_key_is_refused():
    from chalicelib.store.secrets import KeyringError, parse_keyring

    assert parse_keyring('{"current": "k2", "k1": "a", "k2": "b"}').current == b"b"
    with pytest.raises(KeyringError):
        parse_keyring('{"current": "k3", "k1": "a"}')
