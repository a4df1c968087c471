"""XLSForm import: the sheets of an .xlsx read into a survey definition, every problem located by cell."""

from __future__ import annotations

import copy
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from io import BytesIO
from typing import Any

from chalicelib.domain.xlsform_sheets import (
    CHOICES,
    COMMUNE_FILTER_RE,
    COMMUNE_LIST,
    OTHER_LABEL,
    PAR_QUESTION_COLUMNS,
    PROVINCE_LIST,
    SCORING,
    SCREENING_COLUMNS,
    SETTINGS,
    SURVEY,
    XlsFormError,
    language_code,
)

ID_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
SURVEY_ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")
VALUE_RE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
REFERENCE_RE = re.compile(r"\$\{([^}]*)\}")
MAX_ROWS = 20_000  # per sheet: the commune list of a place picker alone is ~3,300 rows
MAX_PROBLEMS = 200
TRUE_WORDS = frozenset({"yes", "true", "true()", "1"})
FALSE_WORDS = frozenset({"no", "false", "false()", "0", ""})

# Column aliases of pyxform (pyxform/aliases.py: survey_header, list_header).
SURVEY_ALIASES = {
    "caption": "label",
    "relevance": "relevant",
    "constraining_message": "constraint_message",
    "requiredmsg": "required_message",
    "calculate": "calculation",
    "command": "type",
    "tag": "name",
    "value": "name",
    "readonly": "read_only",
    "jr:count": "repeat_count",
    "count": "repeat_count",
}
CHOICES_ALIASES = {"value": "name", "caption": "label"}
TRANSLATED = frozenset({"label", "hint", "constraint_message", "required_message", "guidance_hint"})
TRANSLATED_SETTINGS = frozenset({"survey_title", "description", "topic"})
MEDIA = frozenset({"image", "big-image", "audio", "video", "media"})
# Survey columns whose meaning the model cannot hold: a non-empty cell is a problem.
UNSUPPORTED_COLUMNS = ("calculation", "default", "read_only", "repeat_count", "trigger", "parameters", "guidance_hint")

# Questions the form fills itself (pyxform's metadata types): they ask nothing; the platform records its own
# timing and never the device or phone number, so they are skipped.
METADATA_TYPES = frozenset(
    {
        "start",
        "end",
        "today",
        "deviceid",
        "imei",
        "subscriberid",
        "simserial",
        "phonenumber",
        "username",
        "email",
        "audit",
        "start-geopoint",
        "background-audio",
    }
)
# pyxform/aliases.py: select (and xls2json.RE_SELECT for the "or other" spellings).
SELECT_ONE = (
    "select_one",
    "select one",
    "select1",
    "select one from",
    "select one using",
    "add select one prompt using",
)
SELECT_MULTIPLE = (
    "select_multiple",
    "select multiple",
    "select all that apply",
    "select all that apply from",
    "select multiple from",
    "select multiple using",
    "add select multiple prompt using",
)
SELECT_RE = re.compile(
    rf"^({'|'.join(sorted(SELECT_ONE + SELECT_MULTIPLE, key=len, reverse=True))}) (\S+)"
    r"( (or_other|or specify other|or other))?$"
)
# Raw XForm attributes (pyxform's bind::, body::/control::, instance:: columns): the model has no place for them.
RAW_COLUMNS = frozenset({"bind", "body", "control", "instance"})
SIMPLE_TYPES = {
    "integer": "integer",
    "int": "integer",
    "decimal": "decimal",
    "text": "text",
    "string": "text",
    "date": "date",
    "note": "note",
    "acknowledge": "consent",
    "trigger": "consent",
}
PAR_COLUMN_TYPES = {
    "min": ("integer", "decimal", "date"),
    "max": ("integer", "decimal", "date"),
    "max_length": ("text", "long_text"),
    "max_choices": ("multi_choice",),
    "personal_data": ("text",),
}

