"""The whole event chain over real HTTP against moto: submit -> screen -> aggregate -> results -> report in S3.

And its faults: a batch delivered twice counts once; a poison record goes to the dead-letter queue
without blocking the rest; a worker killed mid-batch loses and doubles nothing; bad input changes nothing.
"""

from __future__ import annotations

import copy
import gzip
import hashlib
import json
from typing import Any

import pytest

from chalicelib.store.aggregates import AggregateRepository
from tests.integration.helpers import (
    fresh_submissions,
    http,
    post,
    reconcile,
    results,
    screened_total,
    table_items,
)


def test_submit_screen_aggregate_results_report(live_stack, sipas):
    # GIVEN the live stack, its streams drained, WHEN 25 citizens submit
    live_stack.drain()
    before = screened_total(live_stack)
    submissions = fresh_submissions(sipas, 25)
    statuses = [post(live_stack, s)[0] for s in submissions]
    assert statuses == [201] * 25
    # THEN after the workers ran, every response is screened and counted once
    live_stack.drain()
    assert screened_total(live_stack) == before + 25
    national = results(live_stack)
    assert national["index"]["value"] is not None
    assert 0 < national["index"]["value"] <= 100
    # AND a province's results count only its own responses
    province = submissions[0]["province"]
    mine = sum(1 for s in submissions if s["province"] == province)
    scoped = results(live_stack, f"p{province}", include_flagged=True)
    assert scoped["counts"]["accepted"] + scoped["counts"]["flagged"] >= min(mine, 1)
    # AND a report set lands in S3 with a manifest whose checksums match the files
    out = live_stack.invoke(
        "ReportsFunction", live_stack.eventbridge_event("par.reports", "ReportRequested", {"survey_id": "sipas-2026"})
    )
    prefix = out["reports"][0]["prefix"]
    s3 = live_stack.client("s3")
    bucket = live_stack.physical_id("ReportsBucket")
    manifest = json.loads(s3.get_object(Bucket=bucket, Key=f"{prefix}/manifest.json")["Body"].read())
    assert manifest["inputs"]["responses_counted"] == national["n"]
    for entry in manifest["outputs"]:
        body = s3.get_object(Bucket=bucket, Key=entry["key"])["Body"].read()
        assert hashlib.sha256(body).hexdigest() == entry["sha256"]
    csv = s3.get_object(Bucket=bucket, Key=f"{prefix}/item_indices_by_province.csv")["Body"].read().decode("utf-8-sig")
    assert csv.splitlines()[0].startswith("province_code,province,rank,n,index")
    # AND the report is listed on the reports page
    status, _ = http("GET", f"{live_stack.api_url}/openapi.json")
    assert status == 200
    # AND the data lake holds the screened responses, without personal identifiers
    lake = live_stack.physical_id("LakeBucket")
    keys = [
        o["Key"] for o in s3.list_objects_v2(Bucket=lake, Prefix="responses/survey=sipas-2026/").get("Contents", [])
    ]
    rows = [
        json.loads(line)
        for k in keys
        for line in gzip.decompress(s3.get_object(Bucket=lake, Key=k)["Body"].read()).splitlines()
    ]
    archived = {r["response_id"] for r in rows}
    assert {s["id"] for s in submissions} <= archived
    assert not any("identifiers" in r for r in rows)
    # AND a recount equals the aggregates
    assert reconcile(live_stack)["difference_count"] == 0


def _stream_events(stack: Any) -> list[dict[str, Any]]:
    """Every record of the responses stream so far, as Lambda hands them to a function."""
    from infra.local.stack import lambda_record

    streams = stack.client("dynamodbstreams")
    table = stack.physical_id("ResponsesTable")
    arn = stack.client("dynamodb").describe_table(TableName=table)["Table"]["LatestStreamArn"]
    records = []
    for shard in streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"]:
        iterator = streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        while iterator:
            page = streams.get_records(ShardIterator=iterator, Limit=1000)
            if not page["Records"]:
                break
            records.extend(lambda_record(r, arn, stack.region) for r in page["Records"])
            iterator = page.get("NextShardIterator")
    return records


def test_the_same_batch_delivered_twice_counts_once(live_stack, sipas):
    for s in fresh_submissions(sipas, 12):
        assert post(live_stack, s)[0] == 201
    live_stack.drain()
    counted = results(live_stack, include_flagged=True)
    # WHEN the last 100 stream records (inserts and screenings) are delivered again, twice
    batch = {"Records": _stream_events(live_stack)[-100:]}
    for _ in range(2):
        assert live_stack.invoke("AggregateFunction", copy.deepcopy(batch)) == {"batchItemFailures": []}
    # THEN nothing moved
    again = results(live_stack, include_flagged=True)
    assert again["counts"] == counted["counts"]
    assert again["index"] == counted["index"]
    assert reconcile(live_stack)["difference_count"] == 0


