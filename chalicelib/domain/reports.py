"""Published report sets: listed and served from the reports store; built on request (an event, audited)."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable
from typing import Any, Protocol

from chalicelib.domain.audit import Actor
from chalicelib.domain.errors import NotFound

REPORTS_PREFIX = "reports/"
SOURCE_REPORTS = "par.reports"  # EventBridge source of report requests (the reports worker's rule matches it)


class StoredFile(Protocol):
    @property
    def key(self) -> str: ...

    @property
    def size(self) -> int: ...


class ReportFiles(Protocol):
    def list(self, prefix: str = "") -> Iterable[StoredFile]: ...

    def get(self, key: str) -> bytes | None: ...


class EventPublisher(Protocol):
    def __call__(self, source: str, detail_type: str, detail: dict[str, Any]) -> None: ...


class Surveys(Protocol):
    def get(self, survey_id: str, version: int | None = None) -> Any: ...


class Recorder(Protocol):
    def record(self, actor: Actor, action: str, target_type: str, target_id: str, before: Any, after: Any) -> Any: ...


class ReportService:
    def __init__(self, files: ReportFiles, surveys: Surveys, publish: EventPublisher, audit: Recorder) -> None:
        self._files, self._surveys, self._publish, self._audit = files, surveys, publish, audit

    def report_sets(self) -> list[dict[str, Any]]:
        """Report sets, newest first: reports/<survey>/v<version>/<timestamp>/<file>."""
        sets: dict[str, dict[str, Any]] = {}
        for obj in self._files.list(REPORTS_PREFIX):
            parts = obj.key.split("/")
            if len(parts) != 5:
                continue
            _, survey_id, version, generated, name = parts
            entry = sets.setdefault(
                "/".join(parts[:4]),
                {"survey_id": survey_id, "survey_version": version.lstrip("v"), "generated": generated, "files": []},
            )
            entry["files"].append({"name": name, "key": obj.key, "bytes": obj.size})
        return sorted(sets.values(), key=lambda s: s["generated"], reverse=True)

    def report_file(self, key: str) -> tuple[bytes, str]:
        if not key.startswith(REPORTS_PREFIX) or ".." in key:
            raise NotFound(field="key")
        content = self._files.get(key)
        if content is None:
            raise NotFound(field="key")
        return content, content_type(key)

    def request(self, actor: Actor, survey_id: str) -> dict[str, Any]:
        """Ask the reports worker for a report now; the request is audited."""
        survey = self._surveys.get(survey_id)
        detail = {"survey_id": survey.id, "survey_version": survey.version, "requested_by": actor.sub}
        self._publish(SOURCE_REPORTS, "ReportRequested", detail)
        entry = self._audit.record(actor, "report.request", "survey", survey.key, None, detail)
        return {"status": "requested", "audit_seq": entry.seq, **detail}


def content_type(name: str) -> str:
    guessed = mimetypes.guess_type(name)[0] or "application/octet-stream"
    text = guessed.startswith("text/") or guessed.endswith(("json", "javascript"))
    return f"{guessed}; charset=utf-8" if text else guessed
