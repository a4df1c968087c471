"""Seed data for the local stack and tests: survey definitions and generated submissions.

The SIPAS 2026 questionnaire's one source is its XLSForm, sipas-2026.xlsx: the seed of `make run`, the
tests and the benchmarks read it through chalicelib.domain.xlsform.read_xlsform, as an author's upload is.
"""

from __future__ import annotations

import copy
import json
from functools import lru_cache
from pathlib import Path
from typing import Any

SEED_DIR = Path(__file__).resolve().parent
SIPAS_2026_XLSX = SEED_DIR / "sipas-2026.xlsx"


def load_survey(path: Path = SIPAS_2026_XLSX) -> dict[str, Any]:
    """A seed survey's definition, published: read from its XLSForm (.xlsx) or from a JSON definition."""
    return copy.deepcopy(_read(Path(path).resolve(), Path(path).stat().st_mtime_ns))


@lru_cache(maxsize=8)
def _read(path: Path, _mtime_ns: int) -> dict[str, Any]:
    if path.suffix == ".json":
        definition: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    else:
        from chalicelib.domain.xlsform import read_xlsform

        definition = read_xlsform(path.read_bytes())
    definition["status"] = "published"  # a read XLSForm is a draft; the seed publishes it
    return definition
