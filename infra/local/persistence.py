"""Persistence of the local stack: stream checkpoints, snapshots of tables and buckets, and their restore."""

from __future__ import annotations

import copy
import json
import os
import threading
from pathlib import Path
from typing import Any

SNAPSHOT_DIR = "snapshot"
CHECKPOINTS_FILE = "checkpoints.json"


def atomic_write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


class Checkpoints:
    """Last processed SequenceNumber per consumer (function/event), stream and shard, kept on disk."""

    def __init__(self, path: Path) -> None:
        self._path = path
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

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return copy.deepcopy(self._data)

    def flush(self) -> None:
        with self._lock:
            if not self._dirty:
                return
            self._path.parent.mkdir(parents=True, exist_ok=True)
            atomic_write(self._path, json.dumps({"version": 1, "checkpoints": self._data}, indent=1))
            self._dirty = False
