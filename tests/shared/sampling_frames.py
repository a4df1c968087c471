"""A realistic sampling frame from the vn-2025 geography: villages per commune with household counts."""

from __future__ import annotations

import csv
import io
import random

from chalicelib.domain.sampling import Frame, Village
from chalicelib.reference.geography import Geography

HEADER = ["province_code", "commune_code", "village_code", "village_name", "households"]


def frame_rows(geography: Geography, seed: int = 1, provinces: list[str] | None = None) -> list[list[str]]:
    """Rows like an analyst's file: wards have fewer, bigger residential groups; rural communes more villages."""
    rng = random.Random(seed)
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


def frame_xlsx(rows: list[list[object]], header: list[str] = HEADER) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def frame_of(geography: Geography, seed: int = 1, provinces: list[str] | None = None) -> Frame:
    """The frame itself, without the file round trip (for the draw's tests and the bench)."""
    villages = tuple(
        Village(p, c, v, n, int(h), row)
        for row, (p, c, v, n, h) in enumerate(frame_rows(geography, seed, provinces), start=2)
    )
    return Frame(geography.name, "households", villages)
