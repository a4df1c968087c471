"""Persistence of the local stack: stream checkpoints, snapshots, and how snapshot and journal fit together.

A snapshot is a consistent cut without stopping the world. While it holds the journal's lock (no
mutating request is applied meanwhile; reads go on) it copies, from moto's memory, every table
item, each stream's position and the stream records some consumer has not processed yet, and
switches the journal to a new segment. Then, with the lock released, it writes those files and
the buckets' objects, and only once they are on disk deletes the journal segments before the cut.
Requests wait only while tables are copied in memory (a fraction of a second), never for disk.

Why the cut must be exact: replaying a DynamoDB request is not idempotent (ADD counters,
conditions, stream sequence numbers), so the journal after the cut must apply to exactly the
state at the cut. S3 objects may be copied after the cut (blind writes replayed in order end the
same whatever the copy saw), which keeps slow object reads out of the lock.

After a restart, restore() puts the items back, makes each stream continue with the same
sequence numbers (the unprocessed records first), and the journal's replay then re-creates every
later stream record with the number it had. So the pollers' checkpoints stay valid, and so do the
aggregate worker's per-response markers (chalicelib/store/aggregates.py): nothing is counted
twice, and what was not yet processed at the crash is processed after it.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.local.journal import fsync_dir

SNAPSHOT_DIR = "snapshot"
CHECKPOINTS_FILE = "checkpoints.json"


def atomic_write(path: Path, text: str, durable: bool = False) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        handle.write(text)
        if durable:
            handle.flush()
            os.fsync(handle.fileno())
    os.replace(tmp, path)


def fsync_tree(directory: Path) -> None:
    """Every file and folder under `directory` on disk (before the journal it replaces is deleted)."""
    for path in sorted(directory.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass
class TableCopy:
    """One table at the cut: items as DynamoDB JSON text, and its stream (None: the table has none)."""

    name: str
    items: list[str]
    stream: dict[str, Any] | None


def write_snapshot(
    state_dir: Path,
    stack_name: str,
    created: str,
    tables: dict[str, TableCopy],
    buckets: dict[str, str],
    dump_bucket: Callable[[str, Path], list[dict[str, Any]]],
    checkpoints: dict[str, Any],
    journal_segment: int | None,
) -> Path:
    """Write a snapshot beside the current one, make it durable, then swap it in; its path."""
    target = state_dir / SNAPSHOT_DIR
    tmp = state_dir / f"{SNAPSHOT_DIR}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    (tmp / "dynamodb").mkdir(parents=True)
    (tmp / "s3").mkdir()
    manifest: dict[str, Any] = {
        "version": 2,
        "created": created,
        "stack": stack_name,
        "journal_segment": journal_segment,  # replay the journal from this segment on
        "tables": {},
        "buckets": {},
    }
    for logical_id, table in tables.items():
        (tmp / "dynamodb" / f"{logical_id}.json").write_text("[" + ",".join(table.items) + "]", encoding="utf-8")
        entry: dict[str, Any] = {"name": table.name, "items": len(table.items)}
        if table.stream is not None:
            records = table.stream["records"]
            (tmp / "dynamodb" / f"{logical_id}.stream.json").write_text("[" + ",".join(records) + "]", encoding="utf-8")
            entry["stream"] = {"shard": table.stream["shard"], "next": table.stream["next"], "records": len(records)}
        manifest["tables"][logical_id] = entry
    for logical_id, bucket in buckets.items():
        manifest["buckets"][logical_id] = {"name": bucket, "objects": dump_bucket(bucket, tmp / "s3" / logical_id)}
    manifest["checkpoints"] = checkpoints
    atomic_write(tmp / "manifest.json", json.dumps(manifest, indent=1, ensure_ascii=False))
    fsync_tree(tmp)
    old = state_dir / f"{SNAPSHOT_DIR}.old"
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    tmp.rename(target)
    fsync_dir(state_dir)
    shutil.rmtree(old, ignore_errors=True)
    return target


def object_file_name(key: str) -> str:
    """Flat file names: keys "a" and "a/b" cannot both be paths; the manifest keeps the key."""
    digest = hashlib.sha256(key.encode()).hexdigest()[:20]
    return f"{digest}-{re.sub(r'[^A-Za-z0-9._-]', '_', key.rsplit('/', 1)[-1])[:80]}"


def dump_bucket(s3: Any, bucket: str, directory: Path) -> list[dict[str, Any]]:
    """Every object's latest version into `directory`, through the API; the manifest's entries."""
    directory.mkdir(parents=True)
    objects = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for entry in page.get("Contents", []):
            key = entry["Key"]
            try:
                obj = s3.get_object(Bucket=bucket, Key=key)
            except s3.exceptions.NoSuchKey:
                continue  # deleted after the cut: the journal deletes it again
            filename = object_file_name(key)
            (directory / filename).write_bytes(obj["Body"].read())
            objects.append(
                {
                    "key": key,
                    "file": filename,
                    "content_type": obj.get("ContentType"),
                    "content_encoding": obj.get("ContentEncoding"),
                    "metadata": obj.get("Metadata", {}),
                }
            )
    return objects


def put_objects(s3: Any, bucket: str, objects: Iterator[tuple[dict[str, Any], bytes]]) -> None:
    for obj, body in objects:
        extra = {"Metadata": obj.get("metadata") or {}}
        for arg, key in (("ContentType", "content_type"), ("ContentEncoding", "content_encoding")):
            if obj.get(key):
                extra[arg] = obj[key]
        s3.put_object(Bucket=bucket, Key=obj["key"], Body=body, **extra)


def put_items(ddb: Any, table: str, items: list[dict[str, Any]]) -> None:
    for start in range(0, len(items), 25):
        requests = [{"PutRequest": {"Item": item}} for item in items[start : start + 25]]
        for _ in range(10):
            unprocessed = ddb.batch_write_item(RequestItems={table: requests}).get("UnprocessedItems", {})
            requests = unprocessed.get(table, [])
            if not requests:
                break
        else:
            raise RuntimeError(f"could not restore {len(requests)} item(s) into {table}")


class Snapshot:
    """A snapshot on disk, read back."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.manifest: dict[str, Any] = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))

    @staticmethod
    def load(state_dir: Path) -> Snapshot | None:
        directory = state_dir / SNAPSHOT_DIR
        return Snapshot(directory) if (directory / "manifest.json").exists() else None

    @property
    def journal_segment(self) -> int | None:
        """Where the journal goes on from; None for a snapshot taken without one (or before it existed)."""
        segment = self.manifest.get("journal_segment")
        return int(segment) if segment is not None else None

    def tables(self) -> dict[str, dict[str, Any]]:
        return dict(self.manifest.get("tables", {}))

    def buckets(self) -> dict[str, dict[str, Any]]:
        return dict(self.manifest.get("buckets", {}))

    def items(self, logical_id: str) -> list[dict[str, Any]]:
        return list(json.loads((self.directory / "dynamodb" / f"{logical_id}.json").read_text(encoding="utf-8")))

    def stream(self, logical_id: str) -> dict[str, Any] | None:
        """The stream's shard, next sequence number and unprocessed records (as text), if saved."""
        entry = self.manifest["tables"][logical_id].get("stream")
        if entry is None:
            return None
        path = self.directory / "dynamodb" / f"{logical_id}.stream.json"
        records = [json.dumps(r) for r in json.loads(path.read_text(encoding="utf-8"))]
        return {"shard": entry["shard"], "next": entry["next"], "records": records}

    def objects(self, logical_id: str) -> Iterator[tuple[dict[str, Any], bytes]]:
        for obj in self.manifest["buckets"][logical_id]["objects"]:
            yield obj, (self.directory / "s3" / logical_id / obj["file"]).read_bytes()


