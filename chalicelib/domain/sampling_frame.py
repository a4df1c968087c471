"""Reading an analyst's sampling frame (CSV or XLSX of villages with sizes), checked against the geography.

Every problem of the file is reported at once, row by row, in one FrameError: an analyst fixes the
spreadsheet in one pass rather than upload after upload.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

from chalicelib.domain.errors import DomainError
from chalicelib.domain.sampling import Frame, Village
from chalicelib.reference.geography import Geography

REQUIRED = ("province_code", "commune_code", "village_code", "village_name")
MEASURES = ("households", "population")
MAX_ROWS = 200_000  # ~3,321 communes × ~30 villages, with room; a bigger file is refused, not read
MAX_PROBLEMS = 200  # enough to fix a file, small enough to show


class FrameError(DomainError):
    code = "invalid_sampling_frame"
    status = 422
    message_vi = "Khung mẫu có lỗi; xem danh sách lỗi theo từng dòng."
    message_en = "The sampling frame has errors; see the list by row."


@dataclass(frozen=True, slots=True)
class Problem:
    row: int  # 1 = the header line
    column: str
    message_vi: str
    message_en: str

    def to_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message_vi, "message_en": self.message_en}


def read_frame(data: bytes, filename: str, geography: Geography) -> Frame:
    """The frame in data (.csv in UTF-8, or .xlsx: first sheet), or FrameError listing every problem."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        rows = _xlsx_rows(data)
    elif name.endswith(".csv") or name.endswith(".txt"):
        rows = _csv_rows(data)
    else:
        raise FrameError(
            "Tệp khung mẫu phải là .csv hoặc .xlsx.", "The frame file must be .csv or .xlsx.", field="file"
        )
    if not rows:
        raise FrameError("Tệp khung mẫu trống.", "The frame file is empty.", field="file")
    return _check(rows, geography)


def _csv_rows(data: bytes) -> list[list[str]]:
    try:
        text = data.decode("utf-8-sig")  # Excel writes a BOM
    except UnicodeDecodeError:
        raise FrameError(
            "Tệp CSV phải được lưu ở dạng UTF-8.", "The CSV file must be saved as UTF-8.", field="file"
        ) from None
    sample = text[:4096]
    delimiter = ";" if sample.count(";") > sample.count(",") else ","  # Excel in a Vietnamese locale uses ;
    rows = []
    for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter)):
        if number > MAX_ROWS:
            raise _too_many()
        rows.append(row)
    return rows


def _xlsx_rows(data: bytes) -> list[list[str]]:
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    from chalicelib.domain.xlsform_read import _reasonable_archive

    try:
        if not _reasonable_archive(data):
            raise InvalidFileException("too large")
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError):
        raise FrameError(
            "Không đọc được tệp Excel (.xlsx).", "The Excel (.xlsx) file cannot be read.", field="file"
        ) from None
    rows: list[list[str]] = []
    try:
        sheet = workbook.worksheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # a declared A1:XFD1048576 must not pad every row
        for number, values in enumerate(sheet.iter_rows(max_col=16, values_only=True)):
            if number > MAX_ROWS:
                raise _too_many()
            rows.append([_cell(v) for v in values])
    finally:
        workbook.close()
    return rows


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # 1200.0 from a numeric cell is 1200
    return str(value).strip()


def _too_many() -> FrameError:
    return FrameError(
        f"Khung mẫu có quá {MAX_ROWS:,} dòng.", f"The frame has more than {MAX_ROWS:,} rows.", field="file"
    )


def _check(rows: list[list[str]], geography: Geography) -> Frame:
    headers = [h.strip().lower() for h in rows[0]]
    problems: list[Problem] = []
    missing = [c for c in REQUIRED if c not in headers]
    measure = next((m for m in MEASURES if m in headers), None)
    for column in missing:
        problems.append(Problem(1, column, f"Thiếu cột {column}.", f"Column {column} is missing."))
    if measure is None:
        problems.append(
            Problem(
                1,
                "households",
                "Cần cột households (số hộ) hoặc population (số dân).",
                "A households or population column is needed.",
            )
        )
    if problems:
        raise FrameError(details=[p.to_dict() for p in problems])
    assert measure is not None
    index = {h: i for i, h in enumerate(headers) if h}
    villages: list[Village] = []
    seen: dict[tuple[str, str], int] = {}
    for number, raw in enumerate(rows[1:], start=2):
        cells = {c: (raw[i].strip() if i < len(raw) else "") for c, i in index.items()}
        if not any(cells.values()):
            continue  # blank lines at the end of a sheet
        row_problems = _check_row(number, cells, measure, geography)
        key = (cells["commune_code"], cells["village_code"])
        if not row_problems and key in seen:
            row_problems.append(
                Problem(
                    number,
                    "village_code",
                    f"Thôn {key[1]} của xã {key[0]} đã có ở dòng {seen[key]}.",
                    f"Village {key[1]} of commune {key[0]} is already on row {seen[key]}.",
                )
            )
        if row_problems:
            problems += row_problems
            continue
        seen[key] = number
        villages.append(
            Village(
                cells["province_code"],
                cells["commune_code"],
                cells["village_code"],
                cells["village_name"],
                int(cells[measure]),
                number,
            )
        )
    if not villages and not problems:
        problems.append(Problem(2, "", "Khung mẫu không có thôn nào.", "The frame lists no village."))
    if problems:
        details = [p.to_dict() for p in problems[:MAX_PROBLEMS]]
        raise FrameError(
            f"Khung mẫu có {len(problems)} lỗi; xem danh sách lỗi theo từng dòng.",
            f"The sampling frame has {len(problems)} errors; see the list by row.",
            details=details,
        )
    return Frame(geography.name, measure, tuple(villages))


def _check_row(number: int, cells: dict[str, str], measure: str, geography: Geography) -> list[Problem]:
    problems = []
    for column in (*REQUIRED, measure):
        if not cells[column]:
            problems.append(Problem(number, column, f"Ô {column} trống.", f"{column} is empty."))
    province, commune = cells["province_code"], cells["commune_code"]
    # Codes typed in Excel lose their leading zeros (1 for 01, 4 for 00004): put them back
    if province.isdigit():
        province = cells["province_code"] = province.zfill(2)
    if commune.isdigit():
        commune = cells["commune_code"] = commune.zfill(5)
    if province and geography.province(province) is None:
        problems.append(
            Problem(
                number,
                "province_code",
                f"Không có tỉnh/thành phố mã {province} trong địa giới {geography.name}.",
                f"No province with code {province} in geography {geography.name}.",
            )
        )
    elif commune and geography.commune(commune) is None:
        problems.append(
            Problem(
                number,
                "commune_code",
                f"Không có xã/phường mã {commune} trong địa giới {geography.name}.",
                f"No commune with code {commune} in geography {geography.name}.",
            )
        )
    elif province and commune and not geography.contains(province, commune):
        problems.append(
            Problem(
                number,
                "commune_code",
                f"Xã/phường {commune} không thuộc tỉnh/thành phố {province}.",
                f"Commune {commune} is not in province {province}.",
            )
        )
    value = cells[measure]
    if value and not (value.isdigit() and int(value) > 0):
        problems.append(
            Problem(
                number,
                measure,
                f"{measure} phải là số nguyên dương (đang là “{value[:20]}”).",
                f"{measure} must be a positive whole number (found “{value[:20]}”).",
            )
        )
    return problems
