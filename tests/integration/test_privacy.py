"""Personal data (Decree 13/2023): a citizen sees and withdraws their response by receipt code; after the
retention period the keyed hashes go. Aggregates follow exactly, and both actions are audited."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone

from chalicelib import wiring
from tests.integration.helpers import fresh_submissions, http, post, reconcile, results


def test_a_citizen_sees_and_withdraws_a_response_by_its_receipt(live_stack, sipas):
    submission = fresh_submissions(sipas, 1)[0]
    submission["contact"] = {"phone": "0912345678"}
    assert post(live_stack, submission)[0] == 201
    live_stack.drain()
    counted = results(live_stack, include_flagged=True)["counts"]
    # GIVEN the receipt WHEN the citizen looks THEN they see their answers and which identifiers are kept, not values
    status, mine = http("GET", f"{live_stack.api_url}/responses/{submission['id']}")
    assert status == 200
    assert mine["answers"]["q9_01"] == submission["answers"]["q9_01"]
    assert mine["personal_data_kept"] == ["ip", "phone"]
    assert "0912345678" not in json.dumps(mine)
    # WHEN they withdraw THEN answers and identifiers are deleted and the counts leave the aggregates
    status, done = http("POST", f"{live_stack.api_url}/responses/{submission['id']}/withdrawal", b"")
    assert (status, done["status"]) == (200, "withdrawn")
    live_stack.drain()
    after = results(live_stack, include_flagged=True)["counts"]
    screened = [k for k in ("accepted", "flagged", "rejected") if after[k] != counted[k]]
    assert len(screened) == 1
    assert counted[screened[0]] - after[screened[0]] == 1
    assert reconcile(live_stack)["difference_count"] == 0
    status, mine = http("GET", f"{live_stack.api_url}/responses/{submission['id']}")
    assert (mine["status"], mine["answers"], mine["personal_data_kept"]) == ("withdrawn", {}, [])
    # AND a second request is refused, an unknown code is a 404 with a Vietnamese message
    assert http("POST", f"{live_stack.api_url}/responses/{submission['id']}/withdrawal", b"")[0] == 409
    status, missing = http("GET", f"{live_stack.api_url}/responses/01ARZ3NDEKTSV4RRFFQ69G5FAV")
    assert (status, missing["error"]["code"]) == (404, "receipt_not_found")
    # AND the withdrawal is in the audit log
    entries = list(wiring.audit_repository().entries())
    assert any(e.action == "response.withdraw" and e.target_id == submission["id"] for e in entries)


def test_personal_data_is_removed_after_the_retention_period_and_counts_do_not_move(live_stack, sipas):
    submissions = fresh_submissions(sipas, 3)
    for s in submissions:
        s["contact"] = {"phone": "0987654321", "device_id": "device-12345678"}
        assert post(live_stack, s)[0] == 201
    live_stack.drain()
    before = results(live_stack, include_flagged=True)
    table = live_stack.physical_id("ResponsesTable")
    ddb = live_stack.client("dynamodb")
    # WHEN the retention job runs as if a year and a day had passed
    later = (datetime.now(timezone.utc) + timedelta(days=366)).isoformat()
    out = live_stack.invoke(
        "RetentionFunction", live_stack.eventbridge_event("aws.events", "Scheduled Event", {"now": later})
    )
    assert next(r for r in out["runs"] if r["survey"] == "sipas-2026#1")["stripped"] >= 3
    live_stack.drain()
    # THEN no identifier or user agent is left on them, the answers are, and no count moved
    for s in submissions:
        item = ddb.get_item(TableName=table, Key={"response_id": {"S": s["id"]}})["Item"]
        assert "identifiers" not in item
        assert "user_agent" not in item.get("paradata", {}).get("M", {})
        assert "personal_data_removed_at" in item
        assert item["answers"]["M"]["q9_01"]["S"] == s["answers"]["q9_01"]
    after = results(live_stack, include_flagged=True)
    assert after["counts"] == before["counts"]
    assert after["index"] == before["index"]
    assert reconcile(live_stack)["difference_count"] == 0
    # AND the job's action is audited; running it again strips nothing more
    entries = list(wiring.audit_repository().entries())
    assert entries[-1].action == "personal_data.strip"
    again = live_stack.invoke(
        "RetentionFunction", live_stack.eventbridge_event("aws.events", "Scheduled Event", {"now": later})
    )
    assert all(r["stripped"] == 0 for r in again["runs"])
    assert copy.deepcopy(list(wiring.audit_repository().entries()))[-1].seq == entries[-1].seq


def test_the_citizen_page_shows_the_response_and_deletes_it_only_when_confirmed(live_stack, sipas):
    import urllib.error
    import urllib.request

    submission = fresh_submissions(sipas, 1)[0]
    assert post(live_stack, submission)[0] == 201

    def page(method: str, path: str, data: bytes | None = None) -> tuple[int, str]:
        headers = {"Content-Type": "application/x-www-form-urlencoded"} if data is not None else {}
        request = urllib.request.Request(f"{live_stack.api_url}{path}", data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    status, html = page("GET", f"/r/{submission['id']}")
    assert status == 200
    assert "Yêu cầu xóa phiếu" in html
    assert page("POST", f"/r/{submission['id']}/withdrawal", b"")[0] == 400  # not confirmed: nothing deleted
    assert http("GET", f"{live_stack.api_url}/responses/{submission['id']}")[1]["status"] != "withdrawn"
    status, html = page("POST", f"/r/{submission['id']}/withdrawal", b"confirm=yes")
    assert status == 200
    assert "Đã xóa phiếu" in html
    assert page("GET", "/r/not-a-receipt")[0] == 404
    live_stack.drain()
