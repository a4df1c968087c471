"""pynamodb models of the surveys and responses tables, bound to the configured table names on first use."""

from __future__ import annotations

from functools import cache
from typing import Any

from chalicelib.settings import settings


def _meta(table: str) -> type:
    s = settings()
    return type(
        "Meta",
        (),
        {
            "table_name": table,
            "region": s.region,
            "host": s.endpoint_url,
            "max_retry_attempts": 3,
            "connect_timeout_seconds": 3,
        },
    )


@cache
def survey_model() -> Any:
    from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute
    from pynamodb.models import Model

    class SurveyModel(Model):
        Meta = _meta(settings().surveys_table)  # type: ignore[assignment]
        survey_id = UnicodeAttribute(hash_key=True)
        version = NumberAttribute(range_key=True)
        status = UnicodeAttribute()  # draft | published | closed ("open": the former word for published)
        published_at = UnicodeAttribute(null=True)
        definition = JSONAttribute()
        # the version's life (chalicelib/domain/authoring.py): absent on versions stored before authoring existed
        revision = NumberAttribute(null=True)
        created_at = UnicodeAttribute(null=True)
        created_by = UnicodeAttribute(null=True)
        updated_at = UnicodeAttribute(null=True)
        updated_by = UnicodeAttribute(null=True)
        closed_at = UnicodeAttribute(null=True)
        superseded_by = NumberAttribute(null=True)

    return SurveyModel


@cache
def response_model() -> Any:
    from pynamodb.attributes import (
        BooleanAttribute,
        ListAttribute,
        MapAttribute,
        NumberAttribute,
        UnicodeAttribute,
    )
    from pynamodb.indexes import AllProjection, GlobalSecondaryIndex
    from pynamodb.models import Model

    class BySurvey(GlobalSecondaryIndex):  # type: ignore[type-arg]
        class Meta:
            index_name = "by_survey"
            projection = AllProjection()

        survey_key = UnicodeAttribute(hash_key=True)
        response_id = UnicodeAttribute(range_key=True)

    class ResponseModel(Model):
        Meta = _meta(settings().responses_table)  # type: ignore[assignment]
        response_id = UnicodeAttribute(hash_key=True)
        survey_key = UnicodeAttribute()
        survey_id = UnicodeAttribute()
        survey_version = NumberAttribute()
        status = UnicodeAttribute()
        reasons = ListAttribute(of=UnicodeAttribute, default=list)  # type: ignore[arg-type]
        answers = MapAttribute()  # type: ignore[var-annotated]
        channel = UnicodeAttribute()
        province = UnicodeAttribute()
        commune = UnicodeAttribute(null=True)
        paradata = MapAttribute(default=dict)  # type: ignore[var-annotated]
        received_at = UnicodeAttribute()
        screened_at = UnicodeAttribute(null=True)
        content_hash = UnicodeAttribute()
        honeypot = UnicodeAttribute(null=True)
        identifiers = MapAttribute(null=True)  # type: ignore[var-annotated]
        hmac_key_id = UnicodeAttribute(null=True)
        agency = UnicodeAttribute(null=True)
        location = UnicodeAttribute(null=True)
        service = UnicodeAttribute(null=True)
        attributed = BooleanAttribute(null=True)  # counted by attribution (domain/aggregation.py)
        collection = MapAttribute(null=True)  # type: ignore[var-annotated]  # field selection / paper entry
        field_key = UnicodeAttribute(null=True)  # field interviews only: the sparse index by_field
        by_survey = BySurvey()

    return ResponseModel


def plain(value: Any) -> Any:
    """pynamodb values (MapAttribute, Decimal-free numbers) as plain Python."""
    from pynamodb.attributes import MapAttribute

    if isinstance(value, MapAttribute):
        return {k: plain(v) for k, v in value.attribute_values.items()}
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def reset_models() -> None:
    survey_model.cache_clear()
    response_model.cache_clear()
