"""What the XLSForm reader (xlsform_read.py) and writer (xlsform_write.py) share: sheet and list names,
the platform's extra columns, languages in column headers, and the error that lists a file's problems."""

from __future__ import annotations

import re

from chalicelib.domain.errors import DomainError

SURVEY, CHOICES, SETTINGS, SCORING = "survey", "choices", "settings", "scoring"
# Place pickers are select_one questions from these two lists. The writer fills them from the survey's
# geography (code as name, a `province` column on communes) so pyxform/ODK Collect show working pickers; the
# reader ignores their rows: answers are checked against the platform's own reference data.
PROVINCE_LIST, COMMUNE_LIST = "place_province", "place_commune"
COMMUNE_FILTER_RE = re.compile(r"^\s*province\s*=\s*\$\{([A-Za-z_][A-Za-z0-9_.-]*)\}\s*$")
YES_NO_LIST = "yes_no"
YES_NO_LABELS = {"yes": {"vi": "Có", "en": "Yes"}, "no": {"vi": "Không", "en": "No"}}
OTHER_LABEL = {"vi": "Khác", "en": "Other"}  # the option an XLSForm "or_other" adds
# Extra survey-sheet columns (pyxform and ODK ignore them) for the model's fields XLSForm has no column for.
PAR_QUESTION_COLUMNS = ("min", "max", "max_length", "max_choices", "personal_data")
SCREENING_COLUMNS = {
    "screening_speeder_median_ratio": ("speeder_median_ratio", float),
    "screening_speeder_seconds_per_item": ("speeder_seconds_per_item", float),
    "screening_speeder_min_history": ("speeder_min_history", int),
    "screening_straightline_min_items": ("straightline_min_items", int),
}

# Column names of the languages the platform names; any other language is written "code (code)".
LANGUAGE_NAMES = {
    "vi": "Tiếng Việt",
    "en": "English",
    "fr": "Français",
    "zh": "中文",
    "ja": "日本語",
    "ko": "한국어",
    "km": "ខ្មែរ",
    "lo": "ລາວ",
}
_NAME_TO_CODE = {
    **{name.casefold(): code for code, name in LANGUAGE_NAMES.items()},
    "vietnamese": "vi",
    "tieng viet": "vi",
    "tieng anh": "en",
    "tiếng anh": "en",
    "french": "fr",
    "chinese": "zh",
    "japanese": "ja",
    "korean": "ko",
    "khmer": "km",
    "lao": "lo",
}
_CODE_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
_CODE_IN_NAME_RE = re.compile(r"\(\s*([a-z]{2,3}(?:-[A-Za-z0-9]{2,8})?)\s*\)\s*$")


class XlsFormError(DomainError):
    """An XLSForm that cannot become a survey definition; ``details`` lists every problem found.

    Each problem is ``{"sheet", "row", "column", "message", "message_en"}``: the sheet's name, the 1-based
    spreadsheet row and the column header as written (each None when the problem is the whole file's).
    """

    code = "invalid_xlsform"
    status = 422
    message_vi = "Tệp XLSForm có lỗi; hãy sửa các ô được liệt kê (trang tính, dòng, cột) rồi tải lên lại."
    message_en = "The XLSForm has errors; fix the listed cells (sheet, row, column) and upload it again."


def language_code(spec: str) -> str | None:
    """'Tiếng Việt (vi)', 'vi', 'English' -> the language code, or None when it cannot be told.

    Vietnamese is the platform's first language, so its regional and unaccented spellings ('vi-VN',
    'Tieng Viet') are read as 'vi'.
    """
    code = _language_code(spec.strip())
    return "vi" if code and code.lower().startswith("vi-") else code


def _language_code(spec: str) -> str | None:
    if _CODE_RE.match(spec):
        return spec
    if re.fullmatch(r"[A-Za-z]{2,3}", spec):  # 'EN': pyxform reads headers case-insensitively
        return spec.lower()
    found = _CODE_IN_NAME_RE.search(spec)
    if found:
        return found.group(1)
    import unicodedata

    plain = "".join(c for c in unicodedata.normalize("NFD", spec.casefold()) if not unicodedata.combining(c))
    return _NAME_TO_CODE.get(spec.casefold()) or _NAME_TO_CODE.get(plain.replace("đ", "d"))


def language_label(code: str) -> str:
    """How a language is named in a column header: 'Tiếng Việt (vi)' (ODK's 'Name (code)')."""
    return f"{LANGUAGE_NAMES.get(code, code)} ({code})"


def language_column(base: str, code: str) -> str:
    """The header of a translated column, e.g. label::Tiếng Việt (vi)."""
    return f"{base}::{language_label(code)}"
