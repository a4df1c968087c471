"""Agency settings in DynamoDB (one item per agency), with a short cache for the widget pages' CSP and forms."""

from __future__ import annotations

import threading
import time
from typing import Any

from chalicelib.domain.agencies import AgencySettings, Location
from chalicelib.settings import settings
from chalicelib.store.aws import client


def _from_item(item: dict[str, Any]) -> AgencySettings:
    return AgencySettings(
        agency=item["agency"]["S"],
        embed_origins=tuple(v["S"] for v in item.get("embed_origins", {}).get("L", [])),
        version=int(item.get("version", {}).get("N", "0")),
        updated_at=item.get("updated_at", {}).get("S"),
        updated_by=item.get("updated_by", {}).get("S"),
        locations=tuple(_location(v["M"]) for v in item.get("locations", {}).get("L", [])),
    )


def _location(m: dict[str, Any]) -> Location:
    return Location(m["code"]["S"], m["name"]["S"], m["kind"]["S"], m.get("service", {}).get("S"))


def _location_item(location: Location) -> dict[str, Any]:
    m = {"code": {"S": location.code}, "name": {"S": location.name}, "kind": {"S": location.kind}}
    if location.service:
        m["service"] = {"S": location.service}
    return {"M": m}


class AgencySettingsRepository:
    """The AgencySettingsStore port; writes happen only inside the audit entry's transaction."""

    def __init__(self, table: str | None = None, cache_seconds: float = 60.0) -> None:
        self._table = table or settings().agencies_table
        self._ttl = cache_seconds
        self._lock = threading.Lock()
        self._origins: dict[str, tuple[float, tuple[str, ...]]] = {}
        self._cached: dict[str, tuple[float, AgencySettings]] = {}

    def get(self, agency: str) -> AgencySettings:
        item = (
            client("dynamodb")
            .get_item(TableName=self._table, Key={"agency": {"S": agency}}, ConsistentRead=True)
            .get("Item")
        )
        return _from_item(item) if item else AgencySettings(agency)

    def all(self) -> dict[str, AgencySettings]:
        found: dict[str, AgencySettings] = {}
        kwargs: dict[str, Any] = {"TableName": self._table}
        while True:
            page = client("dynamodb").scan(**kwargs)
            for item in page.get("Items", []):
                current = _from_item(item)
                found[current.agency] = current
            if "LastEvaluatedKey" not in page:
                return found
            kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def save_change(self, new: AgencySettings, expected_version: int) -> dict[str, Any]:
        """A TransactWriteItems Put, conditional on nobody having saved since expected_version."""
        if expected_version == 0:
            condition, values = "attribute_not_exists(agency)", {}
        else:
            condition, values = "version = :expected", {":expected": {"N": str(expected_version)}}
        item: dict[str, Any] = {
            "agency": {"S": new.agency},
            "embed_origins": {"L": [{"S": o} for o in new.embed_origins]},
            "version": {"N": str(new.version)},
        }
        if new.locations:
            item["locations"] = {"L": [_location_item(loc) for loc in new.locations]}
        if new.updated_at:
            item["updated_at"] = {"S": new.updated_at}
        if new.updated_by:
            item["updated_by"] = {"S": new.updated_by}
        put: dict[str, Any] = {"TableName": self._table, "Item": item, "ConditionExpression": condition}
        if values:
            put["ExpressionAttributeValues"] = values
        with self._lock:
            self._origins.pop(new.agency, None)
            self._cached.pop(new.agency, None)
        return {"Put": put}

    def cached(self, agency: str) -> AgencySettings:
        """For rendering citizens' forms (CSP, attribution): read at most once a minute per agency per container."""
        now = time.monotonic()
        hit = self._cached.get(agency)
        if hit and now - hit[0] < self._ttl:
            return hit[1]
        found = self.get(agency)
        with self._lock:
            self._cached[agency] = (now, found)
        return found

    def embed_origins(self, agency: str) -> tuple[str, ...]:
        """For the widget page's frame-ancestors: read at most once a minute per agency per container."""
        now = time.monotonic()
        hit = self._origins.get(agency)
        if hit and now - hit[0] < self._ttl:
            return hit[1]
        origins = self.get(agency).embed_origins
        with self._lock:
            self._origins[agency] = (now, origins)
        return origins
