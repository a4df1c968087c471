"""A realistic sampling frame from the vn-2025 geography (infra/local/seed/frames.py), as files and as a Frame."""

from __future__ import annotations

import io

from chalicelib.domain.sampling import Frame, Village
from chalicelib.reference.geography import Geography
from infra.local.seed.frames import HEADER, frame_csv, frame_rows

__all__ = ["HEADER", "frame_csv", "frame_of", "frame_rows", "frame_xlsx"]


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
