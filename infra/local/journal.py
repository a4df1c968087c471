"""The local AWS emulator's write-ahead journal: every mutating request moto accepts is on disk before its answer.

What is journaled: requests that change what the local stack keeps, decided per service from the
request itself (SigV4 credential scope, X-Amz-Target or the query protocol's Action):
- DynamoDB: every operation but the reads (Get*, BatchGet*, Query, Scan, TransactGet*, Describe*,
  List*); PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems, ExecuteStatement...
- S3: PUT, POST and DELETE (objects, multipart uploads); GET and HEAD are reads.
- EventBridge, SNS, Secrets Manager, Cognito: every operation but Get*/Describe*/List*/Test*.
- SQS: the producers (SendMessage, SendMessageBatch, queue changes), not the consumers: a
  ReceiveMessage receipt handle is random and dies with the emulator, so after a crash the
  messages sent since the last snapshot are delivered again (at least once, as SQS promises).
Not journaled: reads, DynamoDB Streams, STS, CloudFormation (start() deploys again), moto's own API.

Order: a mutating request is applied and appended under one lock, so the journal's order is the
order moto applied them, which is what conditional writes, counters and stream sequence numbers
depend on. Its answer waits until its record is durable: one fdatasync covers every record
appended before it (group commit), so concurrent requests share fsyncs.

Records: [length u32][crc32 u32][header JSON \n body]. A record cut short or failing its CRC ends
its segment (a crash while it was written: it was never answered) and is truncated away at replay.
Segments (journal/000001.log, ...) let a snapshot compact the journal: it switches to a new segment
at its cut and deletes the older ones once it is on disk (infra/local/persistence.py).
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import struct
import sys
import threading
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

log = logging.getLogger("infra.local")

JOURNAL_DIR = "journal"
_FRAME = struct.Struct(">II")
_KEPT_ENVIRON = ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "RAW_URI", "REQUEST_URI")
_READ_PREFIXES = ("Get", "BatchGet", "TransactGet", "Describe", "List", "Query", "Scan", "Test")
_SQS_CONSUMERS = frozenset(
    {"ReceiveMessage", "DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility", "ChangeMessageVisibilityBatch"}
)
_JOURNALED_SERVICES = frozenset({"dynamodb", "s3", "sqs", "sns", "events", "secretsmanager", "cognito-idp"})
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/")
_UPLOAD_ID = re.compile(rb"<UploadId>([^<]+)</UploadId>")


def _service(environ: dict[str, Any]) -> str | None:
    match = _CREDENTIAL.search(environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(2).lower() if match else None


def _operation(environ: dict[str, Any], body: bytes) -> str:
    """The operation's name: X-Amz-Target's action, else the query protocol's Action, else the HTTP method."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rsplit(".", 1)[-1]
    for source in (environ.get("QUERY_STRING", ""), body.decode("utf-8", "replace")):
        action = parse_qs(source).get("Action")
        if action:
            return action[0]
    return str(environ.get("REQUEST_METHOD", ""))


def is_mutating(environ: dict[str, Any], body: bytes) -> bool:
    """Whether a request to moto changes state the local stack must keep (see the module's docstring)."""
    service = _service(environ)
    if service not in _JOURNALED_SERVICES:
        return False
    if service == "s3":
        return environ.get("REQUEST_METHOD") in {"PUT", "POST", "DELETE"}
    operation = _operation(environ, body)
    if service == "sqs" and operation in _SQS_CONSUMERS:
        return False
    return not operation.startswith(_READ_PREFIXES)


def _read_body(environ: dict[str, Any]) -> bytes:
    stream = environ.get("wsgi.input")
    if stream is None:
        return b""
    if environ.get("wsgi.input_terminated"):
        return bytes(stream.read())  # chunked upload, decoded by the server: read to its end
    length = int(environ.get("CONTENT_LENGTH") or 0)
    return bytes(stream.read(length)) if length > 0 else b""


def encode(environ: dict[str, Any], body: bytes, status: str, upload_id: str | None, account_id: str = "") -> bytes:
    header: dict[str, Any] = {
        "environ": {k: v for k, v in environ.items() if k in _KEPT_ENVIRON or k.startswith("HTTP_")},
        "status": status,
        "account": account_id,
    }
    header["environ"].pop("HTTP_TRANSFER_ENCODING", None)  # the body is stored decoded
    if upload_id is not None:
        header["upload_id"] = upload_id
    payload = json.dumps(header, ensure_ascii=False).encode() + b"\n" + body
    return _FRAME.pack(len(payload), zlib.crc32(payload)) + payload


def decode(payload: bytes) -> tuple[dict[str, Any], bytes]:
    header, _, body = payload.partition(b"\n")
    return json.loads(header), body


