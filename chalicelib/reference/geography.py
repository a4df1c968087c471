"""Stdlib-only loader of versioned administrative geography (provinces and communes) with O(1) lookups."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_GEOGRAPHY = "vn-2025"
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class UnknownGeography(KeyError):
    """No reference-data file exists for the requested geography name."""


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune-level unit (xã, phường, đặc khu); code is 5 digits, province_code 2 digits."""

    code: str
    name: str
    province_code: str
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class Province:
    """A province or centrally-run city with its communes sorted by code."""

    code: str
    name: str
    communes: tuple[Commune, ...] = field(repr=False)
    short_name: str | None = None
    kind: str | None = None


@dataclass(frozen=True)
class Geography:
    """One version of the administrative geography; immutable, indexed by code."""

    name: str
    provinces: tuple[Province, ...] = field(repr=False)
    valid_from: str | None = None
    source: str | None = None
    _provinces_by_code: dict[str, Province] = field(init=False, repr=False, compare=False)
    _communes_by_code: dict[str, Commune] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        by_province = {p.code: p for p in self.provinces}
        by_commune = {c.code: c for p in self.provinces for c in p.communes}
        if len(by_province) != len(self.provinces):
            raise ValueError(f"{self.name}: duplicate province codes")
        if len(by_commune) != sum(len(p.communes) for p in self.provinces):
            raise ValueError(f"{self.name}: duplicate commune codes")
        object.__setattr__(self, "_provinces_by_code", by_province)
        object.__setattr__(self, "_communes_by_code", by_commune)

    def province(self, code: str) -> Province | None:
        """The province with this 2-digit code, or None."""
        return self._provinces_by_code.get(code)

    def commune(self, code: str) -> Commune | None:
        """The commune with this 5-digit code, or None."""
        return self._communes_by_code.get(code)

    def communes_of(self, province_code: str) -> list[Commune]:
        """The communes of a province sorted by code; empty for an unknown province."""
        province = self._provinces_by_code.get(province_code)
        return list(province.communes) if province else []

    def contains(self, province_code: str, commune_code: str) -> bool:
        """True when the commune exists and belongs to the province."""
        commune = self._communes_by_code.get(commune_code)
        return commune is not None and commune.province_code == province_code

    @property
    def commune_count(self) -> int:
        """Number of commune-level units."""
        return len(self._communes_by_code)

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> Geography:
        """Build from the JSON document written by build_geography."""
        provinces = tuple(
            Province(
                code=p["code"],
                name=p["name"],
                short_name=p.get("short_name"),
                kind=p.get("kind"),
                communes=tuple(
                    Commune(code=c["code"], name=c["name"], province_code=p["code"], kind=c.get("kind"))
                    for c in p["communes"]
                ),
            )
            for p in document["provinces"]
        )
        return cls(
            name=document["geography"],
            provinces=provinces,
            valid_from=document.get("valid_from"),
            source=document.get("source"),
        )


def _read_document(name: str) -> dict[str, Any]:
    plain = DATA_DIR / f"{name}.json"
    packed = DATA_DIR / f"{name}.json.gz"
    if plain.is_file():
        document: dict[str, Any] = json.loads(plain.read_bytes())
    elif packed.is_file():
        import gzip  # only for a packed file: keeps the common import light

        document = json.loads(gzip.decompress(packed.read_bytes()))
    else:
        raise UnknownGeography(name)
    return document


@lru_cache(maxsize=8)
def load_geography(name: str = DEFAULT_GEOGRAPHY) -> Geography:
    """Load (once per process) the geography called name, e.g. 'vn-2025'; raise UnknownGeography."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise UnknownGeography(name)
    geography = Geography.from_document(_read_document(name))
    if geography.name != name:
        raise ValueError(f"{name}: file declares geography {geography.name!r}")
    return geography
