"""Fieldwork rules without a network: device tokens, assignments, visits exactly once, progress counted once."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest

from chalicelib.auth.permissions import Grant
from chalicelib.auth.principal import Forbidden, Principal
from chalicelib.contracts import validator
from chalicelib.domain.errors import InvalidSubmission, ResponseIdConflict
from chalicelib.domain.field_progress import ProgressService
from chalicelib.domain.fieldwork import (
    DeviceIdentity,
    DeviceTokens,
    FieldTokenExpired,
    FieldTokenInvalid,
    FieldworkService,
    HouseholdNotAssigned,
    InvalidAssignment,
    TransactionConflict,
)
from chalicelib.domain.sampling import adult_to_interview
from chalicelib.domain.sampling_service import sample_to_json
from chalicelib.domain.submissions import IdentifierHasher, SubmissionService
from chalicelib.reference.geography import load_geography
from tests.shared.fakes import FakeResponseStore, sipas_definition
from tests.shared.sampling_frames import frame_of

RESPONSES = "responses"


class FakeFieldStore:
    """The FieldStore port in memory, with DynamoDB's all-or-nothing transactions and conditions."""

    def __init__(self) -> None:
        self.items: dict[tuple[str, str], dict[str, Any]] = {}
        self.responses: dict[str, dict[str, Any]] = {}
        self.transactions = 0

    def get(self, pk: str, sk: str = "-", consistent: bool = False) -> dict[str, Any] | None:
        found = self.items.get((pk, sk))
        return copy.deepcopy(found) if found else None

    def query(self, pk: str, sk_prefix: str = "") -> list[dict[str, Any]]:
        return [copy.deepcopy(v) for (p, s), v in sorted(self.items.items()) if p == pk and s.startswith(sk_prefix)]

    def put_new(self, item: Mapping[str, Any]) -> bool:
        key = (item["pk"], item["sk"])
        if key in self.items:
            return False
        self.items[key] = copy.deepcopy(dict(item))
        return True

    def put_action(self, item: Mapping[str, Any], new: bool = True, table: str | None = None) -> dict[str, Any]:
        return {"Put": {"table": table, "item": copy.deepcopy(dict(item)), "new": new}}

    def add_action(self, pk: str, sk: str, counts: Mapping[str, int]) -> dict[str, Any]:
        return {"Add": {"key": (pk, sk), "counts": dict(counts)}}

    def transact(self, actions: Sequence[dict[str, Any]]) -> None:
        reasons = []
        for action in actions:
            put = action.get("Put")
            failed = False
            if put and put["new"]:
                item = put["item"]
                failed = (
                    item["response_id"] in self.responses
                    if put["table"] == RESPONSES
                    else (item["pk"], item["sk"]) in self.items
                )
            reasons.append("ConditionalCheckFailed" if failed else "None")
        if any(r != "None" for r in reasons):
            raise TransactionConflict(reasons)
        self.transactions += 1
        for action in actions:
            if "Put" in action:
                item = action["Put"]["item"]
                if action["Put"]["table"] == RESPONSES:
                    self.responses[item["response_id"]] = item
                else:
                    self.items[(item["pk"], item["sk"])] = item
            else:
                key, counts = action["Add"]["key"], action["Add"]["counts"]
                row = self.items.setdefault(key, {"pk": key[0], "sk": key[1]})
                for name, n in counts.items():
                    row[name] = row.get(name, 0) + n


@dataclass
class User:
    username: str
    name: str
    roles: tuple[str, ...]
    agency: str
    enabled: bool = True


class Directory:
    users: ClassVar[dict[str, User]] = {
        "dtv.hanoi": User("dtv.hanoi", "Điều tra viên", ("enumerator",), "P01"),
        "dtv.hue": User("dtv.hue", "ĐTV Huế", ("enumerator",), "P46"),
        "clerk": User("clerk", "Nhập liệu", ("data_entry",), "P01"),
    }

    def get_user(self, username: str) -> Any:
        from chalicelib.domain.errors import NotFound

        if username not in self.users:
            raise NotFound()
        return self.users[username]


