"""Survey versions in DynamoDB, with a short in-memory cache so the submission path reads nothing when warm.

The public side (`get`, `list_current`) never sees a draft: the current version of a survey is its
latest published (or closed) one, and a draft named by number is as unknown as a version that does
not exist. Officials read every version through the authoring port (`versions`, `all_versions`),
and every authoring write is a conditional Put run in the audit entry's transaction (`save_change`).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timezone
from typing import Any

from chalicelib.domain.authoring import DRAFT, SurveyVersion, lifecycle_status
from chalicelib.domain.clock import utcnow
from chalicelib.domain.errors import SurveyNotFound, SurveyVersionMismatch
from chalicelib.domain.survey import Survey, parse_time
from chalicelib.store.models import survey_model


def _record(item: Any) -> SurveyVersion:
    definition = dict(item.definition)
    return SurveyVersion(
        survey_id=item.survey_id,
        version=int(item.version),
        status=lifecycle_status(item.status or definition.get("status")),
        definition=definition,
        revision=int(item.revision or 0),
        created_at=item.created_at,
        created_by=item.created_by,
        updated_at=item.updated_at,
        updated_by=item.updated_by,
        published_at=item.published_at or None,
        closed_at=item.closed_at,
        superseded_by=None if item.superseded_by is None else int(item.superseded_by),
    )


def _public(item: Any) -> bool:
    return lifecycle_status(item.status) != DRAFT


class SurveyRepository:
    def __init__(self, cache_seconds: float = 30.0) -> None:
        # A survey's status (open/closed) may change, so even a pinned version is cached for a while only.
        self._ttl = cache_seconds
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int | None], tuple[float, Survey]] = {}

    def put(self, definition: dict[str, Any]) -> None:
        """Store one version as it is (seeding and operators' scripts; officials go through authoring)."""
        model = survey_model()
        model(
            survey_id=definition["id"],
            version=int(definition["version"]),
            status=definition.get("status", "draft"),
            published_at=datetime.now(timezone.utc).isoformat(),
            definition=definition,
            revision=1,
        ).save()
        self.forget(definition["id"])

    def forget(self, survey_id: str) -> None:
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if k[0] != survey_id}

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
            # the newest public version whose window has begun (drafts are never public): a version published
            # to open next month leaves the current one serving until then; a version closed stays current
            public = [
                Survey.from_definition(item.definition)
                for item in model.query(survey_id, scan_index_forward=False)
                if _public(item)
            ]
            if not public:
                raise SurveyNotFound()
            return current_of(public)
        try:
            item = model.get(survey_id, version)
        except model.DoesNotExist:
            item = None
        if item is None or not _public(item):
            self.get(survey_id)  # 404 for an unknown survey, 422 for an unknown version of a known one
            raise SurveyVersionMismatch(field="/survey_version")
        return Survey.from_definition(item.definition)

    def list_current(self) -> list[Survey]:
        """The current version of every survey (as get(survey_id) reads it): a scan of a small table, for pages
        and schedules."""
        by_survey: dict[str, list[Survey]] = {}
        for item in survey_model().scan():
            if _public(item):
                by_survey.setdefault(item.survey_id, []).append(Survey.from_definition(item.definition))
        current = []
        for survey_id in sorted(by_survey):
            versions = sorted(by_survey[survey_id], key=lambda s: s.version, reverse=True)
            current.append(current_of(versions))  # as get(survey_id) reads
        return current

    # --- the authoring port (chalicelib/domain/authoring.py: SurveyVersions) ---------------------
    def versions(self, survey_id: str) -> list[SurveyVersion]:
        return [_record(item) for item in survey_model().query(survey_id, consistent_read=True)]

    def all_versions(self) -> list[SurveyVersion]:
        found = [_record(item) for item in survey_model().scan(consistent_read=True)]
        return sorted(found, key=lambda r: (r.survey_id, r.version))

    def save_change(self, record: SurveyVersion, expected_revision: int | None) -> dict[str, Any]:
        """A TransactWriteItems Put of one version, conditional on the revision read (None: a new version)."""
        model = survey_model()
        item = model(
            survey_id=record.survey_id,
            version=record.version,
            status=record.status,
            published_at=record.published_at,
            definition=record.definition,
            revision=record.revision,
            created_at=record.created_at,
            created_by=record.created_by,
            updated_at=record.updated_at,
            updated_by=record.updated_by,
            closed_at=record.closed_at,
            superseded_by=record.superseded_by,
        ).serialize()
        put: dict[str, Any] = {"TableName": model.Meta.table_name, "Item": item}
        if expected_revision is None:
            put["ConditionExpression"] = "attribute_not_exists(survey_id)"
        elif expected_revision == 0:  # stored before authoring existed: no revision attribute yet
            put["ConditionExpression"] = "attribute_not_exists(revision) OR revision = :zero"
            put["ExpressionAttributeValues"] = {":zero": {"N": "0"}}
        else:
            put["ConditionExpression"] = "revision = :expected"
            put["ExpressionAttributeValues"] = {":expected": {"N": str(expected_revision)}}
        self.forget(record.survey_id)
        return {"Put": put}


def current_of(newest_first: list[Survey]) -> Survey:
    """A survey's current version: the newest whose window has begun, else (none has) the newest."""
    now = utcnow()
    for survey in newest_first:
        opens = survey.definition.get("opens_at")
        if not opens or parse_time(str(opens)) <= now:
            return survey
    return newest_first[0]