class Journal:
    """Append-only segments in `directory`; `lock` serialises apply-and-append (see JournalMiddleware)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.lock = threading.RLock()  # a snapshot holds it across its capture (see persistence.py)
        self.recording = False
        self.account_id = ""  # the account the requests are applied to (see Replayer)
        self._fd: int | None = None
        self._segment = 0
        self._appended = 0  # records appended in this process
        self._durable = 0  # of which this many are known to be on disk
        self._sync = threading.Condition()
        self._syncing = False
        self.fsyncs = 0

    # ------------------------------------------------------------------ segments

    def segments(self) -> list[int]:
        if not self.directory.exists():
            return []
        return sorted(int(p.stem) for p in self.directory.glob("*.log") if p.stem.isdigit())

    def _path(self, segment: int) -> Path:
        return self.directory / f"{segment:06d}.log"

    def start_recording(self) -> int:
        """Open a new segment after every existing one and journal from now on; its number."""
        with self.lock:
            self._open(max(self.segments(), default=0) + 1)
            self.recording = True
            return self._segment

    def rotate(self) -> int:
        """Switch to a new segment (caller holds `lock`): everything before it is in older segments, durable."""
        with self.lock:
            if self._fd is None:
                return max(self.segments(), default=0) + 1
            self._open(self._segment + 1)
            return self._segment

    def _open(self, segment: int) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._path(segment), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        fsync_dir(self.directory)
        with self._sync:
            self._sync.wait_for(lambda: not self._syncing)
            old, self._fd, self._segment = self._fd, fd, segment
            if old is not None:
                os.fdatasync(old)
                os.close(old)
                self._durable = self._appended

    def drop_before(self, segment: int) -> None:
        """Delete the segments a snapshot made redundant."""
        for number in self.segments():
            if number < segment:
                self._path(number).unlink(missing_ok=True)
        fsync_dir(self.directory)

    def close(self) -> None:
        with self.lock, self._sync:
            self._sync.wait_for(lambda: not self._syncing)
            self.recording = False
            if self._fd is not None:
                os.fdatasync(self._fd)
                os.close(self._fd)
                self._fd = None
                self._durable = self._appended

    # ------------------------------------------------------------------ writing

    def append(self, record: bytes) -> int:
        """Write one record (caller holds `lock`); its number, for wait_durable()."""
        assert self._fd is not None, "start_recording() first"
        written = os.write(self._fd, record)
        while written < len(record):  # a regular file takes it whole; be safe anyway
            written += os.write(self._fd, record[written:])
        self._appended += 1
        return self._appended

    def wait_durable(self, number: int) -> None:
        """Return once record `number` is on disk. One caller syncs for all waiting (group commit)."""
        with self._sync:
            while self._durable < number:
                if self._syncing:
                    self._sync.wait()
                    continue
                self._syncing = True
                target, fd = self._appended, self._fd
                self._sync.release()
                try:
                    if fd is not None:
                        os.fdatasync(fd)
                finally:
                    self._sync.acquire()
                    self._syncing = False
                    self.fsyncs += 1
                    self._durable = max(self._durable, target)
                    self._sync.notify_all()

    def sync(self) -> None:
        """Everything appended so far is on disk (the pollers' checkpoints wait for this)."""
        self.wait_durable(self._appended)

    # ------------------------------------------------------------------ reading

    def records(self, first_segment: int) -> Iterator[tuple[dict[str, Any], bytes]]:
        """Every whole record of the segments from `first_segment` on, in order; torn tails are cut off."""
        for segment in self.segments():
            if segment >= first_segment:
                yield from self._read_segment(self._path(segment))

    def _read_segment(self, path: Path) -> Iterator[tuple[dict[str, Any], bytes]]:
        data = path.read_bytes()
        offset = 0
        while offset < len(data):
            if offset + _FRAME.size > len(data):
                break
            length, crc = _FRAME.unpack_from(data, offset)
            payload = data[offset + _FRAME.size : offset + _FRAME.size + length]
            if len(payload) < length or zlib.crc32(payload) != crc:
                break
            yield decode(payload)
            offset += _FRAME.size + length
        if offset < len(data):
            # Killed while writing: that request was never answered. Cut it off, so that the
            # segment reads the same next time and nothing is ever appended after garbage.
            log.warning(
                "journal %s: ignoring a torn record (%d byte(s)) at offset %d", path, len(data) - offset, offset
            )
            with path.open("r+b") as handle:
                handle.truncate(offset)
                os.fsync(handle.fileno())


def fsync_dir(directory: Path) -> None:
    """A directory's entries (a new or renamed file) on disk, not only the files' contents."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class JournalMiddleware:
    """WSGI middleware around moto's server app: mutating requests are applied, journaled, then answered."""

    def __init__(self, app: Callable[..., Iterable[bytes]], journal: Journal) -> None:
        self.app = app
        self.journal = journal

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not self.journal.recording or _service(environ) not in _JOURNALED_SERVICES:
            return self.app(environ, start_response)
        body = _read_body(environ)
        environ["wsgi.input"] = io.BytesIO(body)
        environ["CONTENT_LENGTH"] = str(len(body))
        if not is_mutating(environ, body):
            return self.app(environ, start_response)
        with self.journal.lock:
            status, headers, answer = _call(self.app, environ)
            number = 0
            if self.journal.recording:  # close() may have stopped it while we waited for the lock
                upload = _UPLOAD_ID.search(answer) if environ.get("QUERY_STRING", "").startswith("uploads") else None
                upload_id = upload.group(1).decode() if upload else None
                record = encode(environ, body, status, upload_id, self.journal.account_id)
                number = self.journal.append(record)
        if number:
            self.journal.wait_durable(number)
        start_response(status, headers)
        return [answer]


def _call(app: Callable[..., Iterable[bytes]], environ: dict[str, Any]) -> tuple[str, list[Any], bytes]:
    """Run a WSGI app to completion: its status, headers and whole body."""
    started: list[Any] = []
    chunks: list[bytes] = []

    def start_response(status: str, headers: list[Any], exc_info: Any = None) -> Callable[[bytes], None]:  # noqa: ARG001 - WSGI's signature
        started[:] = [status, headers]
        return chunks.append

    result = app(environ, start_response)
    try:
        chunks.extend(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return started[0], started[1], b"".join(chunks)


class Replayer:
    """Applies journal records to moto's app in order, as the requests that made them were applied."""

    def __init__(self, app: Callable[..., Iterable[bytes]], credentials: dict[str, str], account_id: str) -> None:
        self.app = app
        self.credentials = credentials
        self.account_id = account_id
        self.upload_ids: dict[str, str] = {}  # multipart upload id when journaled -> id in this moto
        self.applied = 0
        self.failed = 0

    def apply(self, header: dict[str, Any], body: bytes) -> None:
        environ = dict(header["environ"])
        environ.update(
            {
                "SERVER_NAME": "127.0.0.1",
                "SERVER_PORT": "0",
                "SERVER_PROTOCOL": "HTTP/1.1",
                "REMOTE_ADDR": "127.0.0.1",
                "wsgi.version": (1, 0),
                "wsgi.url_scheme": "http",
                "wsgi.input": io.BytesIO(body),
                "wsgi.errors": sys.stderr,
                "wsgi.multithread": True,
                "wsgi.multiprocess": False,
                "wsgi.run_once": False,
                "CONTENT_LENGTH": str(len(body)),
            }
        )
        self._as_this_stack(environ)
        renames = dict(self.upload_ids)
        if header.get("account") and header["account"] != self.account_id:
            # A stack beside another in one process gets a spare account, and names built from
            # AWS::AccountId (buckets, queue URLs) change with it.
            renames[header["account"]] = self.account_id
        for old, new in renames.items():
            for key in ("PATH_INFO", "QUERY_STRING", "RAW_URI", "REQUEST_URI"):
                if key in environ and old in environ[key]:
                    environ[key] = environ[key].replace(old, new)
        status, _, answer = _call(self.app, environ)
        if "upload_id" in header:
            upload = _UPLOAD_ID.search(answer)
            if upload:
                self.upload_ids[header["upload_id"]] = upload.group(1).decode()
        self.applied += 1
        if status[:1] != header["status"][:1]:
            # The same request on the same state answers the same; a difference means the state
            # before the journal (the snapshot) was not the one it was recorded on.
            self.failed += 1
            log.warning(
                "journal replay: %s %s answered %s, %s when journaled",
                environ.get("REQUEST_METHOD"),
                environ.get("HTTP_X_AMZ_TARGET") or environ.get("PATH_INFO"),
                status,
                header["status"],
            )

    def _as_this_stack(self, environ: dict[str, Any]) -> None:
        """Sign as this stack's account: moto maps access keys to accounts, and assumed-role keys die with it."""
        auth = environ.get("HTTP_AUTHORIZATION")
        if auth:
            key = self.credentials["AWS_ACCESS_KEY_ID"]
            environ["HTTP_AUTHORIZATION"] = _CREDENTIAL.sub(
                lambda m: m.group(0).replace(f"Credential={m.group(1)}/", f"Credential={key}/", 1), auth
            )
        token = self.credentials.get("AWS_SESSION_TOKEN")
        if token:
            environ["HTTP_X_AMZ_SECURITY_TOKEN"] = token
        else:
            environ.pop("HTTP_X_AMZ_SECURITY_TOKEN", None)
