"""The platform's keys, from Secrets Manager (or the environment locally), cached for a while.

Secret format: {"current": "k2", "k1": "<old key>", "k2": "<new key>"}. New responses are hashed with
the current key and record its id; keeping old keys lets a later duplicate check hash with each.
The console's keys (CSRF tokens, ...) are derived from the same keys, one per purpose (console_key).
"""

from __future__ import annotations

import hashlib
import hmac
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
            _cached = (time.monotonic(), parse_keyring(_read_secret(s.hmac_secret_id)))
        return _cached[1]


def _read_secret(secret_id: str) -> str:
    return str(client("secretsmanager").get_secret_value(SecretId=secret_id)["SecretString"])


def console_key(purpose: str) -> bytes:
    """The console's key for one purpose ("csrf", ...), derived from the current key: what it signs with."""
    return console_keys(purpose)[0]


def console_keys(purpose: str) -> list[bytes]:
    """The purpose's key under every key of the keyring, the current one first: what a verifier tries.

    A token signed just before a rotation then still verifies for as long as the old key is kept.
    """
    ring = keyring()
    ids = [ring.current_id, *sorted(set(ring.keys) - {ring.current_id})]
    return [derive_key(ring.keys[key_id], purpose) for key_id in ids]


def derive_key(key: bytes, purpose: str) -> bytes:
    """HMAC-SHA256 of a per-purpose label under a managed key.

    The managed keys are long random strings, so HMAC as a PRF is all the derivation they need (HKDF's
    extract step adds nothing). The label keeps each purpose's key apart from the identifier-hash key
    itself and from every other purpose's key.
    """
    if not key:
        raise KeyringError("no key to derive the console's keys from: set PAR_HMAC_SECRET_ID (or PAR_HMAC_KEY)")
    return hmac.new(key, b"par-console\x00" + purpose.encode(), hashlib.sha256).digest()


def forget() -> None:
    global _cached  # noqa: PLW0603
    with _lock:
        _cached = None
