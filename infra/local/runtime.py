"""The local Lambda runtime: handlers imported once like warm containers, invoked with a Lambda context.

Synchronous invocations return the handler's result or raise; asynchronous ones (schedules,
EventBridge rules) retry as EventInvokeConfig says and then send Lambda's on-failure record to the
function's destination.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import time
import traceback
import uuid
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from infra.local.template import FunctionSpec

log = logging.getLogger("infra.local")


class FunctionError(RuntimeError):
    """An asynchronous invocation failed on every attempt (and went to its on-failure destination)."""


def iso(moment: datetime, millis: bool = False) -> str:
    """A UTC time as AWS events write it."""
    moment = moment.astimezone(timezone.utc)
    if millis:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime:
    return datetime.now(timezone.utc)


class LambdaContext:
    """The attributes of the Python runtime's context object that handlers and Powertools read."""

    def __init__(self, spec: FunctionSpec) -> None:
        self.function_name = spec.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = spec.arn
        self.memory_limit_in_mb = str(spec.memory)  # a string, as in the Lambda runtime
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{spec.function_name}"
        self.log_stream_name = f"{now():%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self.tenant_id = None
        self._deadline = time.monotonic() + spec.timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class FunctionRunner:
    """Imports and invokes the template's functions in this process.

    `resolve` evaluates a template expression against the deployed stack (None: not deployed);
    `send_to_destination` delivers an on-failure record; `stopping` tells when to give up retrying.
    """

    def __init__(
        self,
        resolve: Callable[[Any], str | None],
        send_to_destination: Callable[[str, dict[str, Any]], None],
        stopping: Callable[[], bool],
    ) -> None:
        self._resolve = resolve
        self._send_to_destination = send_to_destination
        self._stopping = stopping
        self._handlers: dict[str, Callable[..., Any]] = {}
        self._import_lock = threading.Lock()

    def handler(self, spec: FunctionSpec) -> Callable[..., Any]:
        """Import the handler once, like a warm container.

        The function's own environment variables are overlaid while its module is imported, which
        is when Powertools and settings read them; at invocation the process holds the Globals
        (one process serves every function, so per-function values cannot all be live at once).
        """
        with self._import_lock:
            if spec.logical_id not in self._handlers:
                module_name, _, attr = spec.handler.rpartition(".")
                overlay = {k: v for k, v in ((k, self._resolve(e)) for k, e in spec.env.items()) if v is not None}
                saved = {k: os.environ.get(k) for k in overlay}
                os.environ.update(overlay)
                try:
                    module = importlib.import_module(module_name)
                finally:
                    for key, value in saved.items():
                        if value is None:
                            os.environ.pop(key, None)
                        else:
                            os.environ[key] = value
                self._handlers[spec.logical_id] = getattr(module, attr)
            return self._handlers[spec.logical_id]

    def call(self, spec: FunctionSpec, event: Any) -> Any:
        """One invocation of a function's handler with a fresh context; exceptions propagate."""
        handler = self.handler(spec)
        context = LambdaContext(spec)
        started = time.monotonic()
        try:
            return handler(event, context)
        finally:
            elapsed = time.monotonic() - started
            if elapsed > spec.timeout:
                log.warning(
                    "%s ran %.1f s, over its %d s timeout: AWS would have stopped it",
                    spec.logical_id,
                    elapsed,
                    spec.timeout,
                )

    def invoke_async(self, call: Callable[[FunctionSpec, Any], Any], spec: FunctionSpec, event: Any) -> Any:
        """An asynchronous (Event) invocation as EventBridge makes: retries, then the on-failure destination.

        `call` is the stack's own call(), so that a test or a benchmark that wraps it sees every attempt.
        """
        failures = 0
        while True:
            try:
                return call(spec, event)
            except Exception as exc:
                failures += 1
                log.warning("%s failed (attempt %d)", spec.logical_id, failures, exc_info=True)
                if failures > spec.async_max_retries or self._stopping():
                    self._async_failed(spec, event, exc, failures)
                    raise FunctionError(f"{spec.logical_id} failed {failures} time(s): {exc}") from exc

    def _async_failed(self, spec: FunctionSpec, event: Any, exc: Exception, invocations: int) -> None:
        request_id = str(uuid.uuid4())
        record = {
            "version": "1.0",
            "timestamp": iso(now(), millis=True),
            "requestContext": {
                "requestId": request_id,
                "functionArn": f"{spec.arn}:$LATEST",
                "condition": "RetriesExhausted",
                "approximateInvokeCount": invocations,
            },
            "requestPayload": event,
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "responsePayload": {
                "errorMessage": str(exc),
                "errorType": type(exc).__name__,
                "requestId": request_id,
                "stackTrace": traceback.format_tb(exc.__traceback__),
            },
        }
        destination = self._resolve(spec.async_on_failure)
        if destination:
            self._send_to_destination(destination, record)
