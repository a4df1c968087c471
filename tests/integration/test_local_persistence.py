"""The local stack's journal, snapshots and API server: durable before answered, no stop-the-world, no slow-client stall."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local import journal as journal_module
from infra.local.journal import Journal, encode, is_mutating
from infra.local.stack import LocalStack
from tests.integration import fake_workers

TEMPLATE = Path(__file__).with_name("fixtures") / "template.yaml"


def _signed(service: str, **environ: Any) -> dict[str, Any]:
    auth = f"AWS4-HMAC-SHA256 Credential=testing/20261130/ap-southeast-1/{service}/aws4_request, SignedHeaders=host"
    return {"HTTP_AUTHORIZATION": auth, "REQUEST_METHOD": "POST", "PATH_INFO": "/", "QUERY_STRING": "", **environ}


@pytest.mark.parametrize(
    ("service", "environ", "body", "mutating"),
    [
        ("dynamodb", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"}, b"{}", True),
        ("dynamodb", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.TransactWriteItems"}, b"{}", True),
        ("dynamodb", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.BatchWriteItem"}, b"{}", True),
        ("dynamodb", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.UpdateItem"}, b"{}", True),
        ("dynamodb", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}, b"{}", False),
        ("dynamodb", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Query"}, b"{}", False),
        ("dynamodb", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.BatchGetItem"}, b"{}", False),
        ("dynamodb", {"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Scan"}, b"{}", False),
        ("dynamodb", {"HTTP_X_AMZ_TARGET": "DynamoDBStreams_20120810.GetRecords"}, b"{}", False),
        ("streams.dynamodb", {"HTTP_X_AMZ_TARGET": "DynamoDBStreams_20120810.GetRecords"}, b"{}", False),
        ("s3", {"REQUEST_METHOD": "PUT", "PATH_INFO": "/lake/a.json.gz"}, b"x", True),
        ("s3", {"REQUEST_METHOD": "DELETE", "PATH_INFO": "/lake/a.json.gz"}, b"", True),
        ("s3", {"REQUEST_METHOD": "POST", "PATH_INFO": "/lake/big", "QUERY_STRING": "uploads"}, b"", True),
        ("s3", {"REQUEST_METHOD": "GET", "PATH_INFO": "/lake/a.json.gz"}, b"", False),
        ("s3", {"REQUEST_METHOD": "HEAD", "PATH_INFO": "/lake"}, b"", False),
        ("sqs", {"HTTP_X_AMZ_TARGET": "AmazonSQS.SendMessage"}, b"{}", True),
        ("sqs", {"HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"}, b"{}", False),
        ("sqs", {"HTTP_X_AMZ_TARGET": "AmazonSQS.DeleteMessage"}, b"{}", False),
        ("sqs", {}, b"Action=SendMessage&QueueUrl=q", True),
        ("sqs", {}, b"Action=GetQueueUrl&QueueName=q", False),
        ("events", {"HTTP_X_AMZ_TARGET": "AWSEvents.PutEvents"}, b"{}", True),
        ("sns", {}, b"Action=Publish&TopicArn=t", True),
        ("secretsmanager", {"HTTP_X_AMZ_TARGET": "secretsmanager.PutSecretValue"}, b"{}", True),
        ("secretsmanager", {"HTTP_X_AMZ_TARGET": "secretsmanager.GetSecretValue"}, b"{}", False),
        ("sts", {}, b"Action=AssumeRole", False),
        ("cloudformation", {}, b"Action=CreateStack", False),
    ],
)
def test_what_is_journaled(service: str, environ: dict[str, Any], body: bytes, mutating: bool) -> None:
    assert is_mutating(_signed(service, **environ), body) is mutating


def _record(n: int) -> bytes:
    environ = _signed("dynamodb", HTTP_X_AMZ_TARGET="DynamoDB_20120810.PutItem")
    return encode(environ, json.dumps({"n": n}).encode(), "200 OK", None)


def test_a_torn_or_corrupt_tail_is_ignored_and_cut_off(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal")
    journal.start_recording()
    for n in range(3):
        journal.wait_durable(journal.append(_record(n)))
    journal.close()
    (segment,) = journal.segments()
    path = tmp_path / "journal" / f"{segment:06d}.log"
    whole = path.stat().st_size
    with path.open("ab") as handle:
        handle.write(_record(3)[:-5])  # killed while writing the fourth
    assert [json.loads(body)["n"] for _, body in journal.records(segment)] == [0, 1, 2]
    assert path.stat().st_size == whole  # cut off: nothing is ever appended after the torn record
    # A whole-length record whose bytes are wrong (CRC) is treated the same.
    bad = bytearray(_record(4))
    bad[-1] ^= 0xFF
    with path.open("ab") as handle:
        handle.write(bytes(bad))
    assert [json.loads(body)["n"] for _, body in journal.records(segment)] == [0, 1, 2]
    assert path.stat().st_size == whole
    # A later run's segment is read after the cut one.
    journal.start_recording()
    journal.wait_durable(journal.append(_record(5)))
    journal.close()
    assert [json.loads(body)["n"] for _, body in journal.records(1)] == [0, 1, 2, 5]


def test_concurrent_appends_share_fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = journal_module.os.fdatasync

    def slow_fdatasync(fd: int) -> None:
        time.sleep(0.05)  # a disk's flush: the others queue behind it
        real(fd)

    monkeypatch.setattr(journal_module.os, "fdatasync", slow_fdatasync)
    journal = Journal(tmp_path / "journal")
    journal.start_recording()
    start = threading.Barrier(8)

    def writer(n: int) -> None:
        start.wait()
        with journal.lock:
            number = journal.append(_record(n))
        journal.wait_durable(number)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal.close()
    assert journal.fsyncs <= 3  # one fsync per record would be 8
    assert sorted(json.loads(body)["n"] for _, body in journal.records(1)) == list(range(8))


def _fill_bucket(stack: LocalStack, objects: int) -> None:
    s3 = stack.client("s3")
    for i in range(objects):
        s3.put_object(Bucket=stack.physical_id("FilesBucket"), Key=f"bulk/{i:04d}.txt", Body=b"x" * 512)


def test_requests_go_on_during_a_snapshot_and_what_they_wrote_survives_a_restart(tmp_path: Path) -> None:
    fake_workers.reset()
    with LocalStack(tmp_path, template=TEMPLATE) as first:
        url = first.start_api(app_import="tests.integration.fake_workers:app")
        _fill_bucket(first, 300)  # copying these keeps the snapshot busy for a while
        first.drain()
        copying = threading.Event()
        done = threading.Event()
        dump_bucket = first._dump_bucket

        def watched_dump(bucket: str, directory: Path) -> list[dict[str, Any]]:
            copying.set()
            return dump_bucket(bucket, directory)

        first._dump_bucket = watched_dump  # type: ignore[method-assign]
        snapshot = threading.Thread(target=lambda: (first.snapshot(), done.set()))
        snapshot.start()
        assert copying.wait(30)
        # A write and a read while the snapshot copies objects: both answer before it ends.
        assert requests.put(f"{url}/items/during", timeout=30).status_code == 200
        assert first.client("dynamodb").get_item(
            TableName=first.physical_id("ItemsTable"), Key={"id": {"S": "during"}}
        )["Item"]
        finished_first = not done.is_set()
        snapshot.join(60)
        assert done.is_set()
        assert finished_first, "the request waited for the snapshot"
        first.stop_api()
        # No drain and no final snapshot: the item is only in the journal, its stream record unprocessed.
    assert fake_workers.CALLS["recorder"] == []
    fake_workers.reset()
    with LocalStack(tmp_path, template=TEMPLATE) as second:
        assert second.restored
        item = second.client("dynamodb").get_item(
            TableName=second.physical_id("ItemsTable"), Key={"id": {"S": "during"}}
        )
        assert item["Item"] == {"id": {"S": "during"}, "kind": {"S": "keep"}}
        second.drain()
        assert [k for c in fake_workers.CALLS["recorder"] for k in fake_workers.keys(c)] == ["during"]
        assert [k for c in fake_workers.CALLS["inserts"] for k in fake_workers.keys(c)] == ["during"]
        bulk = second.client("s3").list_objects_v2(Bucket=second.physical_id("FilesBucket"), Prefix="bulk/")
        assert bulk["KeyCount"] == 300


def test_a_slow_client_stalls_neither_other_requests_nor_a_snapshot(tmp_path: Path) -> None:
    with LocalStack(tmp_path, template=TEMPLATE) as stack:
        stack._api.client_timeout = 2.0
        url = stack.start_api(app_import="tests.integration.fake_workers:app")
        host, port = url.removeprefix("http://").split(":")
        slow = socket.create_connection((host, int(port)), timeout=30)
        try:
            slow.sendall(b"PUT /items/slow HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")  # 99 bytes owed
            snapshot = threading.Thread(target=stack.snapshot)
            snapshot.start()
            # Another client is served while the slow one still owes its body, and so is the snapshot.
            assert requests.put(f"{url}/items/quick", timeout=5).status_code == 200
            snapshot.join(30)
            assert not snapshot.is_alive()
            # The slow client is answered 408 once its time is up, and its request never ran.
            answer = slow.recv(4096)
            assert answer.startswith(b"HTTP/1.0 408") or answer.startswith(b"HTTP/1.1 408"), answer[:80]
        finally:
            slow.close()
        item = stack.client("dynamodb").get_item(TableName=stack.physical_id("ItemsTable"), Key={"id": {"S": "slow"}})
        assert "Item" not in item