# Every message, Vietnamese then English; Reader.add fills the {named} fields.
MESSAGES: dict[str, tuple[str, str]] = {
    "not_xlsx": (
        "Tệp không phải là bảng tính .xlsx (Excel 2007 trở lên); hãy lưu lại dưới dạng .xlsx.",
        "The file is not an .xlsx workbook (Excel 2007 or later); save it as .xlsx.",
    ),
    "no_survey": ("Tệp không có trang tính «survey».", "The workbook has no «survey» sheet."),
    "too_many_rows": (
        "Trang tính có quá nhiều dòng (tối đa {limit}).",
        "The sheet has too many rows (at most {limit}).",
    ),
    "survey_columns": (
        "Trang tính «survey» phải có cột «type» và cột «name».",
        "The «survey» sheet needs a «type» and a «name» column.",
    ),
    "choices_columns": (
        "Trang tính «choices» phải có cột «list_name» và «name».",
        "The «choices» sheet needs «list_name» and «name» columns.",
    ),
    "scoring_columns": (
        "Trang tính «scoring» cần các cột part, element và item.",
        "The «scoring» sheet needs part, element and item columns.",
    ),
    "unknown_language": (
        "Không nhận ra ngôn ngữ «{spec}»; hãy ghi theo dạng «Tên (mã)», ví dụ label::Tiếng Việt (vi).",
        "Unknown language «{spec}»; write it as «Name (code)», e.g. label::English (en).",
    ),
    "no_label": ("Thiếu {what_vi} (ô trống ở mọi ngôn ngữ).", "The {what_en} is empty in every language."),
    "one_settings_row": (
        "Trang tính «settings» chỉ có một dòng giá trị (dòng 2).",
        "The «settings» sheet has a single row of values (row 2).",
    ),
    "no_form_id": (
        "Thiếu mã phiếu (form_id) trong trang tính «settings».",
        "No survey id: fill form_id in the «settings» sheet.",
    ),
    "bad_form_id": (
        "Mã phiếu «{value}» không hợp lệ: chỉ dùng chữ thường không dấu, chữ số và dấu gạch ngang (3–63 ký tự).",
        "Survey id «{value}» is not valid: use lowercase letters, digits and hyphens (3-63 characters).",
    ),
    "bad_kind": (
        "Loại phiếu (kind) phải là regular, adhoc hoặc consultation.",
        "kind must be regular, adhoc or consultation.",
    ),
    "bad_instant": (
        "«{value}» không phải thời điểm ISO 8601, ví dụ 2026-01-01T00:00:00Z.",
        "«{value}» is not an ISO 8601 instant, e.g. 2026-01-01T00:00:00Z.",
    ),
    "bad_retention": (
        "Số ngày lưu giữ (retention_days) phải là số nguyên từ 1 đến 3650.",
        "retention_days must be a whole number from 1 to 3650.",
    ),
    "not_number": ("«{value}» không phải là số.", "«{value}» is not a number."),
    "not_yes_no": ("«{value}» phải là yes hoặc no.", "«{value}» must be yes or no."),
    "not_whole": (
        "«{value}» phải là số nguyên từ 1 đến {limit}.",
        "«{value}» must be a whole number from 1 to {limit}.",
    ),
    "not_date": ("«{value}» không phải ngày dạng YYYY-MM-DD.", "«{value}» is not a YYYY-MM-DD date."),
    "choice_media": (
        "Hình ảnh, âm thanh, video trong phương án chưa được hỗ trợ.",
        "Images, audio and video in choices are not supported.",
    ),
    "no_list_name": ("Thiếu tên danh sách (list_name).", "The list name is empty."),
    "no_choice_name": ("Thiếu giá trị của phương án (name).", "The choice has no name."),
    "bad_choice_name": (
        "Giá trị «{value}» không hợp lệ: chỉ dùng chữ không dấu, chữ số, «_», «.», «-» (tối đa 64 ký tự).",
        "Name «{value}» is not valid: use letters, digits, '_', '.', '-' (at most 64).",
    ),
    "duplicate_choice": (
        "Giá trị «{value}» bị trùng trong danh sách «{list}».",
        "Name «{value}» appears twice in list «{list}».",
    ),
    "long_filter": (
        "Giá trị thuộc tính lọc dài quá 200 ký tự.",
        "A filter attribute is longer than 200 characters.",
    ),
    "many_filters": (
        "Một phương án có nhiều nhất 20 thuộc tính lọc.",
        "A choice has at most 20 filter attributes.",
    ),
    "no_type": ("Dòng có nội dung nhưng thiếu loại câu hỏi (type).", "The row has content but no type."),
    "repeat": (
        "Nhóm lặp (repeat) chưa được hỗ trợ; các câu hỏi bên trong bị bỏ qua.",
        "Repeats are not supported; the questions inside were skipped.",
    ),
    "unmatched_end": ("{what} không có dòng mở tương ứng.", "{what} without a matching begin."),
    "unclosed_group": ("Nhóm «{name}» không có end_group.", "Group «{name}» has no end_group."),
    "no_questions": ("Phiếu chưa có câu hỏi nào.", "The form has no questions."),
    "empty_group": ("Nhóm «{name}» không có câu hỏi nào.", "Group «{name}» has no questions."),
    "duplicate_name": (
        "Mã «{name}» bị trùng (dòng {first}).",
        "Name «{name}» is used twice (row {first}).",
    ),
    "no_name": ("Thiếu mã (name).", "The name is empty."),
    "bad_name": (
        "Mã «{name}» không hợp lệ: bắt đầu bằng chữ thường, chỉ gồm chữ thường không dấu, chữ số và «_» (tối đa 63 ký tự).",
        "Name «{name}» is not valid: a lowercase letter, then lowercase letters, digits or '_' (at most 63).",
    ),
    "group_column": (
        "Cột «{col}» không dùng được cho nhóm này.",
        "The «{col}» column cannot be used on this group.",
    ),
    "row_column": (
        "Hàng của ma trận không dùng được cột «{col}».",
        "A matrix row cannot use the «{col}» column.",
    ),
    "row_or_other": ("Hàng của ma trận không dùng được or_other.", "A matrix row cannot use or_other."),
    "row_required": (
        "Hàng của ma trận chỉ nhận required là yes hoặc no.",
        "A matrix row's required is yes or no, not an expression.",
    ),
    "few_points": ("Thang đo «{list}» cần ít nhất hai mức.", "Scale «{list}» needs at least two points."),
    "unknown_list": (
        "Không có danh sách «{list}» trong trang tính «choices».",
        "List «{list}» is not in the «choices» sheet.",
    ),
    "empty_list": ("Danh sách «{list}» không có phương án nào.", "List «{list}» has no choices."),
    "unsupported_column": ("Chưa hỗ trợ cột «{col}».", "The «{col}» column is not supported."),
    "unsupported_type": (
        "Loại câu hỏi «{type}» chưa được hỗ trợ.",
        "Question type «{type}» is not supported.",
    ),
    "place_or_other": ("Ô chọn địa bàn không dùng được or_other.", "A place picker cannot use or_other."),
    "commune_filter": (
        "Ô chọn xã/phường chỉ nhận choice_filter dạng province=${{câu_hỏi_tỉnh}}.",
        "A commune picker's choice_filter is province=${{province_question}}.",
    ),
    "province_filter": ("Ô chọn tỉnh/thành phố không dùng choice_filter.", "A province picker takes no choice_filter."),
    "has_other": (
        "Danh sách «{list}» đã có giá trị «other»; bỏ or_other hoặc đổi giá trị đó.",
        "List «{list}» already has «other»; drop or_other or rename that choice.",
    ),
    "filter_not_select": (
        "choice_filter chỉ dùng cho câu hỏi lựa chọn.",
        "choice_filter applies to select questions only.",
    ),
    "par_column_type": (
        "Cột «{col}» không dùng cho loại câu hỏi này.",
        "The «{col}» column does not apply to this question type.",
    ),
    "no_positive_values": (
        "Có trang tính «scoring» nhưng thiếu scoring_positive_values (các giá trị tính là hài lòng, ví dụ «4 5»).",
        "A «scoring» sheet needs scoring_positive_values in settings (the satisfied answers, e.g. «4 5»).",
    ),
    "bad_overall_rule": (
        "scoring_overall_rule là mean_of_parts, mean_of_elements hoặc mean_of_items.",
        "scoring_overall_rule is mean_of_parts, mean_of_elements or mean_of_items.",
    ),
    "scoring_row": (
        "Mỗi dòng cần đủ part, element và item.",
        "Every row needs a part, an element and an item.",
    ),
    "unknown_item": (
        "Không có câu hỏi hay hàng ma trận «{item}» trong trang tính «survey».",
        "No question or matrix row «{item}» in the «survey» sheet.",
    ),
    "unknown_reference": (
        "Biểu thức nhắc tới ${{{name}}} nhưng không có câu hỏi này.",
        "The expression refers to ${{{name}}}, which is no question.",
    ),
    "group_reference": (
        "Biểu thức nhắc tới ${{{name}}}, là một nhóm chứ không phải câu hỏi.",
        "The expression refers to ${{{name}}}, a group, not a question.",
    ),
    "invalid_expression": ("Biểu thức không dùng được: {vi}", "The expression cannot be used: {en}"),
    "invalid_definition": ("Định nghĩa phiếu không hợp lệ: {vi}", "The survey definition is not valid: {en}"),
}


