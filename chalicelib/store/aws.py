"""Lazily built, cached AWS clients; the endpoint comes from AWS_ENDPOINT_URL, so moto, AWS or on-prem all work."""

from __future__ import annotations

import threading
from typing import Any

from chalicelib.settings import settings

_lock = threading.Lock()
READ_TIMEOUT = 10  # seconds; a bench on the local stack raises it (moto answers big queries slowly)
_clients: dict[str, Any] = {}


def client(service: str) -> Any:
    cached = _clients.get(service)
    if cached is not None:
        return cached
    with _lock:
        if service not in _clients:
            import boto3
            from botocore.config import Config

            s = settings()
            _clients[service] = boto3.session.Session().client(
                service,
                region_name=s.region,
                endpoint_url=s.endpoint_url,
                config=Config(
                    retries={"mode": "standard", "max_attempts": 4}, connect_timeout=3, read_timeout=READ_TIMEOUT
                ),
            )
    return _clients[service]


def reset_clients() -> None:
    """Forget clients (the local stack and tests change the endpoint after import)."""
    with _lock:
        _clients.clear()
