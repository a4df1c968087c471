"""Survey versions in DynamoDB, with a short in-memory cache so the submission path reads nothing when warm."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Any

from chalicelib.domain.errors import SurveyNotFound, SurveyVersionMismatch
from chalicelib.domain.survey import Survey
from chalicelib.store.models import survey_model


class SurveyRepository:
    def __init__(self, cache_seconds: float = 30.0) -> None:
        # A survey's status (open/closed) may change, so even a pinned version is cached for a while only.
        self._ttl = cache_seconds
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int | None], tuple[float, Survey]] = {}

    def put(self, definition: dict[str, Any]) -> None:
        """Store one version; status changes rewrite it, its questions never change once responses exist."""
        model = survey_model()
        model(
            survey_id=definition["id"],
            version=int(definition["version"]),
            status=definition.get("status", "draft"),
            published_at=datetime.now(timezone.utc).isoformat(),
            definition=definition,
        ).save()
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if k[0] != definition["id"]}

    def get(self, survey_id: str, version: int | None = None) -> Survey:
        key = (survey_id, version)
        now = time.monotonic()
        cached = self._cache.get(key)
        if cached and now - cached[0] < self._ttl:
            return cached[1]
        survey = self._load(survey_id, version)
        with self._lock:
            self._cache[key] = (now, survey)
        return survey

    def _load(self, survey_id: str, version: int | None) -> Survey:
        model = survey_model()
        if version is None:
            items = list(model.query(survey_id, scan_index_forward=False, limit=1))
            if not items:
                raise SurveyNotFound()
            return Survey.from_definition(items[0].definition)
        try:
            return Survey.from_definition(model.get(survey_id, version).definition)
        except model.DoesNotExist:
            self.get(survey_id)  # 404 for an unknown survey, 422 for an unknown version of a known one
            raise SurveyVersionMismatch(field="/survey_version") from None

    def list_current(self) -> list[Survey]:
        """The latest version of every survey (a scan of a small table: used by pages and schedules)."""
        latest: dict[str, Any] = {}
        for item in survey_model().scan():
            if item.survey_id not in latest or item.version > latest[item.survey_id].version:
                latest[item.survey_id] = item
        return [Survey.from_definition(i.definition) for i in sorted(latest.values(), key=lambda i: i.survey_id)]