def _rename_reserved(survey: Sheet, scoring: Sheet | None) -> None:
    """Names the platform cannot take as they are, renamed with every ${reference} to them:
    - a name that is not lower-case letters, digits and '_' (KoboToolbox writes `respName`, `Q1`, `hh-size`)
      becomes its lower-case spelling with '_' for other characters (`respname`, `q1`, `hh_size`);
    - a question named like a field of the submission (province, commune, channel, id...) gets a suffix `_q`:
      forms from elsewhere often call their province picker `province`.
    A new name never takes one the form already uses (a number is added)."""
    from chalicelib.domain.survey_build import RESERVED_IDS

    name_header = survey.header("name")
    if name_header is None:
        return
    taken = {row.cells.get(name_header, "") for row in survey.rows}
    renamed: dict[str, str] = {}
    for row in survey.rows:
        old = row.cells.get(name_header, "")
        if not old or old in renamed:
            continue
        new = old
        if not ID_RE.match(new):
            new = re.sub(
                r"[^a-z0-9_]", "_", unicodedata.normalize("NFKD", old).encode("ascii", "ignore").decode().lower()
            )
            new = new if new[:1].isalpha() else f"q_{new}"
            if not ID_RE.match(new[:63]):
                continue  # left for the reader to report at its cell
            new = new[:63]
        if new in RESERVED_IDS:
            new = f"{new}_q"
        if new == old:
            continue
        base, n = new, 2
        while new in taken:
            new, n = f"{base}{n}", n + 1
        taken.add(new)
        renamed[old] = new
        row.cells[name_header] = new
    if not renamed:
        return
    reference = re.compile(r"\$\{\s*(" + "|".join(re.escape(name) for name in renamed) + r")\s*\}")
    for row in survey.rows:
        for header, text in row.cells.items():
            if "${" in text:
                row.cells[header] = reference.sub(lambda m: "${" + renamed[m.group(1)] + "}", text)
    item_header = scoring.header("item") if scoring is not None else None
    if scoring is not None and item_header:
        for row in scoring.rows:
            if row.cells.get(item_header) in renamed:
                row.cells[item_header] = renamed[row.cells[item_header]]


def read_workbook(data: bytes, survey_id: str | None) -> dict[str, Any]:
    reader = Reader(survey_id)
    definition = reader.read(data)
    if reader.problems:
        raise XlsFormError(details=reader.problems[:MAX_PROBLEMS])
    return definition


