"""Personal data (Decree 13/2023): a citizen sees and withdraws their response by receipt code; after the
retention period the keyed hashes go. Aggregates and the data lake follow exactly, and both actions are audited."""

from __future__ import annotations

import copy
import json
from datetime import datetime, timedelta, timezone
from typing import Any

from boto3.dynamodb.types import TypeDeserializer

from chalicelib import wiring
from chalicelib.lake import decode, encode
from chalicelib.streams import to_plain
from tests.integration.helpers import fresh_submissions, http, post, reconcile, results

# urllib's own User-Agent header: what the API stores in paradata.user_agent for these tests' submissions
USER_AGENT_MARK = "Python-urllib"


def lake_versions(stack: Any) -> list[tuple[str, list[dict[str, Any]]]]:
    """Every version of every object in the lake bucket, earlier ones included: all a reader could find."""
    s3, bucket = stack.client("s3"), stack.physical_id("LakeBucket")
    out = []
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix="responses/"):
        for version in page.get("Versions", []):
            body = s3.get_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])["Body"].read()
            out.append((version["Key"], decode(body)))
    return out


def stored_item(stack: Any, response_id: str) -> dict[str, Any]:
    item = stack.client("dynamodb").get_item(
        TableName=stack.physical_id("ResponsesTable"), Key={"response_id": {"S": response_id}}, ConsistentRead=True
    )["Item"]
    deserializer = TypeDeserializer()
    return to_plain({k: deserializer.deserialize(v) for k, v in item.items()})


def partition_of_item(item: dict[str, Any]) -> str:
    return f"responses/survey={item['survey_id']}/version={item['survey_version']}/date={item['received_at'][:10]}"


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


def test_a_withdrawal_reaches_every_copy_in_the_data_lake(live_stack, sipas):
    submissions = fresh_submissions(sipas, 3)
    mine = submissions[0]
    note = f"Ghi chú riêng {mine['id'][-8:]}: cán bộ một cửa ở {mine['commune']} hẹn lại ba lần"
    mine["answers"]["q10_other"] = note
    for s in submissions:
        assert post(live_stack, s)[0] == 201
    live_stack.drain()
    # GIVEN the response archived with its free text, place and (in DynamoDB) the browser's user agent
    assert stored_item(live_stack, mine["id"])["paradata"]["user_agent"].startswith(USER_AGENT_MARK)
    assert any(
        r["response_id"] == mine["id"] and r["answers"].get("q10_other") == note
        for _, rows in lake_versions(live_stack)
        for r in rows
    )
    # WHEN the citizen withdraws it and the workers run
    assert http("POST", f"{live_stack.api_url}/responses/{mine['id']}/withdrawal", b"")[0] == 200
    live_stack.drain()
    # THEN no object, nor any earlier version of one, keeps its answers, free text or place: a tombstone only
    versions = lake_versions(live_stack)
    rows = [r for _, object_rows in versions for r in object_rows if r["response_id"] == mine["id"]]
    assert rows and all(r["status"] == "withdrawn" for r in rows)
    assert not any({"answers", "province", "commune", "paradata", "reasons"} & set(r) for r in rows)
    text = json.dumps(versions, ensure_ascii=False)
    assert note not in text
    # AND the other responses keep their microdata, and no row anywhere holds a user agent or an identifier
    others = [
        r for _, object_rows in versions for r in object_rows if r["response_id"] in {s["id"] for s in submissions[1:]}
    ]
    assert others and all(r["answers"] and r["commune"] for r in others)
    assert USER_AGENT_MARK not in text and "user_agent" not in text and "identifiers" not in text


def test_the_retention_job_reaches_every_copy_in_the_data_lake(live_stack, sipas):
    submissions = fresh_submissions(sipas, 3)
    for s in submissions:
        s["contact"] = {"phone": "0987654321"}
        assert post(live_stack, s)[0] == 201
    live_stack.drain()
    # GIVEN, beside what the archive worker wrote, an object as it wrote them before the rule: full rows
    # with the user agent (S3 keeps what the old code put there until something rewrites it)
    s3, bucket = live_stack.client("s3"), live_stack.physical_id("LakeBucket")
    items = [stored_item(live_stack, s["id"]) for s in submissions]
    legacy = [{k: v for k, v in i.items() if k not in ("identifiers", "honeypot")} | {"_sequence": "1"} for i in items]
    partitions = {partition_of_item(i) for i in items}
    for partition in partitions:
        rows = [r for r in legacy if partition_of_item(r) == partition]
        s3.put_object(Bucket=bucket, Key=f"{partition}/0-legacy.jsonl.gz", Body=encode(rows))
    assert USER_AGENT_MARK in json.dumps(lake_versions(live_stack))
    # WHEN the retention job strips personal data as if a year and a day had passed, and the workers run
    later = (datetime.now(timezone.utc) + timedelta(days=366)).isoformat()
    live_stack.invoke(
        "RetentionFunction", live_stack.eventbridge_event("aws.events", "Scheduled Event", {"now": later})
    )
    live_stack.drain()
    # THEN no version of any lake object holds a user agent, and the stripped responses keep their answers
    versions = lake_versions(live_stack)
    text = json.dumps(versions, ensure_ascii=False)
    assert USER_AGENT_MARK not in text and "user_agent" not in text and "identifiers" not in text
    ids = {s["id"] for s in submissions}
    kept = [r for key, rows in versions if key.rsplit("/", 1)[0] in partitions for r in rows if r["response_id"] in ids]
    assert {r["response_id"] for r in kept} == ids
    assert all(r["answers"] and "honeypot" not in r and "content_hash" not in r for r in kept)
