"""XLSForm workbooks built in the tests (openpyxl): an agency's ad hoc survey in Vietnamese and English."""

from __future__ import annotations

from io import BytesIO
from typing import Any

VI, EN = "Tiếng Việt (vi)", "English (en)"


def _sheet(workbook: Any, title: str, rows: list[list[Any]]) -> None:
    sheet = workbook.create_sheet(title)
    for row in rows:
        sheet.append(row)


def adhoc_xlsform(survey_id: str = "p01-dvc-2026", agency: str = "P01", *, english: bool = True) -> bytes:
    """A two-language ad hoc survey: a condition (relevant), a cascading province -> commune select
    (choice_filter on a choices column) and a free text. english=False leaves one English label out."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    label_en = "How satisfied are you?" if english else ""
    _sheet(
        workbook,
        "survey",
        [
            ["type", "name", f"label::{VI}", f"label::{EN}", "required", "relevant", "choice_filter"],
            ["begin_group", "chung", "Thông tin chung", "About you", "", "", ""],
            ["select_one tinh", "tinh", "Tỉnh/thành phố nơi làm thủ tục", "Province", "yes", "", ""],
            ["select_one xa", "xa", "Xã/phường nơi làm thủ tục", "Commune or ward", "yes", "", "tinh=${tinh}"],
            [
                "select_one co_khong",
                "da_dung",
                "Ông/Bà đã dùng dịch vụ công trực tuyến chưa?",
                "Have you used online public services?",
                "yes",
                "",
                "",
            ],
            ["select_one muc_do", "hai_long", "Ông/Bà hài lòng ở mức nào?", label_en, "yes", "${da_dung} = 'co'", ""],
            ["text", "gop_y", "Góp ý thêm", "Other comments", "", "", ""],
            ["end_group", "", "", "", "", "", ""],
        ],
    )
    _sheet(
        workbook,
        "choices",
        [
            ["list_name", "name", f"label::{VI}", f"label::{EN}", "tinh"],
            ["tinh", "01", "Thành phố Hà Nội", "Hanoi", ""],
            ["tinh", "79", "Thành phố Hồ Chí Minh", "Ho Chi Minh City", ""],
            ["xa", "00004", "Phường Ba Đình", "Ba Dinh ward", "01"],
            ["xa", "00008", "Phường Ngọc Hà", "Ngoc Ha ward", "01"],
            ["xa", "26734", "Phường Sài Gòn", "Sai Gon ward", "79"],
            ["xa", "26740", "Phường Bến Thành", "Ben Thanh ward", "79"],
            ["co_khong", "co", "Có", "Yes", ""],
            ["co_khong", "khong", "Chưa", "Not yet", ""],
            ["muc_do", "1", "Rất không hài lòng", "Very dissatisfied", ""],
            ["muc_do", "2", "Không hài lòng", "Dissatisfied", ""],
            ["muc_do", "3", "Bình thường", "Neutral", ""],
            ["muc_do", "4", "Hài lòng", "Satisfied", ""],
            ["muc_do", "5", "Rất hài lòng", "Very satisfied", ""],
        ],
    )
    _sheet(
        workbook,
        "settings",
        [
            [
                "form_id",
                f"survey_title::{VI}",
                f"survey_title::{EN}",
                "kind",
                "owner_agency",
                f"topic::{VI}",
                f"topic::{EN}",
                "default_language",
            ],
            [
                survey_id,
                "Khảo sát dịch vụ công trực tuyến Hà Nội",
                "Hanoi online public services survey",
                "adhoc",
                agency,
                "Dịch vụ công trực tuyến",
                "Online public services",
                "vi",
            ],
        ],
    )
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()


def broken_xlsform() -> bytes:
    """A workbook with located mistakes: an unknown question type and a choice list that does not exist."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)
    _sheet(
        workbook,
        "survey",
        [
            ["type", "name", f"label::{VI}"],
            ["select_one khong_co", "q1", "Câu hỏi một"],
            ["essay", "q2", "Câu hỏi hai"],
        ],
    )
    _sheet(workbook, "settings", [["form_id"], ["loi-xlsform-2026"]])
    out = BytesIO()
    workbook.save(out)
    return out.getvalue()