def cell_text(value: Any) -> str:
    """A cell as the text it shows: whole numbers without '.0', dates in ISO, text stripped and NFC."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        if value.time() == time(0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return unicodedata.normalize("NFC", str(value)).strip()


def parse_bool(text: str) -> bool | None:
    """yes/true/1 -> True, no/false/0/empty -> False, anything else None (an expression, or a mistake)."""
    word = text.strip().lower()
    if word in TRUE_WORDS:
        return True
    return False if word in FALSE_WORDS else None


def parse_number(raw: str, *, integer: bool) -> int | float | None:
    try:
        value = float(raw)
    except ValueError:
        return None
    if re.fullmatch(r"-?\d+", raw.strip()):
        return int(raw)
    return None if integer else value


# ------------------------------------------------------------------------------------------ sheets


@dataclass
class Row:
    number: int  # 1-based spreadsheet row
    cells: dict[str, str]  # header as written -> text of the cell (non-empty cells only)


@dataclass
class Sheet:
    title: str
    headers: list[str]
    rows: list[Row]
    # canonical column name -> its headers with their language (untranslated columns: one, language None
    # or the default language)
    columns: dict[str, list[tuple[str, str | None]]] = field(default_factory=dict)

    def header(self, base: str) -> str | None:
        found = self.columns.get(base)
        return found[0][0] if found else None

    def value(self, row: Row, base: str) -> str:
        header = self.header(base)
        return row.cells.get(header, "") if header else ""

    def index(self, aliases: dict[str, str], default_language: str, unknown: list[tuple[str, str]]) -> None:
        """Group the headers by canonical column: 'label::English (en)' -> ('label', 'en').

        As pyxform does, a sheet none of whose headers has '::' is split on ':' (the old 'label:English').
        """
        delimiter = "::" if any("::" in h for h in self.headers) else ":"
        for header in self.headers:
            if not header:
                continue
            base, separator, rest = header.partition(delimiter)
            base = "_".join(base.split()).lower()  # pyxform's to_snake_case: 'list name' -> 'list_name'
            if base in ("media", *RAW_COLUMNS) and separator:  # media::image[::language], bind::x
                kind, _, rest = rest.partition(delimiter)
                base = f"{base}::{kind.strip().lower()}" if base in RAW_COLUMNS else kind.strip().lower()
                separator = ""
            base = aliases.get(base, base)
            code: str | None = default_language
            if separator:
                code = language_code(rest)
                if code is None:
                    unknown.append((header, rest.strip()))
                    continue
            self.columns.setdefault(base, []).append((header, code))


MAX_COLUMNS = 200
MAX_UNZIPPED = 64 * 1024 * 1024  # an XLSForm of 20,000 rows is a few MB of XML
MAX_ENTRIES = 500


def _reasonable_archive(data: bytes) -> bool:
    """An .xlsx is a zip: one that would inflate to more than MAX_UNZIPPED (a zip bomb) is not opened."""
    import zipfile

    with zipfile.ZipFile(BytesIO(data)) as archive:
        entries = archive.infolist()
        return len(entries) <= MAX_ENTRIES and sum(e.file_size for e in entries) <= MAX_UNZIPPED


def load_sheets(data: bytes) -> dict[str, Sheet] | None:
    """The survey, choices, settings and scoring sheets by lower-case name; None for a file that is no .xlsx."""
    import zipfile

    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        if not _reasonable_archive(data):
            return None
        workbook = load_workbook(BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, TypeError):
        return None
    sheets: dict[str, Sheet] = {}
    try:
        for worksheet in workbook.worksheets:
            name = worksheet.title.strip().lower()
            if name not in (SURVEY, CHOICES, SETTINGS, SCORING) or name in sheets:
                continue  # other sheets (external_choices, entities, an author's notes) are not read
            sheet = Sheet(title=worksheet.title, headers=[], rows=[])
            # A sheet's declared <dimension> is the file's word: openpyxl would pad every row out to it
            # (A1:XFD1048576 in a 5 KB file is 16,384 cells a row). Read what is there, MAX_COLUMNS wide.
            if not hasattr(worksheet, "reset_dimensions"):
                continue  # a chart sheet named like a form sheet
            worksheet.reset_dimensions()
            rows = worksheet.iter_rows(min_row=1, max_col=MAX_COLUMNS, values_only=True)
            for number, values in enumerate(rows, start=1):
                if number > MAX_ROWS + 1:
                    sheet.rows.append(Row(number, {"": "too many rows"}))  # reported by the reader
                    break
                texts = [cell_text(v) for v in values]
                if number == 1:
                    sheet.headers = texts
                    continue
                cells = {sheet.headers[i]: t for i, t in enumerate(texts) if t and i < len(sheet.headers)}
                cells.pop("", None)
                if cells:
                    sheet.rows.append(Row(number, cells))
            sheets[name] = sheet
    finally:
        workbook.close()
    return sheets


# ------------------------------------------------------------------------------------------ reader


@dataclass
class Expression:
    """An expression cell: checked once every question is known."""

    row: Row
    header: str
    text: str
    mode: str  # condition | constraint (reads '.') | filter (reads option attributes) | place (commune filter)
    question: dict[str, Any] | None  # the question it belongs to (constraint, filter)


@dataclass
class Node:
    """A row of the survey sheet placed in its group: a question, or a group with its children."""

    row: Row
    type: str
    name: str
    children: list[Node] = field(default_factory=list)

    @property
    def is_group(self) -> bool:
        return self.type == "begin_group"


class Reader:
    def __init__(self, survey_id: str | None) -> None:
        self.survey_id = survey_id
        self.problems: list[dict[str, Any]] = []
        self.languages: list[str] = ["vi"]
        self.default_language = "vi"
        self.lists: dict[str, list[dict[str, Any]]] = {}
        self.ids: dict[str, int] = {}  # question and matrix-row ids -> survey row
        self.group_rows: dict[str, int] = {}  # group names -> survey row
        self.expressions: list[Expression] = []
        self.survey = Sheet(SURVEY, [], [])

    def add(self, sheet: Sheet | str | None, row: int | None, column: str | None, key: str, **fill: Any) -> None:
        vi, en = MESSAGES[key]
        self.problems.append(
            {
                "sheet": sheet.title if isinstance(sheet, Sheet) else sheet,
                "row": row,
                "column": column,
                "message": vi.format(**fill),
                "message_en": en.format(**fill),
            }
        )

    def at(self, row: Row, column: str, key: str, **fill: Any) -> None:
        """A problem in a cell of the survey sheet."""
        self.add(self.survey, row.number, self.survey.header(column) or column, key, **fill)

    # ----------------------------------------------------------------------- whole file
    def read(self, data: bytes) -> dict[str, Any]:
        sheets = load_sheets(data)
        if sheets is None:
            self.add(None, None, None, "not_xlsx")
            return {}
        if SURVEY not in sheets:
            self.add(None, None, None, "no_survey")
            return {}
        for loaded in sheets.values():
            if loaded.rows and "" in loaded.rows[-1].cells:
                self.add(loaded, loaded.rows.pop().number, None, "too_many_rows", limit=MAX_ROWS)
        self.survey = survey = sheets[SURVEY]
        choices, settings, scoring = sheets.get(CHOICES), sheets.get(SETTINGS), sheets.get(SCORING)
        settings_row = self._settings_row(settings)
        self._default_language(settings, settings_row)
        unknown: list[tuple[str, str]] = []
        for sheet, aliases in ((survey, SURVEY_ALIASES), (choices, CHOICES_ALIASES), (settings, {}), (scoring, {})):
            if sheet is not None:
                sheet.index(aliases, self.default_language, unknown)
                for header, spec in unknown:
                    self.add(sheet, 1, header, "unknown_language", spec=spec)
                unknown.clear()
                self._collect_languages(sheet)
        if "type" not in survey.columns or "name" not in survey.columns:
            self.add(survey, 1, None, "survey_columns")
            return {}
        _rename_reserved(survey, scoring)
        if choices is not None:
            self._read_choices(choices)
        definition = self._read_settings(settings, settings_row)
        definition["status"] = "draft"
        definition["sections"] = self._read_survey(survey, definition["title"])
        if scoring is not None and scoring.rows:
            definition["scoring"] = self._read_scoring(scoring, settings, settings_row)
        self._check_expressions(definition)
        if not self.problems:
            self._check_definition(definition)
        return definition

    def _collect_languages(self, sheet: Sheet) -> None:
        for base, columns in sheet.columns.items():
            if base in TRANSLATED or base in TRANSLATED_SETTINGS or base.endswith("_label"):
                self.languages.extend(code for _, code in columns if code and code not in self.languages)

    def text(self, sheet: Sheet, row: Row, base: str) -> dict[str, str]:
        """A translatable column in one row: {"vi": ..., "en": ...} in the survey's language order."""
        found: dict[str, str] = {}
        for header, code in sheet.columns.get(base, []):
            value = row.cells.get(header, "")
            if value and code and code not in found:
                found[code] = value
        return {code: found[code] for code in self.languages if code in found}

    def required_text(self, sheet: Sheet, row: Row, base: str, what_vi: str, what_en: str) -> dict[str, str]:
        """A text that must exist in some language: its cell is reported when empty in every language.

        A text without Vietnamese imports (a draft of a form written in English, say); publishing is refused
        until every language the survey lists, Vietnamese first, is filled (Survey.missing_translations).
        """
        text = self.text(sheet, row, base)
        if not text:
            headers = [h for h, _ in sheet.columns.get(base, [])]
            vi = next((h for h, code in sheet.columns.get(base, []) if code == "vi"), None)
            self.add(
                sheet, row.number, vi or (headers[0] if headers else base), "no_label", what_vi=what_vi, what_en=what_en
            )
        return text

    # ----------------------------------------------------------------------- settings
    def _settings_row(self, settings: Sheet | None) -> Row | None:
        if settings is None or not settings.rows:
            return None
        if len(settings.rows) > 1:
            self.add(settings, settings.rows[1].number, None, "one_settings_row")
        return settings.rows[0]

    def _default_language(self, settings: Sheet | None, row: Row | None) -> None:
        if settings is None or row is None:
            return
        header = next((h for h in settings.headers if h.strip().lower() == "default_language"), None)
        spec = row.cells.get(header or "", "")
        if spec:
            code = language_code(spec)
            if code is None:
                self.add(settings, row.number, header, "unknown_language", spec=spec)
            else:
                self.default_language = code

    def _read_settings(self, settings: Sheet | None, row: Row | None) -> dict[str, Any]:
        sheet: Sheet = settings or Sheet(SETTINGS, [], [])
        row = row or Row(2, {})

        def value(column: str) -> str:
            return sheet.value(row, column)

        def bad(column: str, key: str, **fill: Any) -> None:
            self.add(sheet, row.number, sheet.header(column) or column, key, **fill)

        definition: dict[str, Any] = {}
        survey_id = self.survey_id or value("form_id")
        if not survey_id:
            bad("form_id", "no_form_id")
        elif not SURVEY_ID_RE.match(survey_id):
            bad("form_id", "bad_form_id", value=survey_id)
        definition["id"] = survey_id
        # The platform numbers a survey's versions itself (the authoring service gives an upload its number);
        # an XLSForm's own 'version' is often a date stamp (KoboToolbox: 2026113001) or text ('v2', '1.3').
        # A small whole number is kept (exports round-trip); anything else reads as 1.
        version = value("version")
        definition["version"] = int(version) if version.isdigit() and 1 <= int(version) < 10**6 else 1
        for key in ("kind", "owner_agency"):
            if value(key):
                definition[key] = value(key)
        if definition.get("kind", "regular") not in ("regular", "adhoc", "consultation"):
            bad("kind", "bad_kind")
        topic = self.text(sheet, row, "topic")
        if topic:
            definition["topic"] = topic
        definition["languages"] = list(self.languages)
        definition["methodology"] = {
            "id": value("methodology") or "custom",
            "version": value("methodology_version") or "1",
        }
        title = self.text(sheet, row, "survey_title")
        if value("form_title"):
            title = {self.default_language: value("form_title"), **title}
        if not title:
            title["vi"] = survey_id or "?"  # pyxform's rule too: no form_title, the form id is the title
        definition["title"] = {code: title[code] for code in self.languages if code in title}
        description = self.text(sheet, row, "description")
        if description:
            definition["description"] = description
        for key in ("opens_at", "closes_at"):
            if value(key):
                definition[key] = value(key)
                if "T" not in value(key):
                    bad(key, "bad_instant", value=value(key))
        if value("geography"):
            definition["geography"] = value("geography")
        days = value("retention_days")
        if days:
            if days.isdigit() and 1 <= int(days) <= 3650:
                definition["retention_days"] = int(days)
            else:
                bad("retention_days", "bad_retention")
        screening: dict[str, Any] = {}
        for column, (key, kind) in SCREENING_COLUMNS.items():
            if value(column):
                try:
                    screening[key] = kind(value(column))
                except ValueError:
                    bad(column, "not_number", value=value(column))
        if screening:
            definition["screening"] = screening
        return definition

    # ----------------------------------------------------------------------- choices
    def _read_choices(self, choices: Sheet) -> None:
        reserved = {"list_name", "name", "label", "not_applicable", "other_text", *MEDIA}
        filter_headers = [h for base, cols in choices.columns.items() if base not in reserved for h, _ in cols]
        for base in MEDIA:
            for header, _ in choices.columns.get(base, []):
                if any(header in row.cells for row in choices.rows):
                    self.add(choices, 1, header, "choice_media")
        if "list_name" not in choices.columns or "name" not in choices.columns:
            self.add(choices, 1, None, "choices_columns")
            return
        name_header = choices.header("name")
        seen: set[tuple[str, str]] = set()
        for row in choices.rows:
            list_name, name = choices.value(row, "list_name"), choices.value(row, "name")
            if not list_name:
                self.add(choices, row.number, choices.header("list_name"), "no_list_name")
                continue
            options = self.lists.setdefault(list_name, [])
            if list_name in (PROVINCE_LIST, COMMUNE_LIST):
                continue  # generated from the geography (see PROVINCE_LIST)
            if not name:
                self.add(choices, row.number, name_header, "no_choice_name")
                continue
            if not VALUE_RE.match(name):
                self.add(choices, row.number, name_header, "bad_choice_name", value=name)
                continue
            if (list_name, name) in seen:
                self.add(choices, row.number, name_header, "duplicate_choice", value=name, list=list_name)
                continue
            seen.add((list_name, name))
            label = self.required_text(choices, row, "label", "nhãn phương án", "choice label")
            option: dict[str, Any] = {"value": name, "label": label}
            for flag in ("other_text", "not_applicable"):
                raw = choices.value(row, flag)
                parsed = parse_bool(raw)
                if parsed is None:
                    self.add(choices, row.number, choices.header(flag), "not_yes_no", value=raw)
                elif parsed:
                    option[flag] = True
            attributes = {header: row.cells[header] for header in filter_headers if header in row.cells}
            for header, text in attributes.items():
                if len(text) > 200:
                    self.add(choices, row.number, header, "long_filter")
            if len(attributes) > 20:
                self.add(choices, row.number, None, "many_filters")
            if attributes:
                option["filter"] = attributes
            options.append(option)

    # ----------------------------------------------------------------------- survey
    def _tree(self, survey: Sheet) -> list[Node]:
        """The survey rows nested by begin_group/end_group; repeats are reported and their rows skipped."""
        root: list[Node] = []
        stack: list[Node] = []
        skipping = 0  # depth inside a repeat
        for row in survey.rows:
            kind = " ".join(survey.value(row, "type").lower().split())
            for spaced in ("begin group", "end group", "begin repeat", "end repeat", "begin loop", "end loop"):
                kind = kind.replace(spaced, spaced.replace(" ", "_"))
            if not kind:
                self.at(row, "type", "no_type")
            elif kind.split(" ")[0] in ("begin_repeat", "begin_loop"):
                if not skipping:
                    self.at(row, "type", "repeat")
                skipping += 1
            elif kind.split(" ")[0] in ("end_repeat", "end_loop"):
                if skipping:
                    skipping -= 1
                else:
                    self.at(row, "type", "unmatched_end", what=kind)
            elif skipping:
                skipping += {"begin_group": 1, "end_group": -1}.get(kind, 0)
            elif kind == "end_group":
                if stack:
                    stack.pop()
                else:
                    self.at(row, "type", "unmatched_end", what=kind)
            else:
                node = Node(row=row, type=kind, name=survey.value(row, "name"))
                (stack[-1].children if stack else root).append(node)
                if kind == "begin_group":
                    stack.append(node)
        for node in stack:
            self.at(node.row, "type", "unclosed_group", name=node.name)
        return root

    def _collect_ids(self, nodes: list[Node]) -> None:
        for node in nodes:
            if node.is_group:
                self.group_rows.setdefault(node.name, node.row.number)
                self._collect_ids(node.children)
            elif node.name and node.type not in METADATA_TYPES:
                if node.name in self.ids:
                    self.at(node.row, "name", "duplicate_name", name=node.name, first=self.ids[node.name])
                else:
                    self.ids[node.name] = node.row.number

    def _read_survey(self, survey: Sheet, title: dict[str, str]) -> list[dict[str, Any]]:
        tree = self._tree(survey)
        self._collect_ids(tree)
        sections: list[dict[str, Any]] = []
        loose: list[Node] = []  # questions outside any group form implicit sections titled like the form

        def flush() -> None:
            questions = self._questions(loose, None)
            if questions:
                sections.append({"id": f"section_{len(sections) + 1}", "title": dict(title), "questions": questions})
            loose.clear()

        for node in tree:
            if not node.is_group:
                loose.append(node)
                continue
            flush()
            section = self._section(node)
            if section is not None:
                sections.append(section)
        flush()
        if not sections and not self.problems:
            self.add(survey, None, None, "no_questions")
        return sections

    def _check_name(self, node: Node) -> bool:
        if not node.name:
            self.at(node.row, "name", "no_name")
            return False
        if not ID_RE.match(node.name):
            self.at(node.row, "name", "bad_name", name=node.name)
            return False
        return True

    def _section(self, group: Node) -> dict[str, Any] | None:
        self._check_name(group)
        label = self.text(self.survey, group.row, "label")
        if label and "vi" not in label:
            self.required_text(self.survey, group.row, "label", "tiêu đề phần", "group label")
        section: dict[str, Any] = {"id": group.name, "title": label or {"vi": group.name or "?"}}
        intro = self.text(self.survey, group.row, "hint")
        if intro:
            section["intro"] = intro
        relevant = self._expression(group.row, "relevant")
        if relevant:
            section["relevant"] = relevant
        self._refuse(group.row, ("required", "constraint", "choice_filter"), "group_column")
        section["questions"] = self._questions(group.children, None)
        if not section["questions"]:
            self.at(group.row, "type", "empty_group", name=group.name)
            return None
        return section

    def _refuse(self, row: Row, columns: Iterable[str], key: str) -> None:
        for column in columns:
            if self.survey.value(row, column):
                self.at(row, column, key, col=column)

    def _questions(self, nodes: list[Node], inherited: str | None) -> list[dict[str, Any]]:
        """The questions of a section: a nested group is a matrix, or else its questions join the section."""
        questions: list[dict[str, Any]] = []
        for node in nodes:
            if not node.is_group:
                question = self._question(node)
            elif (scale := self._matrix_list(node)) is not None:
                question = self._matrix(node, scale)
            else:
                # The group's relevant goes to each of its questions; its label, if any, becomes a note.
                relevant = self._expression(node.row, "relevant")
                self._refuse(node.row, ("required", "constraint", "choice_filter"), "group_column")
                combined = _and(inherited, relevant)
                label = self.text(self.survey, node.row, "label")
                if label and node.name not in self.ids and ID_RE.match(node.name):
                    note: dict[str, Any] = {"id": node.name, "type": "note", "text": label}
                    questions.append({**note, "relevant": combined} if combined else note)
                questions.extend(self._questions(node.children, combined))
                continue
            if question is not None:
                if inherited:
                    question["relevant"] = _and(inherited, question.get("relevant"))
                questions.append(question)
        return questions

    def _select(self, node: Node) -> tuple[str, str, bool] | None:
        """('select_one' or 'select_multiple', list name, or_other) of a select question, else None."""
        found = SELECT_RE.match(node.type)
        if not found:
            return None
        verb = "select_one" if found.group(1) in SELECT_ONE else "select_multiple"
        words = self.survey.value(node.row, "type").split()  # the list name as written (case kept)
        return verb, words[len(found.group(1).split())], bool(found.group(3))

    def _matrix_list(self, group: Node) -> str | None:
        """The shared list of a table-list/field-list group of select_one rows (a matrix), else None."""
        appearance = set(self.survey.value(group.row, "appearance").split())
        if not ({"table-list", "field-list"} & appearance) or not group.children:
            return None
        if "table-list" not in appearance and len(group.children) < 2:
            return None  # a page of one question is that question
        lists = set()
        for child in group.children:
            select = None if child.is_group else self._select(child)
            if select is None or select[0] != "select_one" or select[1] in (PROVINCE_LIST, COMMUNE_LIST):
                return None
            if "table-list" not in appearance and not self._fits_a_row(child):
                return None  # a field-list page of questions that happen to share a list: read as questions
            lists.add(select[1])
        return lists.pop() if len(lists) == 1 else None

    def _fits_a_row(self, child: Node) -> bool:
        """Whether a question says nothing a matrix row cannot hold (a hint, a constraint, a required rule...)."""
        row = child.row
        if self.text(self.survey, row, "hint") or parse_bool(self.survey.value(row, "required")) is None:
            return False
        select = self._select(child)
        columns = ("constraint", "choice_filter", *PAR_QUESTION_COLUMNS)
        return not any(self.survey.value(row, column) for column in columns) and not (select and select[2])

    def _matrix(self, group: Node, list_name: str) -> dict[str, Any] | None:
        row = group.row
        ok = self._check_name(group)
        if group.name in self.ids:
            self.at(row, "name", "duplicate_name", name=group.name, first=self.ids[group.name])
        question: dict[str, Any] = {
            "id": group.name,
            "type": "matrix",
            "text": self.required_text(self.survey, row, "label", "nội dung câu hỏi", "matrix label"),
        }
        self._common(row, question)
        self._refuse(row, ("constraint", "choice_filter"), "group_column")
        appearance = [a for a in self.survey.value(row, "appearance").split() if a not in ("table-list", "field-list")]
        if appearance:
            question["appearance"] = " ".join(appearance)
        scale = self._options(group.children[0], list_name)
        if scale is not None:
            question["scale"] = scale
            if len(scale) < 2:
                self.at(row, "type", "few_points", list=list_name)
        rows: list[dict[str, Any]] = []
        for child in group.children:
            if not self._check_name(child):
                ok = False
                continue
            if self._select(child) == ("select_one", list_name, True):
                self.at(child.row, "type", "row_or_other")
            matrix_row: dict[str, Any] = {
                "id": child.name,
                "text": self.required_text(self.survey, child.row, "label", "nội dung hàng", "row label"),
            }
            required = parse_bool(self.survey.value(child.row, "required"))
            if required is None:
                self.at(child.row, "required", "row_required")
            elif required != bool(question.get("required")):
                matrix_row["required"] = required
            relevant = self._expression(child.row, "relevant")
            if relevant:
                matrix_row["relevant"] = relevant
            self._refuse(child.row, ("constraint", "choice_filter", *PAR_QUESTION_COLUMNS), "row_column")
            if self.text(self.survey, child.row, "hint"):
                self.at(child.row, "hint", "row_column", col="hint")
            self._refuse(child.row, UNSUPPORTED_COLUMNS, "unsupported_column")
            self._refuse_media(child.row)
            rows.append(matrix_row)
        question["rows"] = rows
        return question if ok else None

    def _options(self, node: Node, list_name: str) -> list[dict[str, Any]] | None:
        if list_name not in self.lists:
            self.at(node.row, "type", "unknown_list", list=list_name)
            return None
        if not self.lists[list_name]:
            self.at(node.row, "type", "empty_list", list=list_name)
            return None
        return copy.deepcopy(self.lists[list_name])

    def _common(self, row: Row, question: dict[str, Any]) -> None:
        """help, required / required_if, relevant: the columns every question and a matrix share."""
        help_text = self.text(self.survey, row, "hint")
        if help_text:
            question["help"] = help_text
        raw = self.survey.value(row, "required")
        required = parse_bool(raw)
        if required:
            question["required"] = True
        elif required is None:
            question["required_if"] = self._expression(row, "required", question)
        relevant = self._expression(row, "relevant", question)
        if relevant:
            question["relevant"] = relevant

    def _expression(self, row: Row, column: str, question: dict[str, Any] | None = None) -> str | None:
        """The expression of a cell, kept as written and queued for the checks once every question is known."""
        raw = self.survey.value(row, column)
        if raw:
            mode = {"constraint": "constraint", "choice_filter": "filter"}.get(column, "condition")
            self.expressions.append(Expression(row, self.survey.header(column) or column, raw, mode, question))
        return raw or None

    def _refuse_media(self, row: Row) -> None:
        """Media and raw XForm columns (bind::…, body::…) the model has no place for."""
        for base, columns in self.survey.columns.items():
            if base in MEDIA or base.partition("::")[0] in RAW_COLUMNS:
                for header, _ in columns:
                    if header in row.cells:
                        self.add(self.survey, row.number, header, "unsupported_column", col=header)

    def _question(self, node: Node) -> dict[str, Any] | None:
        row = node.row
        if node.type in METADATA_TYPES:
            return None
        select = self._select(node)
        base_type = SIMPLE_TYPES.get(node.type)
        if select is None and base_type is None:
            self.at(row, "type", "unsupported_type", type=self.survey.value(row, "type"))
            return None
        if not self._check_name(node):
            return None
        self._refuse(row, UNSUPPORTED_COLUMNS, "unsupported_column")
        self._refuse_media(row)
        appearance = self.survey.value(row, "appearance").split()
        question: dict[str, Any] = {"id": node.name, "type": base_type or "single_choice"}
        question["text"] = self.required_text(self.survey, row, "label", "nội dung câu hỏi", "question label")
        self._common(row, question)
        constraint = self._expression(row, "constraint", question)
        if constraint:
            question["constraint"] = constraint
        message = self.text(self.survey, row, "constraint_message")
        if message:
            question["constraint_message"] = message
        choice_filter = self.survey.value(row, "choice_filter")
        if select is not None:
            appearance = self._choice(node, question, select, choice_filter, appearance)
        elif choice_filter:
            self.at(row, "choice_filter", "filter_not_select")
        if question["type"] == "text" and "multiline" in appearance:
            question["type"] = "long_text"
            appearance = [a for a in appearance if a != "multiline"]
        if appearance:
            question["appearance"] = " ".join(appearance)
        self._par_columns(row, question)
        return question

    def _choice(
        self,
        node: Node,
        question: dict[str, Any],
        select: tuple[str, str, bool],
        choice_filter: str,
        appearance: list[str],
    ) -> list[str]:
        """Fill a select question: place picker, yes/no, rating, single or multi choice. Returns the appearance left."""
        row = node.row
        verb, list_name, or_other = select
        if verb == "select_one" and list_name in (PROVINCE_LIST, COMMUNE_LIST):
            question["type"] = "place"
            question["level"] = "province" if list_name == PROVINCE_LIST else "commune"
            if or_other:
                self.at(row, "type", "place_or_other")
            if choice_filter and list_name == PROVINCE_LIST:
                self.at(row, "choice_filter", "province_filter")
            elif choice_filter:
                parent = COMMUNE_FILTER_RE.match(choice_filter)
                if parent is None:
                    self.at(row, "choice_filter", "commune_filter")
                else:
                    question["parent"] = parent.group(1)
                    header = self.survey.header("choice_filter") or "choice_filter"
                    self.expressions.append(Expression(row, header, choice_filter, "place", question))
            return appearance
        options = self._options(node, list_name)
        values = [o["value"] for o in options or []]
        if or_other and "other" in values:
            self.at(row, "type", "has_other", list=list_name)
        elif or_other and options is not None:
            label = {code: OTHER_LABEL[code] for code in self.languages if code in OTHER_LABEL}
            options.append({"value": "other", "label": label, "other_text": True})
        if verb == "select_multiple":
            question["type"] = "multi_choice"
        elif sorted(values) == ["no", "yes"] and not or_other:
            question["type"] = "yes_no"
        elif "likert" in appearance:
            question["type"] = "rating"
            appearance = [a for a in appearance if a != "likert"]
        if question["type"] == "rating" and options is not None:
            question["scale"] = options
            if len(options) < 2:
                self.at(row, "type", "few_points", list=list_name)
        elif question["type"] != "yes_no" and options is not None:
            question["options"] = options
        if choice_filter:
            question["choice_filter"] = self._expression(row, "choice_filter", question)
        return appearance

    def _par_columns(self, row: Row, question: dict[str, Any]) -> None:
        qtype = question["type"]
        for column, types in PAR_COLUMN_TYPES.items():
            raw = self.survey.value(row, column)
            if not raw:
                continue
            if qtype not in types:
                self.at(row, column, "par_column_type", col=column)
            elif column == "personal_data":
                flag = parse_bool(raw)
                if flag is None:
                    self.at(row, column, "not_yes_no", value=raw)
                elif flag:
                    question["personal_data"] = True
            elif column in ("max_length", "max_choices"):
                limit = 5000 if column == "max_length" else 10_000
                if raw.isdigit() and 1 <= int(raw) <= limit:
                    question[column] = int(raw)
                else:
                    self.at(row, column, "not_whole", value=raw, limit=limit)
            elif qtype == "date":
                if DATE_RE.match(raw):
                    question[column] = raw
                else:
                    self.at(row, column, "not_date", value=raw)
            else:
                number = parse_number(raw, integer=qtype == "integer")
                if number is None:
                    self.at(row, column, "not_number", value=raw)
                else:
                    question[column] = number

    # ----------------------------------------------------------------------- scoring
    def _read_scoring(self, sheet: Sheet, settings: Sheet | None, settings_row: Row | None) -> dict[str, Any]:
        where = (settings or SETTINGS, settings_row.number if settings_row else 2)
        positive = settings.value(settings_row, "scoring_positive_values") if settings and settings_row else ""
        if not positive:
            self.add(*where, "scoring_positive_values", "no_positive_values")
        scoring: dict[str, Any] = {"positive_values": positive.replace(",", " ").split()}
        rule = settings.value(settings_row, "scoring_overall_rule") if settings and settings_row else ""
        if rule:
            if rule not in ("mean_of_parts", "mean_of_elements", "mean_of_items"):
                self.add(*where, "scoring_overall_rule", "bad_overall_rule")
            scoring["overall_rule"] = rule
        if any(column not in sheet.columns for column in ("part", "element", "item")):
            self.add(sheet, 1, None, "scoring_columns")
            scoring["parts"] = []
            return scoring
        parts: dict[str, dict[str, Any]] = {}
        elements: dict[tuple[str, str], dict[str, Any]] = {}
        for row in sheet.rows:
            part_id, element_id, item = (sheet.value(row, c) for c in ("part", "element", "item"))
            if not (part_id and element_id and item):
                self.add(sheet, row.number, None, "scoring_row")
                continue
            if item not in self.ids:
                self.add(sheet, row.number, sheet.header("item"), "unknown_item", item=item)
            if part_id not in parts:
                label = self.required_text(sheet, row, "part_label", "tên phần chỉ số", "part label")
                parts[part_id] = {"id": part_id, "label": label, "elements": []}
            element = elements.get((part_id, element_id))
            if element is None:
                label = self.required_text(sheet, row, "element_label", "tên lĩnh vực", "element label")
                element = elements[(part_id, element_id)] = {"id": element_id, "label": label, "items": []}
                parts[part_id]["elements"].append(element)
            element["items"].append(item)
        scoring["parts"] = list(parts.values())
        return scoring

    # ----------------------------------------------------------------------- checks
    def _check_expressions(self, definition: dict[str, Any]) -> None:
        """Each expression against the questions it names, then through the platform's own compiler (logic.py)."""
        from chalicelib.domain.logic import ExpressionError, Target, compile_condition
        from chalicelib.domain.survey import QUESTION_KINDS, YES_NO_OPTIONS

        targets: dict[str, Target] = {}
        for section in definition["sections"]:
            for q in section["questions"]:
                if q["type"] == "matrix":
                    scale = tuple(o["value"] for o in q.get("scale", []))
                    targets.update((r["id"], Target("single", scale)) for r in q["rows"])
                elif q["type"] in QUESTION_KINDS:
                    options: Iterable[dict[str, Any]] = q.get("options") or q.get("scale") or []
                    if q["type"] == "yes_no":
                        options = YES_NO_OPTIONS
                    targets[q["id"]] = Target(QUESTION_KINDS[q["type"]], tuple(str(o["value"]) for o in options))
        for expression in self.expressions:
            where = (self.survey, expression.row.number, expression.header)
            unknown = [name for name in REFERENCE_RE.findall(expression.text) if name not in self.ids]
            for name in unknown:
                self.add(*where, "group_reference" if name in self.group_rows else "unknown_reference", name=name)
            if unknown or expression.mode == "place":
                continue
            question = expression.question or {}
            try:
                if expression.mode == "filter":
                    for option in question.get("options") or []:
                        attrs = {**(option.get("filter") or {}), "name": option["value"]}
                        compile_condition(expression.text, targets.get, attrs=attrs)
                else:
                    own = question.get("id") if expression.mode == "constraint" else None
                    compile_condition(expression.text, targets.get, self_id=own)
            except ExpressionError as error:
                at = f" (vị trí {error.at + 1})" if error.at is not None else ""
                at_en = f" (position {error.at + 1})" if error.at is not None else ""
                self.add(*where, "invalid_expression", vi=error.message_vi + at, en=error.message_en + at_en)

    def _check_definition(self, definition: dict[str, Any]) -> None:
        """The schema and the domain's own checks, a last guard on what the reader let through."""
        from chalicelib.contracts import validator
        from chalicelib.domain.errors import InvalidDefinition
        from chalicelib.domain.survey import Survey

        try:
            validator("survey")(copy.deepcopy(definition))  # fastjsonschema fills in defaults in place
        except Exception as error:  # fastjsonschema.JsonSchemaException: the first fault
            message = str(getattr(error, "message", error))
            self.add(None, None, None, "invalid_definition", vi=message, en=message)
            return
        try:
            Survey.from_definition(definition)
        except InvalidDefinition as error:
            row, column = self._locate(definition, error.field or "")
            self.add(
                SURVEY if row else None, row, column, "invalid_definition", vi=error.message_vi, en=error.message_en
            )

    def _locate(self, definition: dict[str, Any], path: str) -> tuple[int | None, str | None]:
        """The survey row and column of a JSON path such as /sections/1/questions/2/rows/0/relevant."""
        steps = path.strip("/").split("/")
        node: Any = definition
        row: int | None = None
        column: str | None = None
        for step in steps:
            if isinstance(node, list) and step.isdigit() and int(step) < len(node):
                node = node[int(step)]
            elif isinstance(node, dict) and step in node:
                node = node[step]
            else:
                break
            if isinstance(node, dict) and isinstance(node.get("id"), str):
                row = self.ids.get(node["id"]) or self.group_rows.get(node["id"]) or row
            column = step if not step.isdigit() else column
        if column in ("sections", "questions", "rows", "id", "options", "scale"):
            column = "name" if column == "id" else "type"
        return row, (self.survey.header(column) or column) if column else None


def _and(first: str | None, second: str | None) -> str | None:
    if first and second:
        return f"({first}) and ({second})"
    return first or second
