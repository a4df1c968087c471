"""`make run` killed with SIGKILL in the middle of a burst loses nothing it answered 2xx.

The stack runs as its own process (`python -m infra.local run`), snapshotting every 2 s so that
the kill falls between snapshots with a journal tail to replay; it is restarted on the same state.
Every acknowledged submission must then be stored, counted once (results and a reconcile against
a recount agree) and archived in the lake. Without the journal the restart would come back to
the last snapshot and lose what was answered after it.
"""

from __future__ import annotations

import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPException
from pathlib import Path
from typing import Any

import pytest

from infra.local.stack import LocalStack
from tests.integration.helpers import fresh_submissions, http

ROOT = Path(__file__).resolve().parents[2]
BURST = 160
KILL_AFTER = 70  # acknowledged submissions before the kill; the others are in flight or not sent


def _spare_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [s.getsockname()[1] for s in sockets]
    finally:
        for s in sockets:
            s.close()


class StackProcess:
    """`python -m infra.local run` on spare ports and a given state directory, its output in a log file."""

    def __init__(self, state: Path, log: Path) -> None:
        self.state = state
        self.log = log
        api, aws, idp, demo = _spare_ports(4)
        self.api_url = f"http://127.0.0.1:{api}"
        self.aws_url = f"http://127.0.0.1:{aws}"
        self.args = [
            sys.executable,
            "-m",
            "infra.local",
            "run",
            "--state",
            str(state),
            "--api-port",
            str(api),
            "--aws-port",
            str(aws),
            "--idp-port",
            str(idp),
            "--demo-port",
            str(demo),
            "--seed-count",
            "0",
            "--snapshot-every",
            "2",
        ]
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 120) -> None:
        # The child sets its own AWS and PAR variables; ours may name this session's own stack.
        env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PAR_", "POWERTOOLS_"))}
        offset = self.log.stat().st_size if self.log.exists() else 0
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.args, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"the stack exited with {self.process.returncode}:\n{self.output()[-4000:]}")
            if "Ctrl-C to stop" in self.log.read_bytes()[offset:].decode("utf-8", "replace"):
                return  # seeded or restored, workers running
            time.sleep(0.2)
        pytest.fail(f"the stack did not start in {timeout} s:\n{self.output()[-4000:]}")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def stack_process(tmp_path: Path) -> Iterator[StackProcess]:
    process = StackProcess(tmp_path / "state", tmp_path / "stack.log")
    try:
        yield process
    finally:
        process.stop()


def _burst(api_url: str, submissions: list[dict[str, Any]], kill: Any) -> dict[str, int]:
    """POST concurrently; kill the stack once KILL_AFTER are acknowledged. Acknowledged id -> status."""
    acknowledged: dict[str, int] = {}
    lock = threading.Lock()
    killed = threading.Event()

    def submit(submission: dict[str, Any]) -> None:
        if killed.is_set():
            return
        try:
            status, body = http("POST", f"{api_url}/surveys/sipas-2026/responses", json.dumps(submission).encode())
        except (urllib.error.URLError, OSError, HTTPException):
            return  # refused, or cut off by the kill before the whole answer arrived: never acknowledged
        if 200 <= status < 300:
            assert body["receipt"] == submission["id"]
            with lock:
                acknowledged[submission["id"]] = status
                if len(acknowledged) == KILL_AFTER and not killed.is_set():
                    killed.set()
                    kill()

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(submit, submissions))
    return acknowledged


def _lake_ids(stack: LocalStack) -> set[str]:
    s3 = stack.client("s3")
    lake = stack.physical_id("LakeBucket")
    ids: set[str] = set()
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=lake, Prefix="responses/survey=sipas-2026/"):
        for entry in page.get("Contents", []):
            body = gzip.decompress(s3.get_object(Bucket=lake, Key=entry["Key"])["Body"].read())
            ids.update(json.loads(line)["response_id"] for line in body.splitlines())
    return ids


def _stored_ids(stack: LocalStack) -> set[str]:
    ddb = stack.client("dynamodb")
    ids: set[str] = set()
    for page in ddb.get_paginator("scan").paginate(
        TableName=stack.physical_id("ResponsesTable"),
        ConsistentRead=True,
        FilterExpression="survey_id = :s",
        ExpressionAttributeValues={":s": {"S": "sipas-2026"}},
        ProjectionExpression="response_id",
    ):
        ids.update(item["response_id"]["S"] for item in page["Items"])
    return ids


def _counted(api_url: str) -> int:
    status, body = http("GET", f"{api_url}/surveys/sipas-2026/results?include_flagged=1")
    assert status == 200, body
    counts = body["counts"]
    return int(counts["accepted"] + counts["flagged"] + counts["rejected"])


def test_sigkill_mid_burst_loses_nothing_acknowledged(
    stack_process: StackProcess, sipas: dict[str, Any], tmp_path: Path
) -> None:
    stack_process.start()
    acknowledged = _burst(stack_process.api_url, fresh_submissions(sipas, BURST), stack_process.kill)
    assert len(acknowledged) >= KILL_AFTER
    assert len(acknowledged) < BURST, "the kill came after the burst: nothing was in flight"

    stack_process.start()
    # Every acknowledged submission is there, through the API.
    for receipt in acknowledged:
        status, body = http("GET", f"{stack_process.api_url}/responses/{receipt}")
        assert status == 200, (receipt, body)
    # A runner in this process on the restarted stack's moto (its own checkpoints; it never drains).
    with LocalStack(tmp_path / "observer", aws_endpoint=stack_process.aws_url) as observer:
        stored = _stored_ids(observer)
        assert set(acknowledged) <= stored
        # The workers drain: every stored response screened and counted once, and archived.
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if _counted(stack_process.api_url) == len(stored) and stored <= _lake_ids(observer):
                break
            time.sleep(1)
        assert _counted(stack_process.api_url) == len(stored)
        assert stored <= _lake_ids(observer)
        out = observer.invoke("ReconcileFunction", observer.eventbridge_event("aws.events", "Scheduled Event", {}))
        survey = next(s for s in out["surveys"] if s["survey_id"] == "sipas-2026")
        assert survey["difference_count"] == 0, survey["differences"][:5]