class Checkpoints:
    """Last processed SequenceNumber per consumer (function/event), stream and shard, kept on disk."""

    def __init__(self, path: Path) -> None:
        self._path = path
        # Called before each write: the journal makes durable every request applied so far, so a
        # checkpoint never names a stream record whose write could still be lost.
        self.barrier: Callable[[], None] | None = None
        self._lock = threading.Lock()
        self._dirty = False
        self._data: dict[str, dict[str, dict[str, str]]] = {}
        if path.exists():
            self._data = json.loads(path.read_text(encoding="utf-8")).get("checkpoints", {})

    def get(self, consumer: str, stream_arn: str, shard_id: str) -> str | None:
        with self._lock:
            return self._data.get(consumer, {}).get(stream_arn, {}).get(shard_id)

    def advance(self, consumer: str, stream_arn: str, shard_id: str, seq: str) -> None:
        with self._lock:
            self._data.setdefault(consumer, {}).setdefault(stream_arn, {})[shard_id] = seq
            self._dirty = True

    def keep_only(self, stream_arns: set[str]) -> None:
        """Forget checkpoints of streams that no longer exist (a fresh moto has new stream ARNs)."""
        with self._lock:
            for consumer in list(self._data):
                streams = {a: s for a, s in self._data[consumer].items() if a in stream_arns}
                if streams != self._data[consumer]:
                    self._dirty = True
                if streams:
                    self._data[consumer] = streams
                else:
                    del self._data[consumer]

    def rebind(self, table_name: str, stream_arn: str) -> None:
        """Move a table's checkpoints to its new stream ARN: after a restore its stream goes on with the
        same sequence numbers, but moto names it anew (the label is its creation time)."""
        with self._lock:
            for streams in self._data.values():
                for arn in [a for a in streams if a != stream_arn and a.split("/")[1:2] == [table_name]]:
                    streams.setdefault(stream_arn, {}).update(streams.pop(arn))
                    self._dirty = True

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._data)

    def flush(self) -> None:
        if self.barrier is not None and self._dirty:
            self.barrier()
        with self._lock:
            if not self._dirty:
                return
            self._path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self._path, json.dumps({"version": 1, "checkpoints": self._data}, indent=1))
            self._dirty = False
