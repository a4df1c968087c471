"""Fieldwork over the live stack: an enumerator assigned to sampled villages links a device, downloads the
package, records visits exactly once (resends included), and progress is counted from the stream."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any

import pytest
from ulid import ULID

from tests.integration.helpers import fresh_submissions, post, table_items
from tests.integration.test_authoring import call
from tests.integration.test_sampling import YEAR, ensure_sample

ENUMERATOR = "dieutra.hanoi"  # enumerator, P01


def device_call(stack: Any, method: str, path: str, token: str | None, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(f"{stack.api_url}{path}", data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def assigned(stack: Any) -> tuple[str, dict[str, Any]]:
    """The year's sample and the enumerator's assignment: the first two villages of the sample's first commune."""
    sample_id = ensure_sample(stack)
    status, sample, _ = call(stack, "GET", f"/admin/api/sampling/{YEAR}/samples/{sample_id}", "admin")
    assert status == 200, sample
    villages = [
        {"commune_code": v["commune_code"], "village_code": v["village_code"]} for v in sample["units"]["villages"][:2]
    ]
    path = f"/admin/api/fieldwork/{YEAR}/{sample_id}/assignments/{ENUMERATOR}"
    status, assignment, _ = call(stack, "PUT", path, "quantri.hanoi", {"survey_id": "sipas-2026", "villages": villages})
    assert status == 200, assignment
    return sample_id, assignment


def link(stack: Any) -> str:
    status, linked, _ = call(stack, "POST", "/field/api/device", ENUMERATOR)
    assert status == 201, linked
    assert linked["enumerator"]["agency"] == "P01" and linked["token"].startswith("f1.")
    return str(linked["token"])


def respondent(sample_id: str, village: dict[str, Any], slot: dict[str, Any], adults: int) -> dict[str, int]:
    """The adult the draw picks in this household (docs/FIELDWORK.md "One adult per household")."""
    from chalicelib.domain.sampling import adult_to_interview

    household = f"{village['commune_code']}-{village['village_code']}-{slot['position']}"
    return {"adults": adults, "selected": adult_to_interview(sample_id, household, adults)}


def visit(
    sample_id: str, slot: dict[str, Any], village: dict[str, Any], outcome: str, answers: Any = None, adults: int = 3
) -> dict:
    body: dict[str, Any] = {
        "id": str(ULID()),
        "survey_id": "sipas-2026",
        "household": {
            "year": YEAR,
            "sample_id": sample_id,
            "commune_code": village["commune_code"],
            "village_code": village["village_code"],
            "position": slot["position"],
        },
        "outcome": outcome,
        "paradata": {
            "started_at": "2026-11-30T02:00:00.000Z",
            "ended_at": "2026-11-30T02:14:00.000Z",
            "duration_ms": 812_000,
            "question_ms": {"q1": 5300},
            "device_id": "device-0001-abcdef",
            "app_version": "test",
            "gps_consent": False,
            "gps": {"lat": 21.03, "lon": 105.85, "accuracy_m": 12},
        },
    }
    if answers is not None:
        body["answers"] = answers
    if outcome == "completed":
        body["respondent"] = respondent(sample_id, village, slot, adults)
    return body


