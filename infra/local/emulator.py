"""moto in server mode for the local stack: its server behind the journal, its accounts, and reads of its memory.

Everything here that touches moto's internals (backends, tables, stream shards) is the local
stack's only dependency on them; callers fall back to the AWS APIs when a read fails.
"""

from __future__ import annotations

import base64
import itertools
import json
import logging
import threading
import urllib.request
from collections.abc import Callable, Iterable
from datetime import datetime, timezone
from typing import Any

from infra.local.journal import Journal, JournalMiddleware
from infra.local.wire import item_to_wire

log = logging.getLogger("infra.local")

ACCOUNT_ID = "123456789012"  # moto's default account: bucket names built from AWS::AccountId use it

# Accounts of the stacks whose moto runs in this process (see Emulator.start).
_PROCESS_LOCK = threading.Lock()
_ACCOUNTS_IN_USE: set[str] = set()
_SPARE_ACCOUNTS = itertools.count(100000000001)


class Emulator:
    """One moto server on 127.0.0.1, its mutating requests journaled (once the journal records)."""

    def __init__(self, port: int, journal: Journal) -> None:
        self.port = port
        self.journal = journal
        self.account_id = ACCOUNT_ID
        self.endpoint = ""
        self.app: Callable[..., Iterable[bytes]] | None = None  # moto's own app, for replay
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        """Serve moto; the endpoint. The first emulator of a process resets moto and takes the default account."""
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # one line per AWS call otherwise
        try:  # emulator-only performance fixes, when present (they patch moto in this process)
            from infra.local.moto_patches import apply_moto_patches
        except ImportError:
            pass
        else:
            apply_moto_patches()
        # What moto's ThreadedMotoServer does, with the journal between the socket and moto.
        self.app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server(
            "127.0.0.1", self.port, JournalMiddleware(self.app, self.journal), True, request_handler=MotoRequestHandler
        )
        self._thread = threading.Thread(target=self._server.serve_forever, name="local-moto", daemon=True)
        self._thread.start()
        host, port = self._server.server_address[:2]
        self.endpoint = f"http://{host}:{port}"
        # Every moto server of a process shares one set of backends. The first stack gets the
        # default account and a clean slate; a stack started while another runs (a test's own
        # stack beside a session-wide one) gets an account of its own instead, and resets nothing.
        with _PROCESS_LOCK:
            alone = not _ACCOUNTS_IN_USE
            self.account_id = ACCOUNT_ID if alone else str(next(_SPARE_ACCOUNTS))
            _ACCOUNTS_IN_USE.add(self.account_id)
        if alone:
            self.reset()
        return self.endpoint

    def stop(self) -> None:
        if self._server is None:
            return
        with _PROCESS_LOCK:
            _ACCOUNTS_IN_USE.discard(self.account_id)
            last = not _ACCOUNTS_IN_USE
        if last:  # moto's backends are process-global: the last stack leaves nothing behind
            try:
                self.reset()
            except Exception:
                log.debug("moto reset at stop failed", exc_info=True)
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(10)
        self._server = None
        self._thread = None

    def reset(self) -> None:
        # No proxy: a developer's http_proxy must not see (or break) calls to 127.0.0.1.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        request = urllib.request.Request(f"{self.endpoint}/moto-api/reset", method="POST")  # noqa: S310 - our own http://127.0.0.1 endpoint
        with opener.open(request, timeout=30) as response:
            response.read()

    # ------------------------------------------------------------------ moto's memory

    def table(self, region: str, name: str) -> Any:
        from moto.dynamodb.models import dynamodb_backends

        return dynamodb_backends[self.account_id][region].get_table(name)

    def stream_shard(self, region: str, stream_arn: str, shard_id: str) -> Any:
        """moto's in-memory shard of a stream, or None when it is another one."""
        shard = self.table(region, stream_arn.split("/")[1]).stream_shard
        return shard if shard is not None and shard.id == shard_id else None

    def table_items(self, region: str, name: str) -> list[str]:
        """Every item of a table as DynamoDB JSON text; the caller holds the journal's lock."""
        return [json.dumps(item_to_wire(item.to_json()["Attributes"])) for item in self.table(region, name).all_items()]

    def stream_state(self, region: str, name: str, first_needed: int | None) -> dict[str, Any] | None:
        """A table's stream: its shard, its next sequence number and the records from `first_needed` on
        (None: no consumer needs any). The caller holds the journal's lock. None for a table without a stream."""
        shard = self.table(region, name).stream_shard
        if shard is None:
            return None
        start, end = shard.starting_sequence_number, shard.starting_sequence_number + len(shard.items)
        first = end if first_needed is None else min(end, max(start, first_needed))
        records = [_record_text(r.to_json()) for r in shard.items[first - start :]]
        return {"shard": shard.id, "next": end, "records": records}

    def set_stream(self, region: str, name: str, state: dict[str, Any]) -> bool:
        """Make a fresh table's stream continue where a snapshot's left off: same sequence numbers, the
        records not yet processed by every consumer, nothing for the items put back by the restore."""
        shard = self.table(region, name).stream_shard
        if shard is None or shard.id != state["shard"]:
            return False
        shard.items = [_SavedRecord(text) for text in state["records"]]
        shard.starting_sequence_number = int(state["next"]) - len(shard.items)
        return True


def _record_text(record: dict[str, Any]) -> str:
    def encode(value: Any) -> Any:
        if isinstance(value, datetime):  # moto keeps naive UTC times
            return {"__datetime__": value.replace(tzinfo=value.tzinfo or timezone.utc).timestamp()}
        if isinstance(value, bytes):  # binary attributes: base64 text, as moto's own records may hold them
            return base64.b64encode(value).decode("ascii")
        raise TypeError(f"{type(value).__name__} in a stream record")

    return json.dumps(record, default=encode)


class _SavedRecord:
    """A stream record read back from a snapshot; it answers to_json() as moto's StreamRecord does."""

    def __init__(self, text: str) -> None:
        self._text = text

    def to_json(self) -> dict[str, Any]:
        def decode(value: dict[str, Any]) -> Any:
            if set(value) == {"__datetime__"}:
                return datetime.fromtimestamp(value["__datetime__"], timezone.utc).replace(tzinfo=None)
            return value

        record: dict[str, Any] = json.loads(self._text, object_hook=decode)
        return record