class Recorder:
    def __init__(self) -> None:
        self.entries: list[tuple[str, str, Any, Any]] = []

    def record(self, actor: Any, action: str, target_type: str, target_id: str, before: Any, after: Any) -> None:
        self.entries.append((action, target_id, before, after))


class Catalog:
    def __init__(self) -> None:
        from chalicelib.domain.survey import Survey

        definition = sipas_definition()
        self.survey = Survey.from_definition(definition)

    def get(self, survey_id: str, version: int | None = None) -> Any:
        from chalicelib.domain.errors import SurveyNotFound

        if survey_id != self.survey.id:
            raise SurveyNotFound()
        return self.survey


def principal(role: str, scope: str, name: str = "manager") -> Principal:
    return Principal(sub=name, name=name, grants=(Grant(role, scope),), username=name)


@pytest.fixture(scope="module")
def sample() -> dict[str, Any]:
    from chalicelib.domain.sampling import Design, draw_sample

    frame = frame_of(load_geography("vn-2025"), seed=3, provinces=["01", "46"])
    drawn = draw_sample(frame, Design(communes=2, villages_per_commune=2, households_per_village=4, replacements=2), 7)
    return sample_to_json(drawn)


@pytest.fixture
def world(sample: dict[str, Any]) -> tuple[FieldworkService, FakeFieldStore, Recorder]:
    store, recorder, catalog = FakeFieldStore(), Recorder(), Catalog()
    checker = SubmissionService(catalog, FakeResponseStore(), lambda _g: _Places(), IdentifierHasher(b"k" * 32, "k1"))
    service = FieldworkService(
        store=store,
        samples=lambda year, sample_id: sample,
        catalog=catalog,
        checker=checker,
        directory=Directory(),
        recorder=recorder,
        responses_table=RESPONSES,
        visit_validator=validator("field-visit"),
        assignment_validator=validator("field-assignment"),
    )
    return service, store, recorder


class _Places:
    def province(self, code: str) -> object | None:
        return object()

    def contains(self, province_code: str, commune_code: str) -> bool:
        return True


def villages_of(sample: dict[str, Any], province: str) -> list[dict[str, str]]:
    communes = {c["commune_code"] for c in sample["units"]["communes"] if c["province_code"] == province}
    return [
        {"commune_code": v["commune_code"], "village_code": v["village_code"]}
        for v in sample["units"]["villages"]
        if v["commune_code"] in communes
    ]


def device(username: str = "dtv.hanoi") -> DeviceIdentity:
    return DeviceIdentity(username, "ĐTV", "P01", 0.0, 2e9)


def visit_body(assignment: dict[str, Any], outcome: str, index: int = 0, **extra: Any) -> dict[str, Any]:
    village = assignment["villages"][0]
    slot = village["households"][index]
    body = {
        "id": f"01J{index:023d}",
        "survey_id": "sipas-2026",
        "household": {
            "year": 2026,
            "sample_id": "S1",
            "commune_code": village["commune_code"],
            "village_code": village["village_code"],
            "position": slot["position"],
        },
        "outcome": outcome,
        "paradata": {"device_id": "device-123456", "duration_ms": 600_000},
    }
    if outcome == "completed":
        body["respondent"] = respondent(village, slot, 3)
    return body | extra


def respondent(village: dict[str, Any], slot: dict[str, Any], adults: int) -> dict[str, int]:
    """The right pick for a household of the unit tests' sample S1."""
    from chalicelib.domain.fieldwork import household_id

    hh = household_id(village["commune_code"], village["village_code"], int(slot["position"]))
    return {"adults": adults, "selected": adult_to_interview("S1", hh, adults)}


