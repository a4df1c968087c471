"""The local API: the Chalice app served over HTTP on 127.0.0.1, many requests at a time.

Nothing a request waits for is held by another client:
- a request's whole body is read before the request enters the app, and every read from a client
  has a deadline (CLIENT_TIMEOUT): a client that trickles its request line, headers or body is
  answered 408 or dropped, and only its own connection's thread waits for it;
- requests are not gated against persistence. A snapshot used to take a readers-writer gate alone
  (and stall every request for seconds while it scanned); it now makes its consistent cut by
  holding the journal's write lock while it copies the tables in memory (infra/local/persistence.py),
  so mutating AWS calls wait a fraction of a second and nothing else waits at all. A request half
  done at the cut is what a crash at that moment would leave, and the journal carries its rest.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import threading
import time
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

CLIENT_TIMEOUT = 10.0  # seconds for a client's request line, its headers, and its whole body


class _SlowClient(Exception):
    """The client did not send its body within CLIENT_TIMEOUT."""


class ApiServer:
    """One Chalice app on one port; start() returns its URL, stop() closes it."""

    def __init__(self, quiet: threading.Event, client_timeout: float = CLIENT_TIMEOUT) -> None:
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
        quiet, read_timeout = self.quiet, self.client_timeout

        class Handler(ChaliceRequestHandler):
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
                    self._parse_payload()  # all of it before the app runs (Chalice reads it from here)
                except (_SlowClient, TimeoutError, ValueError):
                    self.close_connection = True
                    with contextlib.suppress(OSError):
                        self.send_error(HTTPStatus.REQUEST_TIMEOUT, "request body not received in time")
                    return
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
        server = LocalDevServer(app_obj, config, "127.0.0.1", port, handler_cls=Handler)
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