def test_an_enumerator_records_visits_once_and_progress_counts_them(live_stack, sipas):
    sample_id, assignment = assigned(live_stack)
    village = assignment["villages"][0]
    main = [h for h in village["households"] if h["replacement"] == 0]
    spare = [h for h in village["households"] if h["replacement"] > 0]
    assert main and spare
    assert all(abs(h["weight"] * h["inclusion_probability"] - 1) < 1e-9 for h in village["households"])
    token = link(live_stack)
    live_stack.drain()
    before = progress_of(live_stack, sample_id)  # other tests may have visited this sample before

    status, package = device_call(live_stack, "GET", "/field/api/package", token)
    assert status == 200, package
    got = next(a for a in package["assignments"] if a["sample_id"] == sample_id)
    assert got["villages"] == assignment["villages"] and got["survey_version"] == 1
    assert package["surveys"]["sipas-2026"]["definition"]["id"] == "sipas-2026"

    answers = [s["answers"] for s in fresh_submissions(sipas, 2)]
    done = visit(sample_id, main[0], village, "completed", answers[0], adults=4)
    status, receipt = device_call(live_stack, "POST", "/field/api/visits", token, done)
    assert status == 201, receipt
    assert receipt["household_id"] == f"{village['commune_code']}-{village['village_code']}-{main[0]['position']}"
    # the device never heard the answer and sends again: the same receipt, nothing new
    status, again = device_call(live_stack, "POST", "/field/api/visits", token, done)
    assert (status, again) == (200, receipt)
    # the same id with other content is refused, not overwritten
    status, clash = device_call(live_stack, "POST", "/field/api/visits", token, {**done, "note": "khác"})
    assert status == 409 and clash["error"]["code"] == "response_id_conflict"

    refused = visit(sample_id, main[1], village, "refused")
    replaced = visit(sample_id, spare[0], village, "completed", answers[1])
    for body in (refused, replaced):
        status, receipt = device_call(live_stack, "POST", "/field/api/visits", token, body)
        assert status == 201, receipt

    live_stack.drain()
    responses = {
        r["response_id"]["S"]: r
        for r in table_items(live_stack, "ResponsesTable")
        if r.get("channel", {}).get("S") == "field"
    }
    stored = responses[done["id"]]
    collection = stored["collection"]["M"]
    assert collection["household_id"]["S"] == receipt_household(done)
    # one adult of the household's four answered: the respondent's weight is the household's × 4
    assert float(collection["household_weight"]["N"]) == main[0]["weight"]
    assert float(collection["household_inclusion_probability"]["N"]) == main[0]["inclusion_probability"]
    assert float(collection["weight"]["N"]) == pytest.approx(main[0]["weight"] * 4)
    assert float(collection["inclusion_probability"]["N"]) == pytest.approx(main[0]["inclusion_probability"] / 4)
    assert float(collection["respondent_probability"]["N"]) == pytest.approx(0.25)
    assert int(collection["adults"]["N"]) == 4
    assert int(collection["selected_adult"]["N"]) == done["respondent"]["selected"]
    assert stored["paradata"]["M"]["enumerator"]["S"] == ENUMERATOR
    assert "gps" not in stored["paradata"]["M"]  # no consent, no position
    assert refused["id"] not in responses and replaced["id"] in responses
    # the sparse index of field interviews holds them and nothing else, not the citizens' web responses
    from chalicelib import wiring

    web = {**fresh_submissions(sipas, 1)[0], "channel": "web"}
    assert post(live_stack, web)[0] == 201
    indexed = list(wiring.responses().iter_field("sipas-2026#1"))
    assert {done["id"], replaced["id"]} <= {r["response_id"] for r in indexed}
    assert indexed and all(r["channel"] == "field" for r in indexed)
    assert len(indexed) < sum(1 for _ in wiring.responses().iter_survey("sipas-2026#1"))

    after = progress_of(live_stack, sample_id)
    gained = {view: {k: after[view][k] - before[view][k] for k in after[view]} for view in after}
    assert gained["national"]["completed"] == 2 and gained["province"]["refused"] == 1
    assert gained["enumerator"] == {"completed": 2, "replaced": 1, "refused": 1, "not_at_home": 0, "vacant": 0}
    assert gained["village"]["completed"] == 2

    # redelivering the stream changes nothing: one marker per visit, whatever ran before
    ids = {done["id"], refused["id"], replaced["id"]}
    markers = [i for i in table_items(live_stack, "FieldworkTable") if i["pk"]["S"].removeprefix("mark#") in ids]
    assert len(markers) == 3


