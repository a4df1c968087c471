"""A realistic sampling frame from the vn-2025 geography: villages per commune with household counts.

Used by `make run` (the demo's sample, infra/local/seed/fieldwork.py), the tests and the bench.
"""

from __future__ import annotations

import csv
import io
import random

from chalicelib.reference.geography import Geography

HEADER = ["province_code", "commune_code", "village_code", "village_name", "households"]


def frame_rows(geography: Geography, seed: int = 1, provinces: list[str] | None = None) -> list[list[str]]:
    """Rows like an analyst's file: wards have fewer, bigger residential groups; rural communes more villages."""
    rng = random.Random(seed)  # noqa: S311 - demo data, reproducible
    rows: list[list[str]] = []
    for province in geography.provinces:
        if provinces is not None and province.code not in provinces:
            continue
        for commune in province.communes:
            ward = (commune.kind or "").startswith("phường")
            count = rng.randint(8, 30) if ward else rng.randint(5, 20)
            for i in range(1, count + 1):
                households = int(rng.lognormvariate(5.6 if ward else 5.0, 0.5))  # ~270 / ~150 households
                label = "Tổ dân phố" if ward else "Thôn"
                rows.append([province.code, commune.code, f"{i:03d}", f"{label} {i}", str(max(households, 15))])
    return rows


def frame_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")