# --- device tokens ---------------------------------------------------------------------------------
def test_a_device_token_speaks_for_its_enumerator_until_it_expires_or_access_changes() -> None:
    now = [1_000_000.0]
    revoked: dict[str, float] = {}
    tokens = DeviceTokens(lambda: [b"new" * 11, b"old" * 11], revoked.get, clock=lambda: now[0], days=30)
    issued = tokens.issue(principal("enumerator", "P01", "dtv.hanoi"))
    identity = tokens.verify(issued["token"])
    assert (identity.username, identity.agency) == ("dtv.hanoi", "P01")

    body = issued["token"].rpartition(".")[0]
    for forged in (None, "", "f1.x.y", body + "." + ("A" * 43), issued["token"].replace("f1.", "f2.")):
        with pytest.raises(FieldTokenInvalid):
            tokens.verify(forged)
    # a token signed with the previous key of the ring still verifies
    rotated = DeviceTokens(lambda: [b"old" * 11], revoked.get, clock=lambda: now[0])
    assert DeviceTokens(lambda: [b"new" * 11, b"old" * 11], revoked.get, clock=lambda: now[0]).verify(
        rotated.issue(principal("enumerator", "P01", "dtv.hanoi"))["token"]
    )
    revoked["dtv.hanoi"] = now[0] + 1  # roles edited or account disabled after the link
    with pytest.raises(FieldTokenExpired):
        tokens.verify(issued["token"])
    revoked.clear()
    now[0] += 30 * 86400 + 1
    with pytest.raises(FieldTokenExpired):
        tokens.verify(issued["token"])


# --- assignments -----------------------------------------------------------------------------------
def test_a_province_manager_assigns_their_enumerator_to_sampled_villages_with_their_slots(world, sample) -> None:
    service, store, recorder = world
    villages = villages_of(sample, "01")[:2]
    assigned = service.assign(
        principal("agency_admin", "P01"), 2026, "S1", "DTV.Hanoi", {"survey_id": "sipas-2026", "villages": villages}
    )
    assert assigned["enumerator"] == "dtv.hanoi" and assigned["province_code"] == "01"
    slots = [h for v in assigned["villages"] for h in v["households"]]
    assert len(slots) == 2 * (4 + 2)
    assert all(abs(h["weight"] * h["inclusion_probability"] - 1) < 1e-9 for h in slots)
    assert recorder.entries and recorder.entries[0][0] == "fieldwork.assign"
    # the same assignment is found from the enumerator (what the device reads)
    assert (
        store.get("enumerator#dtv.hanoi", "2026#S1")["villages"]
        == store.get("assign#2026#S1", "enum#dtv.hanoi")["villages"]
    )


@pytest.mark.parametrize(
    ("who", "username", "province", "error"),
    [
        (("agency_admin", "P01"), "dtv.hanoi", "46", Forbidden),  # another province's villages
        (("agency_admin", "P01"), "dtv.hue", "01", InvalidAssignment),  # another province's enumerator
        (("agency_admin", "P01"), "clerk", "01", InvalidAssignment),  # not an enumerator
        (("agency_admin", "P01"), "nobody", "01", InvalidAssignment),
    ],
)
def test_assignments_stay_within_the_province(world, sample, who, username, province, error) -> None:
    service, store, _ = world
    body = {"survey_id": "sipas-2026", "villages": villages_of(sample, province)[:1]}
    with pytest.raises(error):
        service.assign(principal(*who), 2026, "S1", username, body)
    assert not store.items


def test_an_assignment_refuses_villages_outside_the_sample_or_across_provinces(world, sample) -> None:
    service, _, _ = world
    national = principal("survey_manager", "national")
    with pytest.raises(InvalidAssignment) as raised:
        service.assign(
            national,
            2026,
            "S1",
            "dtv.hanoi",
            {"survey_id": "sipas-2026", "villages": [{"commune_code": "99999", "village_code": "1"}]},
        )
    assert raised.value.field == "/villages/0"
    mixed = villages_of(sample, "01")[:1] + villages_of(sample, "46")[:1]
    with pytest.raises(InvalidAssignment):
        service.assign(national, 2026, "S1", "dtv.hanoi", {"survey_id": "sipas-2026", "villages": mixed})


# --- visits ----------------------------------------------------------------------------------------
@pytest.fixture
def assignment(world, sample) -> dict[str, Any]:
    service, _, _ = world
    body = {"survey_id": "sipas-2026", "villages": villages_of(sample, "01")[:1]}
    return service.assign(principal("survey_manager", "national"), 2026, "S1", "dtv.hanoi", body)


