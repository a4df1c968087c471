"""Build XLSForm workbooks in tests: from rows (openpyxl), or from pyxform's markdown/CSV spellings of a form."""

from __future__ import annotations

import csv
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

Rows = list[list[Any]]


def workbook(**sheets: Rows | None) -> bytes:
    """An .xlsx with one sheet per keyword (survey=[header, row, ...], choices=..., settings=...)."""
    from openpyxl import Workbook

    book = Workbook()
    first = True
    for name, rows in sheets.items():
        if rows is None:
            continue
        sheet = book.active if first else book.create_sheet()
        assert sheet is not None
        sheet.title = name
        first = False
        for row in rows:
            sheet.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def workbook_from_text(path: Path) -> bytes:
    """pyxform's one-file spellings of an XLSForm (.md tables, .csv) as the .xlsx an author would upload.

    A row whose first cell is filled names a sheet; the rows after it (first cell empty) are that sheet's,
    its header first.
    """
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".md":
        lines = [line.strip() for line in text.splitlines() if line.strip().startswith("|")]
        table = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    else:
        table = [[cell.strip() for cell in row] for row in csv.reader(StringIO(text)) if row]
    sheets: dict[str, Rows] = {}
    current: Rows | None = None
    for row in table:
        if row[0]:
            current = sheets.setdefault(row[0], [])
            continue
        if current is not None:
            cells = row[1:]
            while cells and not cells[-1]:
                cells.pop()
            current.append(cells)
    return workbook(**sheets)
