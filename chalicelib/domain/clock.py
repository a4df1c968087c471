"""The one clock of the domain and the one text form of a stored instant (UTC, microseconds, 'Z')."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def stamp(moment: datetime | None = None) -> str:
    """A stored instant: '2026-11-30T17:34:54.123456Z'. Sorts as text in time order; parse_time reads it back."""
    moment = utcnow() if moment is None else moment
    if moment.tzinfo is None:
        raise ValueError("stored instants must be timezone-aware")
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