def test_a_refusal_is_a_visit_only_and_a_resend_is_the_same_receipt(world, assignment) -> None:
    service, store, _ = world
    body = visit_body(assignment, "refused")
    first = service.record_visit(device(), body)
    again = service.record_visit(device(), copy.deepcopy(body))
    assert first.created and not again.created and again.to_dict() == first.to_dict()
    assert not store.responses
    with pytest.raises(ResponseIdConflict):
        service.record_visit(device(), body | {"note": "đổi nội dung"})
    with pytest.raises(InvalidSubmission):  # only a completed interview has answers
        service.record_visit(device(), visit_body(assignment, "refused", 1, answers={"x": "1"}))


def test_a_completed_interview_carries_its_selection_and_no_position_without_consent(world, assignment) -> None:
    from infra.local.seed.responses import generate_submissions

    service, store, _ = world
    answers = generate_submissions(sipas_definition(), load_geography("vn-2025"), 1, seed=4)[0]["answers"]
    gps = {"lat": 21.0, "lon": 105.8}
    body = visit_body(assignment, "completed", 4, answers=answers)  # a replacement household
    body["paradata"] |= {"gps": gps, "gps_consent": False}
    service.record_visit(device(), body)
    response = store.responses[body["id"]]
    slot = assignment["villages"][0]["households"][4]
    assert slot["replacement"] == 1
    assert response["channel"] == "field" and response["collection"]["household_weight"] == slot["weight"]
    assert response["collection"]["weight"] == slot["weight"] * 3  # one adult of three was interviewed
    assert response["collection"]["replacement"] == 1 and response["paradata"]["enumerator"] == "dtv.hanoi"
    assert "gps" not in response["paradata"] and "device_id" in response["identifiers"]
    assert store.get(f"visit#{body['id']}")["response_id"] == body["id"]

    consented = visit_body(assignment, "completed", 5, answers=answers)
    consented["paradata"] |= {"gps": gps, "gps_consent": True}
    service.record_visit(device(), consented)
    assert store.responses[consented["id"]]["paradata"]["gps"] == gps