def test_a_poison_record_goes_to_the_dead_letter_queue_without_blocking_the_rest(live_stack, sipas):
    sqs = live_stack.client("sqs")
    dlq = live_stack.queue_url("WorkerDLQ")
    sqs.purge_queue(QueueUrl=dlq)
    live_stack.drain()
    before = screened_total(live_stack)
    good = fresh_submissions(sipas, 6)
    for s in good[:3]:
        assert post(live_stack, s)[0] == 201
    # GIVEN a stored item no worker can read (written around the API, as a faulty import could)
    poison_id = "01J0POISON0000000000000000"
    live_stack.client("dynamodb").put_item(
        TableName=live_stack.physical_id("ResponsesTable"),
        Item={
            "response_id": {"S": poison_id},
            "survey_key": {"S": "sipas-2026#1"},
            "survey_id": {"S": "sipas-2026"},
            "survey_version": {"N": "1"},
            "status": {"S": "received"},
            "answers": {"S": "this is not a map"},
        },
    )
    for s in good[3:]:
        assert post(live_stack, s)[0] == 201
    # WHEN the workers run
    live_stack.drain(timeout=120)
    # THEN every good response is screened and counted
    assert screened_total(live_stack) == before + 6
    # AND the poison record reached the dead-letter queue, described as Lambda describes it
    messages = []
    while True:
        got = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not got:
            break
        messages.extend(json.loads(m["Body"]) for m in got)
    assert messages
    info = [m["DDBStreamBatchInfo"] for m in messages]
    assert all(i["batchSize"] == 1 for i in info)
    assert {m["requestContext"]["condition"] for m in messages} == {"RetryAttemptsExhausted"}
    # AND the recount reports the item as unreadable, not as a difference
    check = reconcile(live_stack)
    assert check["difference_count"] == 0
    assert check["unreadable_responses"] >= 1
    live_stack.client("dynamodb").delete_item(
        TableName=live_stack.physical_id("ResponsesTable"), Key={"response_id": {"S": poison_id}}
    )


@pytest.mark.parametrize("when", ["after_commit", "before_commit"])
def test_a_worker_killed_mid_batch_loses_and_doubles_nothing(live_stack, sipas, monkeypatch, when):
    original = AggregateRepository.apply
    calls = {"n": 0}

    def crash_once(self: AggregateRepository, delta: Any, markers: Any) -> int:
        calls["n"] += 1
        if calls["n"] == 2:  # the second transaction of the batch: the first run has landed
            if when == "after_commit":
                original(self, delta, markers)
            raise RuntimeError(f"worker killed {when}")
        return original(self, delta, markers)

    live_stack.drain()
    monkeypatch.setattr(AggregateRepository, "apply", crash_once)
    before = results(live_stack, include_flagged=True)["counts"]
    submissions = fresh_submissions(sipas, 40)  # across many communes: several transactions per batch
    for s in submissions:
        assert post(live_stack, s)[0] == 201
    live_stack.drain(timeout=120)
    after = results(live_stack, include_flagged=True)["counts"]
    # the crash happened; after it, either more runs were applied or the redelivery found all counted
    assert calls["n"] >= 2, calls
    assert sum(after[k] - before[k] for k in ("accepted", "flagged", "rejected")) == 40, (before, after)
    assert after["received_unscreened"] == before["received_unscreened"], (before, after)
    check = reconcile(live_stack)
    assert check["difference_count"] == 0, check["differences"][:5]


BAD_INPUTS = [
    ("invalid_json", b"{not json", "application/json", 400),
    ("unsupported_media_type", b"<xml/>", "application/xml", 415),
    ("body_too_large", b'{"id": "' + b"x" * 70000 + b'"}', "application/json", 413),
    ("invalid_json", b"[1, 2, 3]", "application/json", 400),
]


def test_every_kind_of_bad_input_gets_its_error_and_leaves_storage_unchanged(live_stack, sipas):
    base = fresh_submissions(sipas, 2)
    assert post(live_stack, base[0])[0] == 201
    live_stack.drain()
    stored = table_items(live_stack, "ResponsesTable")
    url = f"{live_stack.api_url}/surveys/sipas-2026/responses"
    for code, body, content_type, status in BAD_INPUTS:
        got_status, got = http("POST", url, body, content_type)
        assert (got_status, got["error"]["code"]) == (status, code)
        assert got["error"]["message"]
    cases = []
    wrong_option = copy.deepcopy(base[1])
    wrong_option["answers"]["q9_01"] = "7"
    cases.append((wrong_option, 400, "invalid_submission", "/answers/q9_01"))
    missing = copy.deepcopy(base[1])
    del missing["answers"]["q9_05"]
    cases.append((missing, 400, "invalid_submission", "/answers/q9_05"))
    bad_commune = copy.deepcopy(base[1])
    bad_commune["commune"] = "99999"
    cases.append((bad_commune, 422, "invalid_location", "/commune"))
    reused = copy.deepcopy(base[0])
    reused["answers"]["q9_01"] = "1" if reused["answers"]["q9_01"] != "1" else "2"
    cases.append((reused, 409, "response_id_conflict", "/id"))
    bad_version = copy.deepcopy(base[1])
    bad_version["survey_version"] = 99
    cases.append((bad_version, 422, "survey_version_not_found", "/survey_version"))
    for body, status, code, field in cases:
        got_status, got = post(live_stack, body)
        assert (got_status, got["error"]["code"], got["error"].get("field")) == (status, code, field)
    got_status, got = http(
        "POST", f"{live_stack.api_url}/surveys/no-such-survey/responses", json.dumps(base[1]).encode()
    )
    assert (got_status, got["error"]["code"]) == (404, "survey_not_found")
    # an honest retry of the stored one returns its receipt and writes nothing
    got_status, got = post(live_stack, base[0])
    assert got_status == 200
    assert got["receipt"] == base[0]["id"]
    live_stack.drain()
    assert table_items(live_stack, "ResponsesTable") == stored
