"""Paper forms through the live stack: two clerks key a form blind, a third resolves, files import all or nothing."""

from __future__ import annotations

import contextlib
import secrets
from typing import Any

import pytest

from tests.integration.test_authoring import call
from tests.shared.paper_forms import forms_csv, good_answers, paper_definition

SURVEY = "giay-2026"
WALK_BATCH = "WALK"  # the batch the permission walk reads, in P01 and in P79
CLERK, CLERK2, CLERK3 = "nhaplieu.hanoi", "nhaplieu2.hanoi", "nhaplieu3.hanoi"
_READY: dict[str, bool] = {}


def ensure_paper_survey() -> None:
    if "survey" not in _READY:
        from chalicelib.admin import publish_survey

        publish_survey(paper_definition(SURVEY))
        _READY["survey"] = True


def ensure_walk_batch(agency: str) -> None:
    """A batch WALK with form 1 keyed once, in the agency (written in-process: P79 has no seeded clerk)."""
    from chalicelib import wiring
    from chalicelib.auth.permissions import Grant
    from chalicelib.auth.principal import Principal
    from chalicelib.domain.paper import BatchExists

    ensure_paper_survey()
    if agency in _READY:
        return
    clerk = Principal(f"walk-clerk-{agency}", "Walk", (Grant("data_entry", agency),))
    service = wiring.paper_service()
    with contextlib.suppress(BatchExists):
        service.open_batch(clerk, agency, {"batch": WALK_BATCH, "survey_id": SURVEY, "survey_version": 1})
    service.enter(clerk, agency, WALK_BATCH, {"form_number": "1", "answers": good_answers(1)})
    _READY[agency] = True


def stored_response(stack: Any, response_id: str) -> dict[str, Any]:
    from chalicelib.store.fieldwork import from_wire

    table = stack.physical_id("ResponsesTable")
    item = stack.client("dynamodb").get_item(TableName=table, Key={"response_id": {"S": response_id}})["Item"]
    return from_wire(item)


@pytest.fixture
def batch(live_stack: Any) -> str:
    ensure_paper_survey()
    code = "L" + secrets.token_hex(4).upper()
    status, opened, _ = call(
        live_stack,
        "POST",
        "/admin/api/paper/P01/batches",
        CLERK,
        {"batch": code, "survey_id": SURVEY, "survey_version": 1},
    )
    assert status == 201, opened
    assert opened["province"] == "01"  # a Hà Nội clerk's forms are Hà Nội's
    return f"/admin/api/paper/P01/batches/{code}"


def test_two_clerks_key_a_form_blind_and_agreeing_entries_create_the_response(live_stack, batch):
    form = {"form_number": "101", "answers": good_answers(101)}
    status, first, _ = call(live_stack, "POST", f"{batch}/forms", CLERK, form)
    assert status == 201 and first["state"] == "awaiting_second", first

    status, refused, _ = call(
        live_stack, "POST", f"{batch}/forms", CLERK, {**form, "answers": {**form["answers"], "c1": "4"}}
    )
    assert status == 409 and refused["error"]["code"] == "paper_same_clerk"

    status, seen, _ = call(live_stack, "GET", f"{batch}/forms/101", CLERK2)  # blind: no answers before keying
    assert status == 200 and "entries" not in seen and seen["state"] == "awaiting_second"

    status, second, _ = call(live_stack, "POST", f"{batch}/forms", CLERK2, form)
    assert status == 201 and second["state"] == "agreed", second
    response = stored_response(live_stack, second["response_id"])
    assert response["channel"] == "paper" and response["province"] == "01" and response["agency"] == "P01"
    assert response["collection"]["form_number"] == "101" and len(response["collection"]["clerks"]) == 2

    live_stack.drain()  # the paper response goes down the same chain as any other: screened and counted
    assert stored_response(live_stack, second["response_id"])["status"] != "received"


def test_a_mismatch_waits_for_a_third_clerk_who_picks_the_final_values(live_stack, batch):
    call(live_stack, "POST", f"{batch}/forms", CLERK, {"form_number": "7", "answers": good_answers(7)})
    typo = {**good_answers(7), "c2": "72"}
    status, second, _ = call(live_stack, "POST", f"{batch}/forms", CLERK2, {"form_number": "7", "answers": typo})
    assert status == 201 and second["state"] == "mismatch" and second["differences"] == ["c2"]

    status, queue, _ = call(live_stack, "GET", batch, CLERK3)
    assert [f["form_number"] for f in queue["forms"] if f["state"] == "mismatch"] == ["7"]
    status, both, _ = call(live_stack, "GET", f"{batch}/forms/7", CLERK3)
    assert [e["answers"]["c2"] for e in both["entries"]] == [27, 72] and both["may_resolve"] is True

    final = {"answers": good_answers(7)}
    status, refused, _ = call(live_stack, "POST", f"{batch}/forms/7/resolution", CLERK2, final)
    assert status == 403 and refused["error"]["code"] == "paper_resolver_is_clerk"
    status, done, _ = call(live_stack, "POST", f"{batch}/forms/7/resolution", CLERK3, final)
    assert status == 201 and done["state"] == "resolved", done
    response = stored_response(live_stack, done["response_id"])
    assert response["answers"]["c2"] == 27
    assert response["collection"]["resolved_by"] == live_stack.idp.users[CLERK3].sub

    status, again, _ = call(live_stack, "POST", f"{batch}/forms/7/resolution", CLERK3, final)
    assert status == 409 and again["error"]["code"] == "paper_nothing_to_resolve"


def test_an_import_is_all_or_nothing_unless_partial_and_a_reimport_counts_nothing_twice(live_stack, batch):
    rows = [{"form_number": str(n), **good_answers(n)} for n in (1, 2, 3)]
    rows[1]["c1"] = "8"
    status, refused, _ = call(
        live_stack, "POST", f"{batch}/imports?filename=lo.csv", CLERK, forms_csv(rows), "text/csv"
    )
    assert status == 422 and refused["error"]["code"] == "paper_import_refused"
    assert [(d["row"], d["column"]) for d in refused["error"]["details"]] == [(3, "c1")]
    status, view, _ = call(live_stack, "GET", batch, CLERK)
    assert view["forms"] == []  # nothing imported

    status, report, _ = call(live_stack, "POST", f"{batch}/imports?partial=true", CLERK, forms_csv(rows), "text/csv")
    assert status == 200 and report["imported"] == 2 and report["failed"] == 1, report

    rows[1]["c1"] = "2"
    status, second, _ = call(live_stack, "POST", f"{batch}/imports", CLERK2, forms_csv(rows), "text/csv")
    assert status == 200 and [f["state"] for f in second["forms"]] == ["agreed", "awaiting_second", "agreed"], second
    ids = {f["response_id"] for f in second["forms"] if f.get("response_id")}
    status, again, _ = call(live_stack, "POST", f"{batch}/imports", CLERK2, forms_csv(rows), "text/csv")
    assert status == 200 and again["imported"] == 0 and again["unchanged"] == 3
    assert {f["response_id"] for f in again["forms"] if f.get("response_id")} == ids


def test_a_province_clerk_cannot_reach_another_province(live_stack):
    ensure_walk_batch("P79")
    status, _, _ = call(live_stack, "GET", f"/admin/api/paper/P79/batches/{WALK_BATCH}", CLERK)
    assert status == 403
    status, _, _ = call(
        live_stack,
        "POST",
        "/admin/api/paper/P01/batches",
        CLERK,
        {"batch": "X1", "survey_id": SURVEY, "survey_version": 1, "province": "79"},
    )
    assert status == 400