# --- one adult per household ----------------------------------------------------------------------------
def test_the_adult_to_interview_is_fixed_by_the_sample_and_household_and_checkable() -> None:
    # pinned values: the field app's JavaScript (SubtleCrypto) must give the same (tests/e2e/test_field_app.py)
    picks = [adult_to_interview("2026-s1", f"00004-V1-{i}", n) for i, n in [(1, 1), (2, 3), (3, 5), (4, 6), (5, 30)]]
    assert picks == [1, 2, 2, 2, 21]
    # SHA-256("2026-s1|00004-V1-2") starts c2c3ba771e9fc3b1: the first 8 bytes, big-endian, mod 3, plus 1
    assert adult_to_interview("2026-s1", "00004-V1-2", 3) == 0xC2C3BA771E9FC3B1 % 3 + 1
    for bad in (0, 31, -1, True, 2.0):
        with pytest.raises(ValueError):
            adult_to_interview("S1", "00004-V1-1", bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("adults", [2, 3, 4, 6, 7, 30])
def test_each_adult_of_a_household_is_equally_likely_over_many_households(adults: int) -> None:
    households = 60_000
    counts = [0] * adults
    for i in range(households):
        k = adult_to_interview("2026-s7", f"{i % 3000:05d}-T{i // 3000}-{i % 17 + 1}", adults)
        assert 1 <= k <= adults
        counts[k - 1] += 1
    expected = households / adults
    chi2 = sum((c - expected) ** 2 / expected for c in counts)
    # 3 df + 12 is above the 99.9th percentile of chi-square with df = adults - 1 (10.8 at 1 df, 58.3 at 29)
    assert chi2 < 3 * (adults - 1) + 12, (chi2, counts)
    # and across sample ids, one household's pick is spread too (not stuck on one adult)
    picks = {adult_to_interview(f"2026-s{s}", "00004-V1-1", adults) for s in range(200)}
    assert picks == set(range(1, adults + 1))


def test_a_completed_interview_names_the_adult_the_draw_chose(world, assignment) -> None:
    from infra.local.seed.responses import generate_submissions

    service, store, _ = world
    answers = generate_submissions(sipas_definition(), load_geography("vn-2025"), 1, seed=4)[0]["answers"]
    village = assignment["villages"][0]
    slot = village["households"][0]
    missing = visit_body(assignment, "completed", 0, answers=answers)
    del missing["respondent"]
    with pytest.raises(InvalidSubmission) as caught:
        service.record_visit(device(), missing)
    assert caught.value.field == "/respondent" and "18 tuổi" in caught.value.message_vi

    right = respondent(village, slot, 5)
    wrong = visit_body(
        assignment, "completed", 0, answers=answers, respondent={**right, "selected": right["selected"] % 5 + 1}
    )
    with pytest.raises(InvalidSubmission) as caught:
        service.record_visit(device(), wrong)
    assert caught.value.field == "/respondent/selected"
    assert f"người thứ {right['selected']}" in caught.value.message_vi
    assert f"number {right['selected']}" in caught.value.message_en
    for shape in ({"adults": 0, "selected": 1}, {"adults": 31, "selected": 1}, {"adults": 2}):
        with pytest.raises(InvalidSubmission) as caught:
            service.record_visit(device(), visit_body(assignment, "completed", 0, answers=answers, respondent=shape))
        assert caught.value.field.startswith("/respondent")
    assert not store.responses and not [k for k in store.items if k[0].startswith("visit#")]

    body = visit_body(assignment, "completed", 0, answers=answers, respondent=right)
    service.record_visit(device(), body)
    collection = store.responses[body["id"]]["collection"]
    assert collection["adults"] == 5 and collection["selected_adult"] == right["selected"]
    assert collection["respondent_probability"] == pytest.approx(1 / 5)
    assert collection["household_inclusion_probability"] == slot["inclusion_probability"]
    assert collection["household_weight"] == slot["weight"]
    assert collection["inclusion_probability"] == pytest.approx(slot["inclusion_probability"] / 5)
    assert collection["weight"] == pytest.approx(slot["weight"] * 5)
    assert collection["weight"] * collection["inclusion_probability"] == pytest.approx(1)
    assert store.get(f"visit#{body['id']}")["adults"] == 5

    # a refusal by the chosen adult may say who it was (checked the same way); it needs no respondent
    refused = visit_body(assignment, "refused", 1, respondent=respondent(village, village["households"][1], 2))
    service.record_visit(device(), refused)
    assert store.get(f"visit#{refused['id']}")["selected_adult"] == refused["respondent"]["selected"]
    service.record_visit(device(), visit_body(assignment, "not_at_home", 2))


def test_only_households_of_the_enumerators_own_villages_are_taken(world, assignment) -> None:
    service, store, _ = world
    body = visit_body(assignment, "refused")
    with pytest.raises(HouseholdNotAssigned):
        service.record_visit(device("dtv.hue"), body)
    outside = copy.deepcopy(body)
    outside["household"]["position"] = 100_000
    with pytest.raises(HouseholdNotAssigned):
        service.record_visit(device(), outside)
    with pytest.raises(HouseholdNotAssigned):
        service.record_visit(device(), body | {"survey_id": "pci-2026"})
    assert not [k for k in store.items if k[0].startswith("visit#")]


# --- progress --------------------------------------------------------------------------------------
def test_progress_counts_each_visit_once_by_province_village_and_enumerator(world, assignment) -> None:
    service, store, _ = world
    for index, outcome in enumerate(("refused", "not_at_home", "vacant")):
        service.record_visit(device(), visit_body(assignment, outcome, index))
    visits = [v for (pk, _), v in store.items.items() if pk.startswith("visit#")]
    visits.append({**visits[0], "outcome": "completed", "replacement": 1, "visit_id": "R1"})
    progress = ProgressService(store)
    assert progress.count(visits).counted == 4
    assert progress.count(visits).duplicates == 4  # a redelivered batch changes nothing
    national = progress.progress(2026, "S1")
    assert national["total"] == {"completed": 1, "replaced": 1, "refused": 1, "not_at_home": 1, "vacant": 1}
    hanoi = progress.progress(2026, "S1", "01")
    assert hanoi["enumerators"]["dtv.hanoi"]["refused"] == 1 and national["provinces"]["01"]["vacant"] == 1
    village = assignment["villages"][0]
    assert hanoi["villages"][f"{village['commune_code']}/{village['village_code']}"]["completed"] == 1


def test_an_assignment_is_ended_by_an_empty_list_only_where_one_exists(world, sample) -> None:
    service, store, _ = world
    manager = principal("agency_admin", "P01")
    with pytest.raises(InvalidAssignment):  # nothing to end: no write, whoever the enumerator
        service.assign(manager, 2026, "S1", "dtv.hue", {"survey_id": "sipas-2026", "villages": []})
    assert not store.items
    service.assign(
        manager, 2026, "S1", "dtv.hanoi", {"survey_id": "sipas-2026", "villages": villages_of(sample, "01")[:1]}
    )
    ended = service.assign(manager, 2026, "S1", "dtv.hanoi", {"survey_id": "sipas-2026", "villages": []})
    assert ended["villages"] == [] and ended["province_code"] == "01"
    with pytest.raises(Forbidden):  # Huế's manager cannot touch Hà Nội's assignment
        service.assign(
            principal("agency_admin", "P46"), 2026, "S1", "dtv.hanoi", {"survey_id": "sipas-2026", "villages": []}
        )


def test_a_household_is_interviewed_once_and_only_by_its_provinces_enumerators(world, assignment) -> None:
    from chalicelib.domain.fieldwork import HouseholdAlreadyInterviewed
    from infra.local.seed.responses import generate_submissions

    service, store, _ = world
    answers = generate_submissions(sipas_definition(), load_geography("vn-2025"), 1, seed=4)[0]["answers"]
    first = visit_body(assignment, "completed", 1, answers=answers)
    assert service.record_visit(device(), first).created
    assert store.responses[first["id"]]["attributed"] is True  # counted by channel and agency
    again = {**first, "id": "01K00000000000000000000001"}  # another visit id: a phone that forgot it sent one
    with pytest.raises(HouseholdAlreadyInterviewed):
        service.record_visit(device(), again)
    assert again["id"] not in store.responses and ("visit#" + again["id"], "-") not in store.items
    assert not service.record_visit(device(), first).created  # the honest resend is still the same receipt
    # an enumerator moved to Huế keeps no reach into Hà Nội's households, even with the assignment left over
    moved = DeviceIdentity("dtv.hanoi", "ĐTV", "P46", 0.0, 2e9)
    with pytest.raises(HouseholdNotAssigned):
        service.record_visit(moved, visit_body(assignment, "refused", 2))


def test_contention_is_a_busy_store_not_a_conflict_and_progress_retries_it(world, assignment) -> None:
    from chalicelib.domain.fieldwork import StoreBusy

    service, store, _ = world
    real = store.transact
    calls = {"n": 0}

    def contended(actions: Sequence[dict[str, Any]]) -> None:
        calls["n"] += 1
        if calls["n"] == 1:
            raise TransactionConflict(["None", "TransactionConflict"])
        real(actions)

    store.transact = contended  # type: ignore[method-assign]
    from infra.local.seed.responses import generate_submissions

    answers = generate_submissions(sipas_definition(), load_geography("vn-2025"), 1, seed=5)[0]["answers"]
    body = visit_body(assignment, "completed", 0, answers=answers)
    with pytest.raises(StoreBusy):  # nothing written: the device sends again
        service.record_visit(device(), body)
    assert body["id"] not in store.responses
    assert service.record_visit(device(), body).created

    calls["n"] = 0
    visits = [v for (pk, _), v in store.items.items() if pk.startswith("visit#")]
    sleeps: list[float] = []
    outcome = ProgressService(store, sleep=sleeps.append).count(visits)
    assert (outcome.counted, outcome.duplicates, len(sleeps)) == (1, 0, 1)  # tried again after a pause
    assert ProgressService(store).progress(2026, "S1")["total"]["completed"] == 1