def progress_of(stack: Any, sample_id: str) -> dict[str, dict[str, int]]:
    """The counters this test moves: national, the province's, the enumerator's and the first village's."""
    zero = {"completed": 0, "replaced": 0, "refused": 0, "not_at_home": 0, "vacant": 0}
    path = f"/admin/api/fieldwork/{YEAR}/{sample_id}/progress"
    status, national, _ = call(stack, "GET", path, "admin")
    assert status == 200, national
    status, local, _ = call(stack, "GET", path, "quantri.hanoi")  # a province's manager: their province
    assert status == 200 and local["province_code"] == "01", local
    first = assigned_village(stack, sample_id)
    return {
        "national": national["total"],
        "province": national["provinces"].get("01", zero),
        "enumerator": local["enumerators"].get(ENUMERATOR, zero),
        "village": local["villages"].get(first, zero),
    }


def assigned_village(stack: Any, sample_id: str) -> str:
    status, listed, _ = call(stack, "GET", f"/admin/api/fieldwork/{YEAR}/{sample_id}/assignments", "admin")
    assert status == 200, listed
    mine = next(a for a in listed["assignments"] if a["enumerator"] == ENUMERATOR)
    village = mine["villages"][0]
    return f"{village['commune_code']}/{village['village_code']}"


def receipt_household(body: dict[str, Any]) -> str:
    h = body["household"]
    return f"{h['commune_code']}-{h['village_code']}-{h['position']}"


def test_a_household_outside_the_assignment_and_a_bad_token_are_refused(live_stack, sipas):
    sample_id, assignment = assigned(live_stack)
    token = link(live_stack)
    village = assignment["villages"][0]
    slot = village["households"][0]
    elsewhere = visit(sample_id, {"position": 999_99}, village, "refused")
    status, refused = device_call(live_stack, "POST", "/field/api/visits", token, elsewhere)
    assert status == 403 and refused["error"]["code"] == "household_not_assigned"

    body = visit(sample_id, slot, village, "refused")
    for bad in (None, "f1.e30.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", token[:-2] + "xx"):
        status, error = device_call(live_stack, "POST", "/field/api/visits", bad, body)
        assert status == 401 and error["error"]["code"] == "field_token_invalid", (bad, error)

    # answers that break the survey's rules are refused as on the public route, naming the field; nothing stored
    broken = visit(sample_id, slot, village, "completed", {"q_khong_co": "1"})
    status, error = device_call(live_stack, "POST", "/field/api/visits", token, broken)
    assert status == 400 and error["error"]["code"] == "invalid_submission" and error["error"]["field"], error
    assert not [i for i in table_items(live_stack, "FieldworkTable") if i["pk"]["S"] == f"visit#{broken['id']}"]

    # a completed interview names the adult the draw chose: none, or another one, is refused and nothing stored
    answers = fresh_submissions(sipas, 1)[0]["answers"]
    anonymous = visit(sample_id, slot, village, "completed", answers)
    del anonymous["respondent"]
    right = respondent(sample_id, village, slot, 5)
    other = {
        **visit(sample_id, slot, village, "completed", answers),
        "respondent": {**right, "selected": right["selected"] % 5 + 1},
    }
    for body, field in ((anonymous, "/respondent"), (other, "/respondent/selected")):
        status, error = device_call(live_stack, "POST", "/field/api/visits", token, body)
        assert status == 400 and error["error"]["code"] == "invalid_submission", error
        assert error["error"]["field"] == field, error
        assert not [i for i in table_items(live_stack, "FieldworkTable") if i["pk"]["S"] == f"visit#{body['id']}"]
    assert f"người thứ {right['selected']}" in error["error"]["message"]

    # the public route no longer takes field or paper interviews from anyone
    submission = {**fresh_submissions(sipas, 1)[0], "channel": "field"}
    status, error = post(live_stack, submission)
    assert status == 403 and error["error"]["code"] == "channel_needs_credentials"


