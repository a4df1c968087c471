"""The local stack's Lambda emulation over a real moto server: batches, filters, retries, DLQ, restarts, schedules."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
import requests

from infra.local.stack import LocalStack, matches_pattern, next_fire
from tests.integration import fake_workers

TEMPLATE = Path(__file__).with_name("fixtures") / "template.yaml"


def _put(stack: LocalStack, key: str, **attrs: str) -> None:
    item = {"id": {"S": key}, **{k: {"S": v} for k, v in attrs.items()}}
    stack.client("dynamodb").put_item(TableName=stack.physical_id("ItemsTable"), Item=item)


def _dead_letters(stack: LocalStack) -> list[dict[str, Any]]:
    sqs = stack.client("sqs")
    url = stack.queue_url("DeadLetters")
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def _recorded_keys(name: str = "recorder") -> list[list[str]]:
    return [fake_workers.keys(call) for call in fake_workers.CALLS[name]]


@pytest.fixture(scope="class")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    with LocalStack(tmp_path_factory.mktemp("state"), template=TEMPLATE) as local:
        yield local


@pytest.fixture
def clean(stack: LocalStack) -> LocalStack:
    stack.drain()
    _dead_letters(stack)
    fake_workers.reset()
    return stack


class TestRunner:
    def test_deploys_only_data_resources_and_sets_the_environment(self, stack: LocalStack) -> None:
        assert set(stack.resources) == {"ItemsTable", "FilesBucket", "DeadLetters"}
        assert stack.outputs == {"ItemsTableName": "test-local-items"}  # RecorderName refers to a function
        env = stack.environment()
        assert env["TEST_ITEMS_TABLE"] == "test-local-items"
        assert env["AWS_ENDPOINT_URL"] == stack.endpoint
        assert stack.endpoint.startswith("http://127.0.0.1:")
        versioning = stack.client("s3").get_bucket_versioning(Bucket=stack.physical_id("FilesBucket"))
        assert versioning["Status"] == "Enabled"  # moto's CloudFormation ignores it; the stack applies it

    def test_records_arrive_in_order_in_lambda_shape_and_batches(self, clean: LocalStack) -> None:
        for i in range(25):
            _put(clean, f"order-{i:02d}")
        clean.drain()
        batches = _recorded_keys()
        assert [len(b) for b in batches] == [10, 10, 5]
        assert [k for b in batches for k in b] == [f"order-{i:02d}" for i in range(25)]
        call = fake_workers.CALLS["recorder"][0]
        record = call["event"]["Records"][0]
        assert set(record) == {
            "eventID",
            "eventName",
            "eventVersion",
            "eventSource",
            "awsRegion",
            "dynamodb",
            "eventSourceARN",
        }
        assert record["eventName"] == "INSERT"
        assert record["eventVersion"] == "1.1"
        assert record["eventSource"] == "aws:dynamodb"
        assert record["awsRegion"] == "ap-southeast-1"
        account = clean.account_id
        assert record["eventSourceARN"].startswith(
            f"arn:aws:dynamodb:ap-southeast-1:{account}:table/test-local-items/stream/"
        )
        ddb = record["dynamodb"]
        assert isinstance(ddb["ApproximateCreationDateTime"], int)
        assert ddb["Keys"] == {"id": {"S": "order-00"}}
        assert ddb["NewImage"] == {"id": {"S": "order-00"}}
        assert ddb["StreamViewType"] == "NEW_AND_OLD_IMAGES"
        assert int(ddb["SizeBytes"]) > 0
        seqs = [
            int(r["dynamodb"]["SequenceNumber"]) for c in fake_workers.CALLS["recorder"] for r in c["event"]["Records"]
        ]
        assert seqs == sorted(seqs)
        assert call["function_name"] == "par-local-RecorderFunction"
        assert call["arn"] == f"arn:aws:lambda:ap-southeast-1:{account}:function:par-local-RecorderFunction"
        assert 0 < call["remaining_ms"] <= 10_000
        assert call["memory"] == "128"
        assert call["items_table"] == "test-local-items"
        assert len({c["request_id"] for c in fake_workers.CALLS["recorder"]}) == 3

    def test_modify_carries_old_and_new_images_with_binary_as_base64(self, clean: LocalStack) -> None:
        table = clean.physical_id("ItemsTable")
        ddb = clean.client("dynamodb")
        ddb.put_item(TableName=table, Item={"id": {"S": "img-1"}, "blob": {"B": b"\x00\xff"}})
        ddb.update_item(
            TableName=table,
            Key={"id": {"S": "img-1"}},
            UpdateExpression="SET n = :n",
            ExpressionAttributeValues={":n": {"N": "7"}},
        )
        clean.drain()
        records = [r for c in fake_workers.CALLS["recorder"] for r in c["event"]["Records"]]
        assert [r["eventName"] for r in records] == ["INSERT", "MODIFY"]
        modify = records[1]["dynamodb"]
        assert modify["OldImage"] == {"id": {"S": "img-1"}, "blob": {"B": "AP8="}}
        assert modify["NewImage"]["n"] == {"N": "7"}

    def test_in_process_reads_give_the_same_records_as_getrecords(self, clean: LocalStack, tmp_path: Path) -> None:
        table = clean.physical_id("ItemsTable")
        ddb = clean.client("dynamodb")
        item = {
            "id": {"S": "same-1"},
            "blob": {"B": b"\x00\x01\xfe"},
            "blobs": {"BS": [b"a", b"b"]},
            "nums": {"NS": ["1", "2.5"]},
            "nested": {"M": {"list": {"L": [{"S": "x"}, {"B": b"\x02"}, {"NULL": True}, {"BOOL": False}]}}},
        }
        ddb.put_item(TableName=table, Item=item)
        ddb.delete_item(TableName=table, Key={"id": {"S": "same-1"}})
        clean.drain()

        def same_1() -> list[dict[str, Any]]:
            return [
                r
                for c in fake_workers.CALLS["recorder"]
                for r in c["event"]["Records"]
                if r["dynamodb"]["Keys"]["id"]["S"] == "same-1"
            ]

        in_process = same_1()
        assert [r["eventName"] for r in in_process] == ["INSERT", "REMOVE"]
        fake_workers.reset()
        # A runner on the same endpoint that does not own moto reads through GetRecords.
        with LocalStack(
            tmp_path, template=TEMPLATE, aws_endpoint=clean.endpoint, account_id=clean.account_id
        ) as api_reader:
            api_reader.drain()
        assert same_1() == in_process

    def test_filter_criteria_pass_only_matching_inserts(self, clean: LocalStack) -> None:
        _put(clean, "f-keep", kind="keep")
        _put(clean, "f-drop", kind="drop")
        _put(clean, "f-keep", kind="keep", note="a MODIFY now")
        _put(clean, "f-keep-2", kind="keep")
        clean.drain()
        assert _recorded_keys("inserts") == [["f-keep", "f-keep-2"]]
        assert [k for b in _recorded_keys() for k in b] == ["f-keep", "f-drop", "f-keep", "f-keep-2"]

    def test_partial_batch_failure_retries_from_the_failed_record(self, clean: LocalStack) -> None:
        _put(clean, "p1")
        _put(clean, "p2", mode="fail-once")
        _put(clean, "p3")
        clean.drain()
        assert _recorded_keys() == [["p1", "p2", "p3"], ["p2", "p3"]]
        assert _dead_letters(clean) == []

    def test_poison_record_is_bisected_retried_and_sent_to_the_dlq(self, clean: LocalStack) -> None:
        for i in range(1, 9):
            _put(clean, f"x{i}", **({"mode": "poison"} if i == 5 else {}))
        clean.drain()
        x = [f"x{i}" for i in range(1, 9)]
        expected = [
            x,  # fails: bisect
            x[:4],  # ok
            x[4:],  # fails: bisect
            x[4:6],  # fails: bisect
            ["x5"],  # fails; splitting cost no retry, so 2 retries follow
            ["x5"],
            ["x5"],
            ["x6"],
            ["x7", "x8"],
        ]
        assert _recorded_keys() == expected
        (message,) = _dead_letters(clean)
        poison_seq = next(
            r["dynamodb"]["SequenceNumber"]
            for c in fake_workers.CALLS["recorder"]
            for r in c["event"]["Records"]
            if r["dynamodb"]["Keys"]["id"]["S"] == "x5"
        )
        assert message["requestContext"]["condition"] == "RetryAttemptsExhausted"
        assert message["requestContext"]["approximateInvokeCount"] == 3
        assert message["requestContext"]["functionArn"].endswith(":function:par-local-RecorderFunction")
        assert message["responseContext"] == {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        }
        info = message["DDBStreamBatchInfo"]
        assert info["batchSize"] == 1
        assert info["startSequenceNumber"] == info["endSequenceNumber"] == poison_seq
        assert info["streamArn"] == clean.resolve({"Fn::GetAtt": ["ItemsTable", "StreamArn"]})
        assert info["shardId"].startswith("shardId-")
        # Powertools parses Lambda's on-failure records with this model: ours must fit it.
        from aws_lambda_powertools.utilities.parser.models import DynamoDBStreamLambdaOnFailureDestinationModel

        DynamoDBStreamLambdaOnFailureDestinationModel.model_validate(message)

    def test_checkpoint_is_persisted_after_each_batch(self, clean: LocalStack) -> None:
        _put(clean, "cp-1")
        clean.drain()
        last = fake_workers.CALLS["recorder"][-1]["event"]["Records"][-1]
        saved = json.loads((clean.state_dir / "checkpoints.json").read_text())["checkpoints"]
        stream = saved["RecorderFunction/Items"][last["eventSourceARN"]]
        assert list(stream.values()) == [last["dynamodb"]["SequenceNumber"]]

    def test_schedules_fire_with_the_scheduled_event_shape(self, clean: LocalStack) -> None:
        assert clean.fire_schedule("ClockFunction") == "tick"
        event = fake_workers.CALLS["clock"][0]["event"]
        assert event["detail-type"] == "Scheduled Event"
        assert event["source"] == "aws.events"
        assert event["detail"] == {}
        assert event["resources"] == [
            f"arn:aws:events:ap-southeast-1:{clean.account_id}:rule/par-local-ClockFunction-EveryFive"
        ]
        fake_workers.reset()
        later = datetime.now(timezone.utc) + timedelta(minutes=6)
        due = sorted(k for k, at in clean.next_schedules().items() if at <= later)
        assert "ClockFunction/EveryFive" in due
        assert sorted(clean.tick_schedules(later)) == due
        assert len(fake_workers.CALLS["clock"]) == len(due)
        assert clean.tick_schedules(later) == []  # once per due time, not once per tick

    def test_eventbridge_rule_events_reach_the_function(self, clean: LocalStack) -> None:
        events = clean.client("events")
        events.put_events(
            Entries=[
                {"Source": "test.source", "DetailType": "Ping", "Detail": json.dumps({"n": 1})},
                {"Source": "other.source", "DetailType": "Ping", "Detail": json.dumps({"n": 2})},
            ]
        )
        clean.drain()
        (call,) = fake_workers.CALLS["ping"]
        assert call["event"]["detail"] == {"n": 1}
        assert call["event"]["detail-type"] == "Ping"

    def test_failed_async_invocation_is_retried_then_sent_to_the_destination(self, clean: LocalStack) -> None:
        clean.client("events").put_events(
            Entries=[{"Source": "test.source", "DetailType": "Ping", "Detail": json.dumps({"fail": True})}]
        )
        clean.drain()
        assert len(fake_workers.CALLS["ping"]) == 2  # MaximumRetryAttempts: 1
        (message,) = _dead_letters(clean)
        assert message["requestContext"]["condition"] == "RetriesExhausted"
        assert message["requestContext"]["approximateInvokeCount"] == 2
        assert message["requestPayload"]["detail"] == {"fail": True}
        assert message["responsePayload"]["errorType"] == "ValueError"

    def test_http_api_writes_flow_to_the_workers(self, clean: LocalStack) -> None:
        url = clean.start_api(app_import="tests.integration.fake_workers:app")
        try:
            assert url.startswith("http://127.0.0.1:")
            response = requests.put(f"{url}/items/api-1", timeout=10)
            assert response.status_code == 200
            assert response.json() == {"id": "api-1"}
        finally:
            clean.stop_api()
        clean.drain()
        assert _recorded_keys() == [["api-1"]]
        assert _recorded_keys("inserts") == [["api-1"]]

    def test_background_workers_deliver_and_stop_cleanly(self, clean: LocalStack) -> None:
        before = set(threading.enumerate())
        clean.start_workers(interval=0.05)
        try:
            _put(clean, "bg-1")
            deadline = time.monotonic() + 10
            while not fake_workers.CALLS["recorder"] and time.monotonic() < deadline:
                time.sleep(0.05)
        finally:
            clean.stop_workers()
        assert _recorded_keys() == [["bg-1"]]
        assert fake_workers.CALLS["recorder"][0]["thread"].startswith("local-RecorderFunction")
        assert [t.name for t in set(threading.enumerate()) - before if t.name.startswith("local-")] == []

    def test_invoke_returns_the_result_and_raises_errors(self, clean: LocalStack) -> None:
        assert clean.invoke("PingFunction", {"detail": {"n": 3}}) == {"pong": {"n": 3}}
        with pytest.raises(ValueError, match="asked to fail"):
            clean.invoke("PingFunction", {"detail": {"fail": True}})
        assert len(fake_workers.CALLS["ping"]) == 2  # a synchronous invocation is not retried


def test_restart_restores_data_and_delivers_only_what_was_pending(tmp_path: Path) -> None:
    fake_workers.reset()
    with LocalStack(tmp_path, template=TEMPLATE) as first:
        first.client("dynamodb").put_item(
            TableName=first.physical_id("ItemsTable"),
            Item={"id": {"S": "r1"}, "blob": {"B": b"\x00\xff"}, "m": {"M": {"b": {"B": b"\x01"}, "n": {"N": "1.5"}}}},
        )
        _put(first, "r2")
        first.drain()
        _put(first, "r3")  # pending at snapshot time: the snapshot keeps its stream record
        first.client("s3").put_object(
            Bucket=first.physical_id("FilesBucket"), Key="a/b.txt", Body=b"kept", ContentType="text/plain"
        )
        first.snapshot()
    assert [k for b in _recorded_keys() for k in b] == ["r1", "r2"]
    saved = json.loads((tmp_path / "checkpoints.json").read_text())["checkpoints"]
    assert "RecorderFunction/Items" in saved

    fake_workers.reset()
    with LocalStack(tmp_path, template=TEMPLATE) as second:
        assert second.restored
        table = second.physical_id("ItemsTable")
        items = second.client("dynamodb").scan(TableName=table)["Items"]
        assert sorted(i["id"]["S"] for i in items) == ["r1", "r2", "r3"]
        r1 = second.client("dynamodb").get_item(TableName=table, Key={"id": {"S": "r1"}})["Item"]
        assert r1 == {
            "id": {"S": "r1"},
            "blob": {"B": b"\x00\xff"},
            "m": {"M": {"b": {"B": b"\x01"}, "n": {"N": "1.5"}}},
        }
        obj = second.client("s3").get_object(Bucket=second.physical_id("FilesBucket"), Key="a/b.txt")
        assert obj["Body"].read() == b"kept"
        assert obj["ContentType"] == "text/plain"
        second.drain()
        # The record pending at the snapshot is delivered once; the restore's own writes are not stream work.
        assert _recorded_keys() == [["r3"]]
        fake_workers.reset()
        _put(second, "r4")
        second.drain()
        assert _recorded_keys() == [["r4"]]
        assert _recorded_keys("inserts") == []  # r4 has no kind=keep


def test_workers_resume_from_their_checkpoints_on_the_same_stream(tmp_path: Path) -> None:
    fake_workers.reset()
    with LocalStack(tmp_path, template=TEMPLATE) as first:
        _put(first, "c1")
        first.drain()
        _put(first, "c2")  # written while no worker runs
        # A second runner on the same (still running) AWS endpoint, as after a restart of the
        # runner alone: it must pick up after c1 from the checkpoint file, not from the start.
        with LocalStack(
            tmp_path, template=TEMPLATE, aws_endpoint=first.endpoint, account_id=first.account_id
        ) as second:
            assert not second.restored
            second.drain()
        assert _recorded_keys() == [["c1"], ["c2"]]


def test_stacks_side_by_side_in_one_process_are_isolated(tmp_path: Path) -> None:
    fake_workers.reset()
    with LocalStack(tmp_path / "a", template=TEMPLATE) as a:
        _put(a, "only-in-a")
        with LocalStack(tmp_path / "b", template=TEMPLATE) as b:
            assert b.account_id != a.account_id
            assert os.environ["AWS_ENDPOINT_URL"] == b.endpoint
            _put(b, "only-in-b")
            # The app's clients take the environment's credentials: they see b's account only.
            items = boto3.client("dynamodb").scan(TableName=b.physical_id("ItemsTable"))["Items"]
            assert [i["id"]["S"] for i in items] == ["only-in-b"]
            b.drain()
        assert os.environ["AWS_ENDPOINT_URL"] == a.endpoint  # b put a's environment back
        items = boto3.client("dynamodb").scan(TableName=a.physical_id("ItemsTable"))["Items"]
        assert [i["id"]["S"] for i in items] == ["only-in-a"]  # and stopping b wiped nothing of a's
        a.drain()
    assert _recorded_keys() == [["only-in-b"], ["only-in-a"]]


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("cron(0 19 * * ? *)", "2026-01-01T00:00:00", "2026-01-01T19:00:00"),
        ("cron(0 19 * * ? *)", "2026-01-01T19:00:00", "2026-01-02T19:00:00"),
        ("cron(0 8 ? * 2-6 *)", "2026-01-03T09:00:00", "2026-01-05T08:00:00"),  # Sat -> Mon (AWS 2 = Monday)
        ("cron(0 8 ? * MON-FRI *)", "2026-01-03T09:00:00", "2026-01-05T08:00:00"),
        ("cron(15 10 ? * 6#3 *)", "2026-01-01T00:00:00", "2026-01-16T10:15:00"),  # third Friday
        ("cron(0 0 1 1 ? 2028)", "2026-01-01T00:00:00", "2028-01-01T00:00:00"),
        ("rate(1 hour)", "2026-01-01T00:30:00", "2026-01-01T01:30:00"),
        ("rate(5 minutes)", "2026-01-01T00:00:00", "2026-01-01T00:05:00"),
    ],
)
def test_next_fire(expression: str, after: str, expected: str) -> None:
    start = datetime.fromisoformat(after).replace(tzinfo=timezone.utc)
    assert next_fire(expression, start) == datetime.fromisoformat(expected).replace(tzinfo=timezone.utc)


@pytest.mark.parametrize("expression", ["cron(0 19 * * *)", "cron(0 0 L * ? *)", "every hour"])
def test_next_fire_rejects_what_it_cannot_honour(expression: str) -> None:
    with pytest.raises(ValueError):
        next_fire(expression, datetime(2026, 1, 1, tzinfo=timezone.utc))


@pytest.mark.parametrize(
    ("pattern", "event", "expected"),
    [
        ({"eventName": ["INSERT"]}, {"eventName": "INSERT"}, True),
        ({"eventName": ["INSERT"]}, {"eventName": "MODIFY"}, False),
        ({"eventName": ["INSERT"]}, {}, False),
        (
            {"dynamodb": {"NewImage": {"status": {"S": ["accepted", "flagged"]}}}},
            {"dynamodb": {"NewImage": {"status": {"S": "flagged"}}}},
            True,
        ),
        ({"dynamodb": {"NewImage": {"status": {"S": ["accepted"]}}}}, {"dynamodb": {"OldImage": {}}}, False),
        ({"tags": ["a"]}, {"tags": ["b", "a"]}, True),
        ({"n": [1]}, {"n": True}, False),
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": 5}, True),
        ({"n": [{"numeric": [">", 0, "<=", 5]}]}, {"n": 6}, False),
        ({"id": [{"prefix": "sipas-"}]}, {"id": "sipas-2026"}, True),
        ({"id": [{"suffix": ".json"}]}, {"id": "a.csv"}, False),
        ({"status": [{"anything-but": ["rejected"]}]}, {"status": "accepted"}, True),
        ({"status": [{"anything-but": "rejected"}]}, {"status": "rejected"}, False),
        ({"status": [{"anything-but": {"prefix": "rej"}}]}, {"status": "rejected"}, False),
        ({"flag": [{"exists": False}]}, {}, True),
        ({"flag": [{"exists": True}]}, {"flag": "x"}, True),
        ({"name": [{"equals-ignore-case": "hà nội"}]}, {"name": "HÀ NỘI"}, True),
        ({"v": [None]}, {"v": None}, True),
    ],
)
def test_pattern_matching(pattern: dict[str, Any], event: dict[str, Any], expected: bool) -> None:
    assert matches_pattern(pattern, event) is expected
