"""Agencies as versioned reference data: ministries (and ministry-level agencies) and provinces.

An agency is the scope of an official's grant and the owner of widgets and PAR Index self-assessments.
Province agencies ("P" + the province code, e.g. "P01" Hà Nội) come from the geography files, so they
follow the 2025 reorganisation with the provinces; ministries ("M-" + an abbreviation, e.g. "M-BNV")
come from data/ministries.json with the legal texts they were taken from. Each has validity dates and,
when it ended, the agencies that took over its work, so results keep a home across reorganisations.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

from chalicelib.reference.geography import load_geography

DATA_DIR = Path(__file__).parent / "data"
CODE = re.compile(r"^(P\d{2}|M-[A-Z]{2,12})$")
PROVINCE_GEOGRAPHIES = ("vn-2025",)  # the 63-province geography joins when its file is built


@dataclass(frozen=True)
class Agency:
    code: str
    name: str
    short_name: str
    kind: str  # "ministry", "ministry_level" or "province"
    valid_from: date
    valid_to: date | None = None  # last day in force; None: still in force
    successors: tuple[str, ...] = ()

    def valid_on(self, day: date) -> bool:
        return self.valid_from <= day and (self.valid_to is None or day <= self.valid_to)

    @property
    def province_code(self) -> str | None:
        return self.code[1:] if self.kind == "province" else None

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "name": self.name,
            "short_name": self.short_name,
            "kind": self.kind,
            "valid_from": self.valid_from.isoformat(),
            "valid_to": self.valid_to.isoformat() if self.valid_to else None,
            "successors": list(self.successors),
        }


class AgencyRegistry:
    def __init__(self, agencies: tuple[Agency, ...]) -> None:
        self._by_code = {a.code: a for a in agencies}
        if len(self._by_code) != len(agencies):
            raise ValueError("duplicate agency codes")
        self._all = tuple(sorted(agencies, key=_order))

    def get(self, code: str) -> Agency | None:
        return self._by_code.get(code)

    def all(self) -> tuple[Agency, ...]:
        return self._all

    def on(self, day: date | None = None) -> tuple[Agency, ...]:
        """The agencies in force on a day (today by default): ministries first, then provinces, by code."""
        day = day or date.today()
        return tuple(a for a in self._all if a.valid_on(day))


def _order(agency: Agency) -> tuple[int, str]:
    return (0 if agency.kind != "province" else 1, agency.code)


def _ministries() -> tuple[Agency, ...]:
    document = json.loads((DATA_DIR / "ministries.json").read_text(encoding="utf-8"))
    return tuple(
        Agency(
            code=a["code"],
            name=a["name"],
            short_name=a["short_name"],
            kind=a["kind"],
            valid_from=date.fromisoformat(a["valid_from"]),
            valid_to=date.fromisoformat(a["valid_to"]) if a.get("valid_to") else None,
            successors=tuple(a.get("successors") or ()),
        )
        for a in document["agencies"]
    )


def _provinces() -> tuple[Agency, ...]:
    agencies = []
    for name in PROVINCE_GEOGRAPHIES:
        geography = load_geography(name)
        valid_from = date.fromisoformat(geography.valid_from or "2025-07-01")
        for province in geography.provinces:
            agencies.append(
                Agency(
                    code=f"P{province.code}",
                    name=province.name,
                    short_name=province.short_name or province.name,
                    kind="province",
                    valid_from=valid_from,
                )
            )
    return tuple(agencies)


@lru_cache(maxsize=1)
def agency_registry() -> AgencyRegistry:
    """Every agency the platform knows, loaded once per process."""
    return AgencyRegistry(_ministries() + _provinces())
