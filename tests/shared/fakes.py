"""In-memory twins of the repositories, for unit tests without a network."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from chalicelib.domain.errors import SurveyNotFound, SurveyVersionMismatch
from chalicelib.domain.responses import Response
from chalicelib.domain.survey import Survey

ROOT = Path(__file__).resolve().parents[2]
SIPAS_PATH = ROOT / "infra" / "local" / "seed" / "sipas-2026.json"


def sipas_definition() -> dict[str, Any]:
    return json.loads(SIPAS_PATH.read_text(encoding="utf-8"))


class FakeCatalog:
    def __init__(self, *definitions: dict[str, Any]) -> None:
        self.surveys = {(d["id"], d["version"]): Survey.from_definition(d) for d in definitions}

    def get(self, survey_id: str, version: int | None = None) -> Survey:
        versions = [v for (sid, v) in self.surveys if sid == survey_id]
        if not versions:
            raise SurveyNotFound()
        if version is None:
            version = max(versions)
        if (survey_id, version) not in self.surveys:
            raise SurveyVersionMismatch(field="/survey_version")
        return self.surveys[(survey_id, version)]


class FakeResponseStore:
    def __init__(self) -> None:
        self.items: dict[str, dict[str, Any]] = {}
        self.writes = 0

    def create(self, response: Response) -> bool:
        if response.response_id in self.items:
            return False
        self.writes += 1
        self.items[response.response_id] = copy.deepcopy(response.to_item())
        return True

    def get(self, response_id: str) -> Response | None:
        item = self.items.get(response_id)
        return Response.from_item(copy.deepcopy(item)) if item else None

    def set_verdict(self, response_id: str, status: str, reasons: list[str], screened_at: str) -> bool:
        item = self.items.get(response_id)
        if not item or item["status"] != "received":
            return False
        item.update(status=status, reasons=reasons, screened_at=screened_at)
        return True


class AllLocations:
    """Accepts the seeded geography's real provinces and communes (loaded from the committed file)."""

    def __call__(self, name: str) -> Any:
        from chalicelib.reference.geography import load_geography

        return load_geography(name)


class FakeAuditStore:
    """The audit table in memory: entries by seq and a head, appended under the same condition as DynamoDB's.

    `race` lets a test slip other writers' entries in between a record()'s read of the head and its
    append, as a concurrent official would.
    """

    def __init__(self) -> None:
        from chalicelib.domain.audit import AuditEntry

        self.entries: dict[int, AuditEntry] = {}
        self._head: tuple[int, str] | None = None
        self.appends = 0
        self.conflicts = 0
        self.race: list[Any] = []  # callables run (once each) just before an append
        self._racing = False

    def head(self) -> tuple[int, str] | None:
        return self._head

    def append(self, entry: Any, expected_head_seq: int | None) -> None:
        from chalicelib.domain.audit import AuditConflict

        if self.race and not self._racing:
            self._racing = True  # the racer's own append must not set off the next race
            try:
                self.race.pop(0)(self)
            finally:
                self._racing = False
        current = None if self._head is None else self._head[0]
        if current != expected_head_seq or entry.seq in self.entries:
            self.conflicts += 1
            raise AuditConflict()
        self.appends += 1
        self.entries[entry.seq] = entry
        self._head = (entry.seq, entry.hash)

    def chain(self) -> list[Any]:
        return [self.entries[seq] for seq in sorted(self.entries)]
