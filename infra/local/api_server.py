"""The local API: the Chalice app served over HTTP on 127.0.0.1, many requests at a time.

Two rules keep one client from stalling the others:
- a request's whole body is read before the request enters the app (and the gate below), and every
  read from a client has a deadline (CLIENT_TIMEOUT): a client that trickles its headers or body
  is answered 408 or dropped, and never holds anything another request needs;
- the gate is shared by requests and taken alone only by what must see no request half done. With
  the journal on, nothing needs that: a snapshot copies moto's memory while holding the journal's
  write lock for a moment (see infra/local/persistence.py), so requests are never stopped. Only a
  stack without a journal (an external endpoint, or the benchmark's journal-off mode) still
  snapshots by taking the gate alone.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from http import HTTPStatus
from pathlib import Path
from typing import Any

CLIENT_TIMEOUT = 10.0  # seconds for a client's request line, its headers, and its whole body


class Gate:
    """A readers-writer lock: HTTP requests share it; a quiesced snapshot takes it alone (writers first)."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writer = False
        self._waiting_writers = 0

    @contextlib.contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writer and not self._waiting_writers)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting_writers += 1
            self._cond.wait_for(lambda: not self._writer and not self._readers)
            self._waiting_writers -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


class _SlowClient(Exception):
    """The client did not send its body within CLIENT_TIMEOUT."""


class ApiServer:
    """One Chalice app on one port; start() returns its URL, stop() closes it."""

    def __init__(self, gate: Gate, quiet: threading.Event, client_timeout: float = CLIENT_TIMEOUT) -> None:
        self.gate = gate
        self.quiet = quiet  # set: no access log (seeding posts hundreds of requests)
        self.client_timeout = client_timeout
        self.url = ""
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(
        self,
        root: Path,
        app_import: str,
        stage: str,
        port: int,
        set_env: Callable[[dict[str, str]], None],
        reset_app_caches: Callable[[], None],
    ) -> str:
        """Import the app (after the stack set the environment), apply the stage's variables, serve it."""
        from chalice.config import Config
        from chalice.local import ChaliceRequestHandler, CustomLocalChalice, LocalChalice, LocalDevServer

        module_name, _, attr = app_import.partition(":")
        app_obj = getattr(importlib.import_module(module_name), attr or "app")
        config_file = root / ".chalice" / "config.json"
        from_disk = json.loads(config_file.read_text(encoding="utf-8")) if config_file.exists() else {}
        # The stage's own variables (e.g. tuning knobs) apply unless the stack already set them.
        stage_env = {
            **from_disk.get("environment_variables", {}),
            **from_disk.get("stages", {}).get(stage, {}).get("environment_variables", {}),
        }
        set_env(stage_env)
        reset_app_caches()
        config = Config(
            chalice_stage=stage,
            user_provided_params={"chalice_app": app_obj, "project_dir": root.as_posix()},
            config_from_disk=from_disk,
            default_params={"project_dir": root.as_posix(), "api_gateway_stage": "api", "autogen_policy": False},
        )
        gate, quiet, read_timeout = self.gate, self.quiet, self.client_timeout

        class GatedHandler(ChaliceRequestHandler):
            # StreamRequestHandler puts this timeout on the socket: the request line and headers
            # must come within it (else http.server drops the connection), and so must each read.
            timeout = read_timeout

            _payload: tuple[dict[str, Any], bytes | None] | None = None

            def _parse_payload(self) -> tuple[dict[str, Any], bytes | None]:
                if self._payload is None:
                    self._payload = (dict(self.headers), self._read_body())
                return self._payload

            def _read_body(self) -> bytes | None:
                length = int(self.headers.get("content-length") or 0)
                if length <= 0:
                    return None
                deadline = time.monotonic() + read_timeout
                chunks: list[bytes] = []
                received = 0
                while received < length:
                    if time.monotonic() > deadline:
                        raise _SlowClient
                    chunk = self.rfile.read1(min(length - received, 65536))  # a socket timeout raises
                    if not chunk:
                        raise _SlowClient  # the client went away mid-body
                    chunks.append(chunk)
                    received += len(chunk)
                return b"".join(chunks)

            def _generic_handle(self) -> None:
                self._payload = None
                try:
                    self._parse_payload()  # before the gate: a slow body holds no other request
                except (_SlowClient, TimeoutError, ValueError):
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.send_error(HTTPStatus.REQUEST_TIMEOUT, "request body not received in time")
                    return
                with gate.shared():
                    super()._generic_handle()

            def log_message(self, format: str, *args: Any) -> None:
                if not quiet.is_set():
                    super().log_message(format, *args)

            # every method reaches Chalice (which answers 405/403), as API Gateway routes them
            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = do_TRACE = do_QUERY = (
                _generic_handle
            )

        if not isinstance(app_obj, LocalChalice):
            # What chalice.local.create_local_server does: a thread-local current_request, which the
            # multithreaded server needs. Done once per app object (a second swap would loop).
            CustomLocalChalice.__bases__ = (LocalChalice, app_obj.__class__)
            app_obj.__class__ = CustomLocalChalice
        server = LocalDevServer(app_obj, config, "127.0.0.1", port, handler_cls=GatedHandler)
        server.server.block_on_close = False  # stop() must not wait for a client that keeps its connection open
        self._server = server
        self._thread = threading.Thread(target=server.server.serve_forever, name="local-api", daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{server.server.server_address[1]}"
        return self.url

    @property
    def running(self) -> bool:
        return self._server is not None

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.server.shutdown()
        self._server.server.server_close()
        if self._thread is not None:
            self._thread.join(10)
        self._server = None
        self._thread = None