def test_a_province_manager_assigns_only_in_their_province(live_stack):
    sample_id = ensure_sample(live_stack)
    status, sample, _ = call(live_stack, "GET", f"/admin/api/sampling/{YEAR}/samples/{sample_id}", "admin")
    village = sample["units"]["villages"][0]
    body = {"survey_id": "sipas-2026", "villages": [{"commune_code": "99999", "village_code": "x"}]}
    path = f"/admin/api/fieldwork/{YEAR}/{sample_id}/assignments/{ENUMERATOR}"
    status, error, _ = call(live_stack, "PUT", path, "quantri.hanoi", body)
    assert status == 422 and error["error"]["field"] == "/villages/0"
    # an account that is not an enumerator cannot be assigned
    other = f"/admin/api/fieldwork/{YEAR}/{sample_id}/assignments/nhaplieu.hanoi"
    one = {"survey_id": "sipas-2026", "villages": [{k: village[k] for k in ("commune_code", "village_code")}]}
    status, error, _ = call(live_stack, "PUT", other, "quantri.hanoi", one)
    assert status == 422 and error["error"]["code"] == "invalid_assignment"
    # Huế's analyst holds no fieldwork grant
    status, _, _ = call(live_stack, "PUT", path, "phantich.hue", one)
    assert status == 403


def test_the_console_page_assigns_and_shows_progress_by_village_and_enumerator(live_stack):
    from tests.integration.test_authoring import _page

    sample_id, assignment = assigned(live_stack)
    village = assignment["villages"][0]
    key = f"{village['commune_code']}/{village['village_code']}"
    base = f"/admin/fieldwork?year={YEAR}&sample_id={sample_id}"
    status, page, _ = _page(live_stack, "GET", base, "quantri.hanoi")  # their province without asking
    assert status == 200 and 'id="progress-villages"' in page and 'id="progress-enumerators"' in page
    assert ENUMERATOR in page and f'value="{key}"' in page

    form = {
        "year": str(YEAR),
        "sample_id": sample_id,
        "province": "01",
        "enumerator": ENUMERATOR,
        "survey_id": "sipas-2026",
    }
    status, page, _ = _page(live_stack, "POST", "/admin/fieldwork", "quantri.hanoi", {**form, "enumerator": ""})
    assert status == 400 and "điều tra viên" in page
    status, _, headers = _page(live_stack, "POST", "/admin/fieldwork", "quantri.hanoi", {**form, "village": key})
    assert status == 303 and headers["Location"].endswith("&done=assigned")
    status, listed, _ = call(live_stack, "GET", f"/admin/api/fieldwork/{YEAR}/{sample_id}/assignments", "admin")
    mine = next(a for a in listed["assignments"] if a["enumerator"] == ENUMERATOR)
    assert [f"{v['commune_code']}/{v['village_code']}" for v in mine["villages"]] == [key]

    status, page, _ = _page(live_stack, "GET", base, "admin")  # the Ministry: by province
    assert status == 200 and 'id="progress-provinces"' in page and "province=01" in page
    assert 'href="/admin/fieldwork"' in _page(live_stack, "GET", "/admin", "quantri.hanoi")[1]
    assert 'href="/admin/fieldwork"' not in _page(live_stack, "GET", "/admin", "phantich.hue")[1]
    status, _, _ = _page(live_stack, "GET", base + "&province=46", "quantri.hanoi")
    assert status == 403


def test_make_runs_fieldwork_seed_leaves_a_sample_an_assignment_and_counted_visits(live_stack, sipas):
    from infra.local.seed.fieldwork import seed_fieldwork

    counts = seed_fieldwork(sipas, year=2031)
    live_stack.drain()
    status, year, _ = call(live_stack, "GET", "/admin/api/sampling/2031", "khaosat")
    assert status == 200 and len(year["samples"]) == 1 and len(year["frames"]) == 1
    sample_id = year["samples"][0]["sample_id"]
    status, progress, _ = call(live_stack, "GET", f"/admin/api/fieldwork/2031/{sample_id}/progress", "khaosat")
    assert status == 200
    total = progress["total"]
    assert {k: total[k] for k in counts} == counts and counts["completed"] > 10
    status, listed, _ = call(live_stack, "GET", f"/admin/api/fieldwork/2031/{sample_id}/assignments", "quantri.hanoi")
    assert [a["enumerator"] for a in listed["assignments"]] == [ENUMERATOR]
