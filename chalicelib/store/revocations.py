"""The revocations table behind chalicelib/auth/revocation.py: accounts whose access changed, signed-out sessions.

Keyed by a lower-cased username or a session digest ("session:<sha256>"). A warm container re-reads an
account's entry every few seconds; entries expire by TTL, after every token issued before them has.
"""

from __future__ import annotations

import threading
import time

from chalicelib.settings import settings
from chalicelib.store.aws import client

# Longer than any token's lifetime: ID and access tokens live 60 minutes, enumerators' device tokens
# 30 days (chalicelib/domain/fieldwork.py), so an account's access change must be remembered 31.
KEEP_SECONDS = 31 * 24 * 3600


class RevocationRepository:
    def __init__(self, table: str | None = None, cache_seconds: float = 5.0) -> None:
        self._table = table or settings().revocations_table
        self._ttl = cache_seconds
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, float | None]] = {}

    def revoke(self, username: str, at: float | None = None, keep_seconds: int | None = None) -> None:
        moment = time.time() if at is None else at
        keep = KEEP_SECONDS if keep_seconds is None else keep_seconds
        client("dynamodb").put_item(
            TableName=self._table,
            Item={
                "username": {"S": username.lower()},
                "revoked_at": {"N": f"{moment:.3f}"},
                "expires_at": {"N": str(int(moment) + keep)},
            },
        )
        with self._lock:
            self._cache.pop(username.lower(), None)

    def revoked_at(self, username: str, fresh: bool = False) -> float | None:
        key = username.lower()
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit and not fresh and now - hit[0] < self._ttl:
            return hit[1]
        answer = client("dynamodb").get_item(TableName=self._table, Key={"username": {"S": key}}, ConsistentRead=fresh)
        item = answer.get("Item")
        value = float(item["revoked_at"]["N"]) if item else None
        with self._lock:
            self._cache[key] = (now, value)
        return value
