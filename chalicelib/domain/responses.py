"""A stored response (phiếu trả lời) and the statuses it moves through."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from chalicelib.domain.survey import DURATION_BUCKETS, parse_time

RECEIVED = "received"
ACCEPTED = "accepted"
FLAGGED = "flagged"
REJECTED = "rejected"
WITHDRAWN = "withdrawn"  # the citizen asked for deletion: answers and identifiers removed, counted nowhere
SCREENED = (ACCEPTED, FLAGGED, REJECTED)
STATUSES = (RECEIVED, *SCREENED, WITHDRAWN)


class MalformedResponse(ValueError):
    """A stored image that cannot be read as a response (a poison record for the workers)."""


@dataclass
class Response:
    response_id: str
    survey_id: str
    survey_version: int
    status: str
    answers: dict[str, Any]
    channel: str
    province: str
    commune: str | None = None
    paradata: dict[str, Any] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    received_at: str = ""
    screened_at: str | None = None
    content_hash: str = ""
    honeypot: str = ""
    identifiers: dict[str, str] = field(default_factory=dict)  # name -> keyed HMAC (phone, device, ip)
    hmac_key_id: str = ""
    # Where it came from, as the server vouched for it (chalicelib/domain/attribution.py); None: not proven
    agency: str | None = None
    location: str | None = None  # one of the agency's location codes
    service: str | None = None
    # Counted by attribution (aggregation.attribution_contribution): every response since attribution was
    # introduced. An older one was never counted there, so its changes must not subtract from those counters.
    attributed: bool = False
    # How a direct-survey response was collected (issue 9), as the server recorded it:
    #   field: {"kind": "field", "year", "sample_id", "household_id", "commune_code", "village_code",
    #           "position", "replacement", "probability" (household stage), "household_inclusion_probability",
    #           "household_weight", "adults", "selected_adult", "respondent_probability" (1/adults),
    #           "inclusion_probability", "weight" (the respondent's: household π / adults, weight × adults),
    #           "enumerator"}; every interview carries its selection probability and design weight.
    #   paper: {"kind": "paper", "form_number", "batch", "clerks": [...], "resolved_by"?}
    collection: dict[str, Any] = field(default_factory=dict)

    @property
    def survey_key(self) -> str:
        return f"{self.survey_id}#{self.survey_version}"

    def to_item(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "response_id": self.response_id,
            "survey_key": self.survey_key,
            "survey_id": self.survey_id,
            "survey_version": self.survey_version,
            "status": self.status,
            "answers": self.answers,
            "channel": self.channel,
            "province": self.province,
            "paradata": self.paradata,
            "reasons": self.reasons,
            "received_at": self.received_at,
            "content_hash": self.content_hash,
        }
        for name in ("commune", "screened_at", "hmac_key_id", "honeypot", "agency", "location", "service"):
            value = getattr(self, name)
            if value:
                item[name] = value
        if self.identifiers:
            item["identifiers"] = self.identifiers
        if self.attributed:
            item["attributed"] = True
        if self.collection:
            item["collection"] = self.collection
        if self.channel == "field":
            item["field_key"] = self.survey_key  # the sparse index of field interviews (store/responses.py)
        return item

    @classmethod
    def from_item(cls, item: dict[str, Any]) -> Response:
        try:
            answers = item["answers"]
            if not isinstance(answers, dict):
                raise MalformedResponse(f"answers of {item.get('response_id')} is not a map")
            status = str(item["status"])
            if status not in STATUSES:
                raise MalformedResponse(f"unknown status {status!r}")
            return cls(
                response_id=str(item["response_id"]),
                survey_id=str(item["survey_id"]),
                survey_version=int(item["survey_version"]),
                status=status,
                answers=answers,
                channel=str(item.get("channel", "web")),
                province=str(item["province"]),
                commune=item.get("commune") or None,
                paradata=dict(item.get("paradata") or {}),
                reasons=[str(r) for r in item.get("reasons") or []],
                received_at=str(item.get("received_at", "")),
                screened_at=item.get("screened_at"),
                content_hash=str(item.get("content_hash", "")),
                honeypot=str(item.get("honeypot", "")),
                identifiers=dict(item.get("identifiers") or {}),
                hmac_key_id=str(item.get("hmac_key_id", "")),
                agency=_optional(item.get("agency")),
                location=_optional(item.get("location")),
                service=_optional(item.get("service")),
                attributed=item.get("attributed") is True,
                collection=dict(item.get("collection") or {}),
            )
        except (KeyError, TypeError, ValueError) as exc:
            if isinstance(exc, MalformedResponse):
                raise
            raise MalformedResponse(f"response {item.get('response_id')!r} is malformed: {exc!r}") from exc

    def duration_seconds(self) -> float | None:
        """Completion time: a field device's monotonic active time when it sent one (changing the phone's clock
        cannot alter it), else the client's own clock at both ends when it sent both, else received − started."""
        active = self.paradata.get("duration_ms")
        if isinstance(active, int | float) and not isinstance(active, bool) and active >= 0:
            return float(active) / 1000.0
        started = self.paradata.get("started_at")
        if not started:
            return None
        end = self.paradata.get("submitted_at") or self.received_at
        try:
            seconds = (parse_time(str(end)) - parse_time(str(started))).total_seconds()
        except ValueError:
            return None
        return max(seconds, 0.0)


def _optional(value: Any) -> str | None:
    return str(value) if value else None


def duration_bucket(seconds: float) -> int:
    """Log-scale bucket (base 1.25) so a few dozen counters give a usable median at any scale."""
    if seconds < 1:
        return 0
    return min(int(math.log(seconds, 1.25)) + 1, DURATION_BUCKETS - 1)


def bucket_seconds(bucket: int) -> float:
    """Geometric middle of a bucket, the inverse of duration_bucket."""
    if bucket <= 0:
        return 0.5
    return 1.25 ** (bucket - 0.5)
