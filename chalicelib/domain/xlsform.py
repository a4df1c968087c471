"""XLSForm import and export: a survey definition (docs/SURVEY_MODEL.md) spelled as an XLSForm .xlsx.

The accepted XLSForm is a strict subset (https://xlsform.org): whatever the reader accepts means the same to
pyxform/ODK and to this platform, and whatever the model cannot hold is reported with the sheet, the 1-based
spreadsheet row and the column where it was found, every problem of a file at once (XlsFormError.details).
The conventions are listed in docs/XLSFORM.md; the reader is chalicelib/domain/xlsform_read.py, the writer
chalicelib/domain/xlsform_write.py, what both share chalicelib/domain/xlsform_sheets.py.
"""

from __future__ import annotations

from typing import Any

from chalicelib.domain.xlsform_sheets import (
    LANGUAGE_NAMES,
    XlsFormError,
    language_code,
    language_column,
    language_label,
)

__all__ = [
    "LANGUAGE_NAMES",
    "XlsFormError",
    "language_code",
    "language_column",
    "language_label",
    "read_xlsform",
    "write_xlsform",
]


def read_xlsform(data: bytes, *, survey_id: str | None = None) -> dict[str, Any]:
    """The survey definition (status "draft") an XLSForm spells; raise XlsFormError listing every problem.

    ``survey_id`` names the survey (it wins over the settings' form_id, which may then be absent or not fit
    the platform's id rule).
    """
    from chalicelib.domain.xlsform_read import read_workbook

    return read_workbook(data, survey_id)


def write_xlsform(definition: dict[str, Any]) -> bytes:
    """The .xlsx that spells a survey definition; read_xlsform gives the same definition back (status draft)."""
    from chalicelib.domain.xlsform_write import write_workbook

    return write_workbook(definition)
