"""The keys of the identifier hashes, from Secrets Manager (or the environment locally), cached for a while.

Secret format: {"current": "k2", "k1": "<old key>", "k2": "<new key>"}. New responses are hashed with
the current key and record its id; keeping old keys lets a later duplicate check hash with each.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass

from chalicelib.settings import settings
from chalicelib.store.aws import client

_lock = threading.Lock()
_cached: tuple[float, Keyring] | None = None
CACHE_SECONDS = 300.0  # a rotation reaches every warm container within five minutes


class KeyringError(RuntimeError):
    """The secret is missing its current key: refuse to hash with anything else."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, bytes]

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]


def parse_keyring(secret: str) -> Keyring:
    data = json.loads(secret)
    current = str(data.get("current") or "")
    if not current or not data.get(current):
        raise KeyringError("the HMAC secret names no usable current key")
    return Keyring(current, {k: str(v).encode() for k, v in data.items() if k != "current" and v})


def keyring() -> Keyring:
    global _cached  # noqa: PLW0603 - a per-container cache, like the AWS clients
    s = settings()
    if not s.hmac_secret_id:
        return Keyring(s.hmac_key_id, {s.hmac_key_id: s.hmac_key})
    with _lock:
        if _cached is None or time.monotonic() - _cached[0] > CACHE_SECONDS:
            secret = client("secretsmanager").get_secret_value(SecretId=s.hmac_secret_id)["SecretString"]
            _cached = (time.monotonic(), parse_keyring(secret))
        return _cached[1]


def forget() -> None:
    global _cached  # noqa: PLW0603
    with _lock:
        _cached = None
